//! The one API error type: a stable machine-readable `error` code, a human message, and
//! the offending field where there is one. 5xx bodies reveal nothing.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code: `invalid_body`, `invalid_field`, `invalid_query`, `payload_too_large`,
    /// `request_timeout`,
    /// `unauthorized`, `forbidden`, `not_found`, `conflict`, `rate_limited`, `internal`.
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidBody(String),
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    #[error("{0}")]
    InvalidQuery(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body did not arrive within {0} s")]
    SlowBody(u64),
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// Another record already has this value of `field`.
    #[error("{field}: another record already has this value")]
    Duplicate { field: &'static str },
    #[error("too many requests; try again in {0} s")]
    RateLimited(u64),
    /// The database is not answering (unreachable, or held by a lock): try again shortly.
    #[error("the database is not answering just now; try again in {0} s")]
    Unavailable(u64),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl ToString) -> Self {
        Self::InvalidField {
            field: field.into(),
            message: message.to_string(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::InvalidField { .. } => "invalid_field",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::SlowBody(_) => "request_timeout",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) | ApiError::Duplicate { .. } => "conflict",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// Each unique key people can run into, as SQLite names it (its columns) and as
/// PostgreSQL does (its constraint), with the request field that holds the value.
const UNIQUE_KEYS: &[(&str, &str, &str)] = &[
    (
        "helpline_numbers.number",
        "helpline_numbers_number_key",
        "number",
    ),
    ("volunteers.phone", "volunteers_phone_key", "phone"),
    ("volunteers.phone_hash", "volunteers_phone_hash", "phone"),
    (
        "topics.helpline_id, topics.key",
        "topics_helpline_key",
        "key",
    ),
    (
        "topics.helpline_id, topics.digit",
        "topics_helpline_digit",
        "digit",
    ),
    (
        "conflicts.volunteer_id, conflicts.number_hash",
        "conflicts_volunteer_number",
        "number",
    ),
    (
        "blocked_callers.helpline_id, blocked_callers.number_hash",
        "blocked_callers_helpline_number",
        "number",
    ),
];

/// The request field whose value another record already has, from the database's message.
fn duplicated_field(message: &str) -> Option<&'static str> {
    UNIQUE_KEYS
        .iter()
        .find(|(sqlite, postgres, _)| {
            message.ends_with(sqlite) || message.contains(&format!("\"{postgres}\""))
        })
        .map(|(_, _, field)| *field)
}

/// Seconds a client is asked to wait while the database is not answering.
const RETRY_WHILE_UNAVAILABLE: u64 = 5;

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if crate::storage::not_answering(&err) {
            tracing::warn!(error = %err, "the database is not answering an API request");
            return ApiError::Unavailable(RETRY_WHILE_UNAVAILABLE);
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => match duplicated_field(&message) {
                Some(field) => ApiError::Duplicate { field },
                None => ApiError::Conflict("this would duplicate an existing record".into()),
            },
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::Conflict(
                "this refers to, or is still referred to by, another record".into(),
            ),
            // SQLite reports an `ON DELETE RESTRICT` violation with its own extended code
            // (SQLITE_CONSTRAINT_TRIGGER), which sea-orm does not classify.
            _ if err.to_string().contains("FOREIGN KEY constraint failed") => {
                ApiError::Conflict("this is still referred to by another record".into())
            }
            _ => ApiError::Internal(err.into()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidBody(_)
            | ApiError::InvalidField { .. }
            | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::SlowBody(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::Duplicate { .. } => StatusCode::CONFLICT,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(source) = self {
            tracing::error!(error = ?source, "request failed");
        }
        let field = match self {
            ApiError::InvalidField { field, .. } => Some(field.clone()),
            ApiError::Duplicate { field } => Some((*field).to_owned()),
            _ => None,
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::RateLimited(wait) | ApiError::Unavailable(wait) = self {
            response.insert_header(("Retry-After", wait.to_string()));
        }
        response.json(ErrorBody {
            error: self.code(),
            message: self.to_string(),
            field,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_does_not_answer_is_a_503_to_retry_not_a_500() {
        let unreachable = DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        assert_eq!(
            ApiError::from(unreachable).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let locked =
            DbErr::Custom("error returned from database: (code: 5) database is locked".into());
        let answer = ApiError::from(locked).error_response();
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            answer.headers().get("Retry-After").map(|v| v.as_bytes()),
            Some(&b"5"[..])
        );
        let bug = DbErr::Custom("no such column: x".into());
        assert_eq!(
            ApiError::from(bug).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn a_duplicate_names_its_field_on_both_databases() {
        assert_eq!(
            duplicated_field("UNIQUE constraint failed: volunteers.phone"),
            Some("phone")
        );
        assert_eq!(
            duplicated_field(
                "duplicate key value violates unique constraint \"topics_helpline_digit\""
            ),
            Some("digit")
        );
        assert_eq!(
            duplicated_field("UNIQUE constraint failed: topics.helpline_id, topics.key"),
            Some("key")
        );
        assert_eq!(
            duplicated_field("UNIQUE constraint failed: other.thing"),
            None
        );
    }
}
