//! Signing in and out of the console: a code texted to the phone on the person's record,
//! or a one-time link printed by `peerline login-link`. Codes and links last ten minutes,
//! work once, are stored only as keyed hashes, and attempts are limited per person and
//! per address. Every sign-in, failure and sign-out is audited.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::layout;
use super::session::{
    ConsoleError, FORM_TOKEN_FIELD, FormFields, SESSION_COOKIE, SIGN_IN_COOKIE, Viewer, client_of,
    cookie, set_cookie,
};
use crate::domain::ids::UserId;
use crate::domain::phone::E164;
use crate::domain::sign_in::{Attempt, CODE_LIFETIME, CodeKind, TooMany, may_attempt};
use crate::error::ApiError;
use crate::secrets::{generate_sign_in_code, generate_token, hash_token};
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::outbox::{self, NewMessage};
use crate::storage::sign_in::{self, AttemptRecord};
use crate::storage::{self, entities::user};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/sign-in", web::get().to(ask_for_phone))
        .route("/console/sign-in", web::post().to(send_code))
        .route("/console/sign-in/code", web::post().to(enter_code))
        .route("/console/sign-in/link", web::get().to(confirm_link))
        .route("/console/sign-in/link", web::post().to(follow_link))
        .route("/console/sign-out", web::post().to(sign_out));
}

/// The anti-forgery token of the sign-in forms: the one this browser already holds, or a
/// new one to be set with the page.
fn sign_in_token(req: &HttpRequest) -> (String, bool) {
    match cookie(req, SIGN_IN_COOKIE).filter(|t| t.len() >= 32) {
        Some(token) => (token, false),
        None => (generate_token().expose_secret().to_owned(), true),
    }
}

/// A sign-in page, carrying the browser's anti-forgery cookie.
fn sign_in_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    title: &str,
    body: impl FnOnce(&str) -> Markup,
) -> HttpResponse {
    let (token, is_new) = sign_in_token(req);
    let mut answer = layout::page_with_status(status, title, None, body(&token));
    if is_new
        && let Ok(value) =
            header::HeaderValue::from_str(&set_cookie(state, SIGN_IN_COOKIE, &token, None))
    {
        answer.headers_mut().append(header::SET_COOKIE, value);
    }
    answer
}

/// Reads a sign-in form, refusing it unless it carries this browser's token.
fn sign_in_form(req: &HttpRequest, body: &[u8]) -> Result<FormFields, ConsoleError> {
    let fields = FormFields::parse(body);
    fields.check_token(&cookie(req, SIGN_IN_COOKIE).unwrap_or_default())?;
    Ok(fields)
}

fn hidden_token(token: &str) -> Markup {
    html! { input type="hidden" name=(FORM_TOKEN_FIELD) value=(token); }
}

fn phone_form(token: &str, problem: Option<&str>) -> Markup {
    html! {
        @if let Some(problem) = problem { p class="problem" role="alert" { (problem) } }
        form method="post" action="/console/sign-in" {
            (hidden_token(token))
            label for="phone" { "Your mobile number" }
            p class="hint" id="phone-hint" { "The number on your Peerline record, with its country code, e.g. +44 7700 900123." }
            input id="phone" name="phone" type="tel" autocomplete="tel" required aria-describedby="phone-hint";
            button type="submit" { "Text me a sign-in code" }
        }
        p { "No phone on your record? An administrator can give you a one-time sign-in link." }
    }
}

async fn ask_for_phone(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    sign_in_page(&req, &state, StatusCode::OK, "Sign in", |token| {
        phone_form(token, None)
    })
}

fn too_many(why: TooMany) -> ConsoleError {
    let wait = u64::try_from(crate::domain::sign_in::ATTEMPT_WINDOW.num_seconds()).unwrap_or(900);
    tracing::warn!(?why, "console sign-in attempts limited");
    ConsoleError::Refused(ApiError::RateLimited(wait))
}

fn code_form(token: &str, phone: &str, problem: Option<&str>) -> Markup {
    html! {
        @if let Some(problem) = problem { p class="problem" role="alert" { (problem) } }
        form method="post" action="/console/sign-in/code" {
            (hidden_token(token))
            input type="hidden" name="phone" value=(phone);
            label for="code" { "Sign-in code" }
            input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required;
            button type="submit" { "Sign in" }
        }
        p { a href="/console/sign-in" { "Use another number, or send a new code" } }
    }
}

