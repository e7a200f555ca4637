//! `/twilio/voice/survey`: a caller's key press at a question after their call.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use super::voice::{for_caller, query, unreadable_call};
use crate::domain::ids::ContactId;
use crate::state::AppState;
use crate::telephony::webhook::{SignedForm, WebhookError};
use crate::voice::flow;

#[derive(Deserialize)]
struct SurveyQuery {
    contact: ContactId,
    question: i32,
}

#[post("/twilio/voice/survey")]
pub async fn survey(
    state: web::Data<AppState>,
    form: SignedForm,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, WebhookError> {
    let q: SurveyQuery = match query(&req) {
        Ok(q) => q,
        Err(problem) => return Ok(unreadable_call(&state, &form, &problem)),
    };
    let digits = form.get("Digits").unwrap_or_default();
    let result = flow::survey_answer(&state, q.contact, q.question, digits);
    Ok(for_caller(&state, &form, result).await)
}
