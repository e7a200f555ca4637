//! Who is looking at a console page: the session cookie resolved to a `Principal` (the
//! same identity and scope the API uses), the anti-forgery check on every form, and the
//! console's errors, which are pages rather than JSON.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use sea_orm::DbErr;

use super::layout;
use crate::domain::access::Principal;
use crate::error::ApiError;
use crate::routes::rate_limit::client_address;
use crate::secrets::{constant_time_eq, hash_token};
use crate::state::AppState;
use crate::storage::sign_in;

pub const SESSION_COOKIE: &str = "peerline_session";
/// Carries the anti-forgery token of the sign-in forms, before there is a session.
pub const SIGN_IN_COOKIE: &str = "peerline_sign_in";
/// The hidden field every console form carries.
pub const FORM_TOKEN_FIELD: &str = "form_token";

/// A console request that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: the sign-in page.
    #[error("sign in first")]
    SignIn,
    /// A form without its anti-forgery token, or with another session's.
    #[error("this form has expired or did not come from this console; open the page again")]
    ForgedForm,
    #[error(transparent)]
    Refused(#[from] ApiError),
}

impl From<DbErr> for ConsoleError {
    fn from(err: DbErr) -> Self {
        ConsoleError::Refused(err.into())
    }
}

impl From<crate::domain::validate::FieldError> for ConsoleError {
    fn from(err: crate::domain::validate::FieldError) -> Self {
        ConsoleError::Refused(err.into())
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::ForgedForm => StatusCode::FORBIDDEN,
            ConsoleError::Refused(err) => err.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignIn => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/console/sign-in"))
                .finish(),
            ConsoleError::ForgedForm => {
                layout::problem(self.status_code(), "Form refused", &self.to_string())
            }
            ConsoleError::Refused(err) => {
                if let ApiError::Internal(source) = err {
                    tracing::error!(error = ?source, "console request failed");
                }
                let title = match err {
                    ApiError::NotFound(_) => "Not found",
                    ApiError::Forbidden(_) => "Not allowed",
                    ApiError::RateLimited(_) => "Please wait",
                    ApiError::Unavailable(_) => "Try again shortly",
                    ApiError::Internal(_) => "Something went wrong",
                    _ => "Please check",
                };
                let mut answer = layout::problem(err.status_code(), title, &err.to_string());
                if let ApiError::RateLimited(wait) | ApiError::Unavailable(wait) = err
                    && let Ok(value) = header::HeaderValue::from_str(&wait.to_string())
                {
                    answer.headers_mut().insert(header::RETRY_AFTER, value);
                }
                answer
            }
        }
    }
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value for the console: never readable by scripts, sent only with the
/// console's own requests and top-level navigation, and only over https when the server
/// is reached over https. `None` for a session-long cookie; `Some(0)` removes it.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let secure = if state.settings.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    format!("{name}={value}; Path=/console; HttpOnly; SameSite=Lax{age}{secure}")
}

/// The client's address, as the rate limits count it.
pub fn client_of(req: &HttpRequest, state: &AppState) -> String {
    let forwarded = req
        .headers()
        .get("X-Forwarded-For")
        .and_then(|v| v.to_str().ok());
    let peer = req.peer_addr().map(|a| a.ip());
    client_address(peer, forwarded, &state.settings.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// The fields of a submitted form, in order (a checkbox group repeats its name).
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The whole number in field `name`, or a 400 naming the field.
    pub fn number<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, ConsoleError> {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::field(name, "a whole number").into())
    }

    /// Field `name` read by `parse` (an absent field reads as empty), or a 400 naming the
    /// field with `parse`'s reason.
    pub fn parsed<T, E: ToString>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ConsoleError> {
        parse(self.get(name).unwrap_or_default()).map_err(|e| ApiError::field(name, e).into())
    }

    /// As [`FormFields::parsed`], for a field that may be left blank.
    pub fn optional<T, E: ToString>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ConsoleError> {
        self.get(name).map(|_| self.parsed(name, parse)).transpose()
    }

    /// Refuses the form unless it carries `expected` as its anti-forgery token.
    pub fn check_token(&self, expected: &str) -> Result<(), ConsoleError> {
        match self.get(FORM_TOKEN_FIELD) {
            Some(sent) if !expected.is_empty() && constant_time_eq(sent, expected) => Ok(()),
            _ => Err(ConsoleError::ForgedForm),
        }
    }
}

/// A signed-in person looking at the console.
pub struct Viewer {
    pub who: Principal,
    /// The anti-forgery token of this session, for the forms of the page.
    pub form_token: String,
}

impl Viewer {
    /// Reads a submitted form and refuses it unless it came from this session's pages.
    pub fn form(&self, body: &[u8]) -> Result<FormFields, ConsoleError> {
        let fields = FormFields::parse(body);
        fields.check_token(&self.form_token)?;
        Ok(fields)
    }
}

impl FromRequest for Viewer {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let secret = cookie(req, SESSION_COOKIE);
        Box::pin(async move {
            let (Some(state), Some(secret)) = (state, secret) else {
                return Err(ConsoleError::SignIn);
            };
            let session_hash = hash_token(&secret);
            let who = sign_in::session_holder(&state.db, &session_hash, state.clock.now())
                .await?
                .ok_or(ConsoleError::SignIn)?;
            Ok(Viewer {
                who,
                form_token: state.vault.form_token(&session_hash),
            })
        })
    }
}