async fn send_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = sign_in_form(&req, &body)?;
    let Ok(phone) = E164::parse(form.get("phone").unwrap_or_default()) else {
        return Ok(sign_in_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            "Sign in",
            |token| {
                phone_form(
                    token,
                    Some(
                        "That is not a phone number we can text: write it with its country code, e.g. +44 7700 900123.",
                    ),
                )
            },
        ));
    };
    let now = state.clock.now();
    let address = client_of(&req, &state);
    let person = sign_in::person_with_phone(&state.db, &state.vault, &phone).await?;
    let recent =
        sign_in::recent_attempts(&state.db, &address, person.as_ref().map(|p| p.id), now).await?;
    may_attempt(Attempt::RequestCode, recent).map_err(too_many)?;
    let sent = match &person {
        Some(person) => text_code(&state, person, &phone, now).await?,
        None => false,
    };
    let attempt = AttemptRecord {
        address: &address,
        user_id: person.as_ref().map(|p| p.id),
        action: Attempt::RequestCode,
        succeeded: sent,
    };
    sign_in::record_attempt(&state.db, attempt, now).await?;
    // The same answer whether or not the number is known: the page reveals nobody.
    let phone_text = phone.as_str().to_owned();
    Ok(sign_in_page(
        &req,
        &state,
        StatusCode::OK,
        "Enter your code",
        move |token| {
            html! {
                p { "If " (phone.masked()) " is on a Peerline record, we have texted it a six-digit code. It works once, for 10 minutes." }
                (code_form(token, &phone_text, None))
            }
        },
    ))
}

/// Texts `person` a new code from one of their helplines' numbers; false when there is
/// no number to send it from.
async fn text_code(
    state: &AppState,
    person: &user::Model,
    phone: &E164,
    now: DateTime<Utc>,
) -> Result<bool, ConsoleError> {
    let Some(from) = sign_in::sending_number_for(&state.db, person).await? else {
        tracing::warn!(
            user = %person.id,
            "no helpline number to text a sign-in code from"
        );
        return Ok(false);
    };
    let code = generate_sign_in_code();
    let txn = storage::write_transaction(&state.db).await?;
    let hash = state.vault.hash_sign_in_secret(person.id, &code);
    sign_in::issue_secret(&txn, person.id, CodeKind::SmsCode, hash, now).await?;
    let body = format!(
        "Your Peerline sign-in code is {code}. It works for {} minutes. If you did not ask for it, ignore this text.",
        CODE_LIFETIME.num_minutes()
    );
    let message = NewMessage::to_phone(&state.vault, phone, from, "sign_in_code", body);
    outbox::enqueue(&txn, &state.vault, message, now).await?;
    txn.commit().await?;
    Ok(true)
}

async fn enter_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = sign_in_form(&req, &body)?;
    let phone_text = form.get("phone").unwrap_or_default().to_owned();
    let code = form.get("code").unwrap_or_default().to_owned();
    let now = state.clock.now();
    let address = client_of(&req, &state);
    let person = match E164::parse(&phone_text) {
        Ok(phone) => sign_in::person_with_phone(&state.db, &state.vault, &phone).await?,
        Err(_) => None,
    };
    let recent =
        sign_in::recent_attempts(&state.db, &address, person.as_ref().map(|p| p.id), now).await?;
    may_attempt(Attempt::EnterCode, recent).map_err(too_many)?;
    let accepted = match &person {
        Some(person) => {
            let hash = state.vault.hash_sign_in_secret(person.id, &code);
            sign_in::redeem(&state.db, person.id, CodeKind::SmsCode, &hash, now).await?
        }
        None => false,
    };
    let attempt = AttemptRecord {
        address: &address,
        user_id: person.as_ref().map(|p| p.id),
        action: Attempt::EnterCode,
        succeeded: accepted,
    };
    sign_in::record_attempt(&state.db, attempt, now).await?;
    match person {
        Some(person) if accepted => start_session(&req, &state, person.id, "code", now).await,
        _ => {
            if let Some(person) = &person {
                let entry = Audited::new("console_sign_in_failed")
                    .detail(serde_json::json!({ "by": "code", "address": address }));
                audit::record_for_user(&state.db, person.id, None, entry, now).await?;
            }
            Ok(sign_in_page(
                &req,
                &state,
                StatusCode::BAD_REQUEST,
                "Enter your code",
                |token| {
                    code_form(
                        token,
                        &phone_text,
                        Some(
                            "That code is wrong, used or out of date. Check the text, or send a new code.",
                        ),
                    )
                },
            ))
        }
    }
}

