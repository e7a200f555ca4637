//! Request extractors that turn bad input into an `ApiError` naming the field: JSON bodies
//! (with a size limit) and query strings.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest JSON body the API accepts.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// How long a client may take to send a request body (API or webhook): a slow client
/// cannot hold a connection and a worker for longer.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A JSON body deserialised with the path of the first bad field in its error.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::InvalidBody(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ));
            }
            let bytes = tokio::time::timeout(BODY_TIMEOUT, body)
                .await
                .map_err(|_| ApiError::SlowBody(BODY_TIMEOUT.as_secs()))?
                .map_err(|_| ApiError::PayloadTooLarge(MAX_JSON_BODY))?;
            parse_json(&bytes).map(ValidJson)
        })
    }
}

/// The path of the first string in `value` that holds a NUL character (which no text
/// column can store).
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then_some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(name, field)| {
            let inner = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            nul_path(field, inner)
        }),
        _ => None,
    }
}

/// Parses JSON, naming the offending field on a bad value; text with a NUL character is
/// refused by field, as no database column can keep it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(path) = nul_path(&value, String::new())
    {
        let field = if path.is_empty() {
            ".".to_owned()
        } else {
            path
        };
        return Err(ApiError::field(field, "must not contain NUL characters"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        if inner.is_data() && path != "." {
            ApiError::field(path, message)
        } else {
            ApiError::InvalidBody(format!("malformed JSON body: {message}"))
        }
    })
}

/// The largest CSV body the API accepts (a rota of some tens of thousands of shifts).
pub const MAX_CSV_BODY: usize = 4 * 1024 * 1024;
/// How long a client may take to send a CSV body.
const CSV_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A `text/csv` body as UTF-8 text, without the byte-order mark spreadsheets write.
pub struct CsvBody(pub String);

impl FromRequest for CsvBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_csv = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/csv"));
        let body = web::Payload::from_request(req, payload);
        Box::pin(async move {
            if !is_csv {
                return Err(ApiError::InvalidBody(
                    "the body must be CSV (Content-Type: text/csv)".into(),
                ));
            }
            let read = async {
                let payload = body
                    .await
                    .map_err(|e| ApiError::InvalidBody(e.to_string()))?;
                payload
                    .to_bytes_limited(MAX_CSV_BODY)
                    .await
                    .map_err(|_| ApiError::PayloadTooLarge(MAX_CSV_BODY))?
                    .map_err(|e| ApiError::InvalidBody(e.to_string()))
            };
            let bytes = tokio::time::timeout(CSV_BODY_TIMEOUT, read)
                .await
                .map_err(|_| ApiError::SlowBody(CSV_BODY_TIMEOUT.as_secs()))??;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::InvalidBody("the CSV must be UTF-8 text".into()))?;
            if text.contains('\0') {
                return Err(ApiError::InvalidBody(
                    "the CSV must not contain NUL characters".into(),
                ));
            }
            Ok(CsvBody(
                text.strip_prefix('\u{feff}')
                    .map(str::to_owned)
                    .unwrap_or(text),
            ))
        })
    }
}

/// A query string deserialised with the name of the bad parameter in its error.
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        ));
        std::future::ready(
            serde_path_to_error::deserialize(de)
                .map(ValidQuery)
                .map_err(|err| {
                    let path = err.path().to_string();
                    let message = strip_position(&err.into_inner().to_string());
                    if path == "." {
                        ApiError::InvalidQuery(message)
                    } else {
                        ApiError::field(path, message)
                    }
                }),
        )
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_a_nul_character_is_refused_by_field() {
        let err = parse_json::<serde_json::Value>(
            br#"{"name": "A", "routing": {"notes": ["ok", "b\u0000d"]}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "routing.notes[1]: must not contain NUL characters"
        );
        assert!(parse_json::<serde_json::Value>(br#"{"name": "\\u0000 is fine escaped"}"#).is_ok());
    }
    use crate::domain::phone::E164;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        phone: E164,
    }

    #[test]
    fn bad_field_is_named() {
        match parse_json::<Body>(br#"{"name":"A","phone":"12"}"#) {
            Err(ApiError::InvalidField { field, message }) => {
                assert_eq!(field, "phone");
                assert!(
                    message.contains("not a valid international phone number"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_and_missing_are_body_errors() {
        assert!(matches!(
            parse_json::<Body>(b"{nope"),
            Err(ApiError::InvalidBody(_))
        ));
        match parse_json::<Body>(br#"{"name":"A"}"#) {
            Err(ApiError::InvalidBody(m)) => assert!(m.contains("missing field `phone`"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
