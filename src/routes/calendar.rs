//! `/calendar/{token}.ics`: a volunteer's shifts and leave as an iCalendar feed for their
//! phone's calendar. The secret token in the address is the only credential (calendar
//! apps send no other); it is stored hashed and revoked by issuing a new one.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::domain::calendar_feed::volunteer_feed;
use crate::secrets::hash_token;
use crate::state::AppState;
use crate::storage::{Scope, calendar_feeds, rota, volunteers};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/calendar/{file}", web::get().to(feed));
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("No calendar at this address: it may have been replaced by a new one.")
}

async fn feed(
    state: web::Data<AppState>,
    request: HttpRequest,
    file: web::Path<String>,
) -> HttpResponse {
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found();
    };
    match render(&state, token).await {
        Ok(Some(body)) => answer(&request, body),
        Ok(None) => not_found(),
        Err(error) => {
            tracing::error!(%error, "a calendar feed could not be read");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "60"))
                .finish()
        }
    }
}

async fn render(state: &AppState, token: &str) -> Result<Option<String>, sea_orm::DbErr> {
    let Some(volunteer_id) = calendar_feeds::volunteer_for(&state.db, &hash_token(token)).await?
    else {
        return Ok(None);
    };
    let Some(row) = volunteers::get(&state.db, &Scope::All, volunteer_id).await? else {
        return Ok(None);
    };
    let zone = volunteers::profile_of(&row)?.time_zone;
    let rota = rota::rota_of(&state.db, volunteer_id, zone).await?;
    Ok(Some(volunteer_feed(volunteer_id, &rota, state.clock.now())))
}

/// The feed, or 304 when the calendar app already holds this version.
fn answer(request: &HttpRequest, body: String) -> HttpResponse {
    let etag = format!(
        "\"{}\"",
        URL_SAFE_NO_PAD.encode(Sha256::digest(body.as_bytes()))
    );
    let held = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut response = if held {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=900"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if held {
        return response.finish();
    }
    response
        .content_type("text/calendar; charset=utf-8")
        .body(body)
}