/// Starts a session for `user_id`, audits it, and sends the browser to its home page.
async fn start_session(
    req: &HttpRequest,
    state: &AppState,
    user_id: UserId,
    by: &str,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ConsoleError> {
    let secret = sign_in::start_session(&state.db, user_id, now).await?;
    let who = sign_in::session_holder(&state.db, &hash_token(secret.expose_secret()), now)
        .await?
        .ok_or(ConsoleError::SignIn)?;
    let entry = Audited::new("console_sign_in")
        .detail(serde_json::json!({ "by": by, "address": client_of(req, state) }));
    audit::record(&state.db, &who, entry, now).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console"))
        .append_header((
            header::SET_COOKIE,
            set_cookie(state, SESSION_COOKIE, secret.expose_secret(), None),
        ))
        .append_header((
            header::SET_COOKIE,
            set_cookie(state, SIGN_IN_COOKIE, "", Some(0)),
        ))
        .finish())
}

/// Issues a one-time sign-in link for `user_id` (for `peerline login-link`), good for ten
/// minutes. Audited.
pub async fn issue_link(
    db: &sea_orm::DatabaseConnection,
    numbers: &crate::secrets::Vault,
    public_url: &url::Url,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<String, sea_orm::DbErr> {
    let token = generate_token();
    let hash = numbers.hash_sign_in_secret(user_id, token.expose_secret());
    let txn = storage::write_transaction(db).await?;
    sign_in::issue_secret(&txn, user_id, CodeKind::Link, hash, now).await?;
    let entry = Audited::new("console_link_issued");
    audit::record_for_user(&txn, user_id, None, entry, now).await?;
    txn.commit().await?;
    Ok(format!(
        "{}/console/sign-in/link?user={user_id}&token={}",
        public_url.as_str().trim_end_matches('/'),
        token.expose_secret()
    ))
}

#[derive(Deserialize)]
struct LinkQuery {
    user: Option<i32>,
    token: Option<String>,
}

/// A sign-in link asks for one press before it is spent, so that a link previewer
/// fetching the address does not use it up.
async fn confirm_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LinkQuery>,
) -> HttpResponse {
    let (user, token) = (
        query.user.unwrap_or_default(),
        query.token.clone().unwrap_or_default(),
    );
    sign_in_page(
        &req,
        &state,
        StatusCode::OK,
        "Sign in with a link",
        move |form_token| {
            html! {
                form method="post" action="/console/sign-in/link" {
                    (hidden_token(form_token))
                    input type="hidden" name="user" value=(user);
                    input type="hidden" name="token" value=(token);
                    p { "This one-time link signs you in to the Peerline console." }
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

async fn follow_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = sign_in_form(&req, &body)?;
    let user_id = form.get("user").and_then(|u| u.parse::<UserId>().ok());
    let token = form.get("token").unwrap_or_default();
    let now = state.clock.now();
    let address = client_of(&req, &state);
    let recent = sign_in::recent_attempts(&state.db, &address, user_id, now).await?;
    may_attempt(Attempt::FollowLink, recent).map_err(too_many)?;
    let accepted = match user_id {
        Some(user_id) => {
            let hash = state.vault.hash_sign_in_secret(user_id, token);
            sign_in::redeem(&state.db, user_id, CodeKind::Link, &hash, now).await?
        }
        None => false,
    };
    let attempt = AttemptRecord {
        address: &address,
        user_id,
        action: Attempt::FollowLink,
        succeeded: accepted,
    };
    sign_in::record_attempt(&state.db, attempt, now).await?;
    match user_id {
        Some(user_id) if accepted => start_session(&req, &state, user_id, "link", now).await,
        _ => Ok(layout::problem(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This sign-in link is wrong, already used or out of date. Ask for a new one.",
        )),
    }
}

async fn sign_out(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    viewer.form(&body)?;
    let now = state.clock.now();
    audit::record(
        &state.db,
        &viewer.who,
        Audited::new("console_sign_out"),
        now,
    )
    .await?;
    sign_in::end_session(&state.db, viewer.who.token_id).await?;
    let mut answer = layout::page(
        "Signed out",
        None,
        html! { p { "You have signed out. " a href="/console/sign-in" { "Sign in again" } } },
    );
    if let Ok(value) =
        header::HeaderValue::from_str(&set_cookie(&state, SESSION_COOKIE, "", Some(0)))
    {
        answer.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(answer)
}
