//! `/calendar/{token}.ics`: iCalendar feeds for phones' calendars — a volunteer's shifts
//! and leave, or a helpline's gaps for a coordinator. The secret token in the address is
//! the only credential (calendar apps send no other); it is stored hashed and revoked by
//! issuing a new one. A coordinator's feed stops when they no longer manage the helpline.

use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use sha2::{Digest, Sha256};

use crate::domain::calendar_feed::{gap_feed, gap_feed_span, volunteer_feed};
use crate::domain::gap_alert::GapAlert;
use crate::secrets::hash_token;
use crate::state::AppState;
use crate::storage::calendar_feeds::{self, Feed};
use crate::storage::{Scope, helplines, rota, volunteers};

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
    match serve(&state, token).await {
        Ok(Some((body, etag, changed_at))) => answer(&request, body, etag, changed_at),
        Ok(None) => not_found(),
        Err(error) => {
            tracing::error!(%error, "a calendar feed could not be read");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "60"))
                .finish()
        }
    }
}

/// The feed's content, its ETag and when that content was first served.
async fn serve(
    state: &AppState,
    token: &str,
) -> Result<Option<(String, String, DateTime<Utc>)>, DbErr> {
    let Some((feed, body)) = render(state, token).await? else {
        return Ok(None);
    };
    let etag = format!(
        "\"{}\"",
        URL_SAFE_NO_PAD.encode(Sha256::digest(body.as_bytes()))
    );
    let changed_at =
        calendar_feeds::content_served(&state.db, feed, &etag, state.clock.now()).await?;
    Ok(Some((body, etag, changed_at)))
}

/// The feed whose token this is, and its content.
async fn render(state: &AppState, token: &str) -> Result<Option<(Feed, String)>, DbErr> {
    let hash = hash_token(token);
    let now = state.clock.now();
    if let Some(feed) = calendar_feeds::volunteer_feed_for(&state.db, &hash).await? {
        let Some(row) = volunteers::get(&state.db, &Scope::All, feed.volunteer_id).await? else {
            return Ok(None);
        };
        let zone = volunteers::profile_of(&row)?.time_zone;
        let rota = rota::rota_of(&state.db, row.id, zone).await?;
        let body = volunteer_feed(row.id, &rota, now);
        return Ok(Some((Feed::Volunteer(feed.id), body)));
    }
    let Some(feed) = calendar_feeds::gap_feed_for(&state.db, &hash).await? else {
        return Ok(None);
    };
    let Some(row) = helplines::get(&state.db, &Scope::All, feed.helpline_id).await? else {
        return Ok(None);
    };
    let settings = helplines::settings_of(&row)?;
    let (overall, topics) =
        rota::coverage_of(&state.db, row.id, gap_feed_span(now), None, now).await?;
    let gaps = GapAlert::new(overall, topics);
    let body = gap_feed(
        (row.id, &settings.name),
        settings.time_zone.name(),
        &gaps,
        now,
    );
    Ok(Some((Feed::Gaps(feed.id), body)))
}

/// Whether the calendar app already holds this version: by ETag, or failing that by date.
fn already_held(request: &HttpRequest, etag: &str, changed_at: DateTime<Utc>) -> bool {
    let headers = request.headers();
    if let Some(tags) = headers.get(header::IF_NONE_MATCH) {
        return tags
            .to_str()
            .is_ok_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<HttpDate>().ok())
        .map(std::time::SystemTime::from);
    since.is_some_and(|since| changed_at.timestamp() <= DateTime::<Utc>::from(since).timestamp())
}

/// The feed, or 304 when the calendar app already holds this version.
fn answer(
    request: &HttpRequest,
    body: String,
    etag: String,
    changed_at: DateTime<Utc>,
) -> HttpResponse {
    let held = already_held(request, &etag, changed_at);
    let mut response = if held {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::LAST_MODIFIED,
            HttpDate::from(std::time::SystemTime::from(changed_at)),
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=900"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if held {
        return response.finish();
    }
    response
        .content_type("text/calendar; charset=utf-8")
        .body(body)
}
