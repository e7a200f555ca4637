//! The live board of a helpline: callers holding and for how long, phones ringing, calls
//! and texts under way; each volunteer free, on a contact, resting (until), paused or off
//! shift, as the router itself would judge a contact arriving now; how many are free per
//! topic; and the next coverage gap. The board refreshes itself every few seconds (htmx
//! polling); without JavaScript, a link reloads it.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::format::{day_and_time, stretch, time_of_day, words_of};
use super::layout::{self, fragment};
use super::session::{ConsoleError, Viewer};
use crate::contact_flow::candidates::{ActivityNow, as_candidates, engaged_on};
use crate::domain::ids::{HelplineId, TopicId, VolunteerId};
use crate::domain::live_board::{Availability, availability};
use crate::domain::rota::{Channel, Interval};
use crate::domain::routing::Activity;
use crate::error::ApiError;
use crate::routes::api::managed_helpline;
use crate::state::AppState;
use crate::storage::contacts::Stage;
use crate::storage::entities::helpline;
use crate::storage::rota::{self, RotaMember};
use crate::storage::{helplines, live};

/// How often the board refreshes itself.
const REFRESH_SECS: u32 = 5;
/// How far ahead the next gap is looked for.
const GAP_HORIZON: Duration = Duration::days(14);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/helplines/{id}/live", web::get().to(page))
        .route(
            "/console/helplines/{id}/live/board",
            web::get().to(board_only),
        );
}

fn board_url(helpline_id: HelplineId) -> String {
    format!("/console/helplines/{helpline_id}/live/board")
}

async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ConsoleError> {
    let helpline = managed_helpline(&state, &viewer.who, *id).await?;
    let board = board(&state, &helpline).await?;
    let name = helplines::settings_of(&helpline)?.name;
    let body = html! {
        p { a href={ "/console/helplines/" (helpline.id) "/live" } { "Reload" } " (the board also refreshes itself every " (REFRESH_SECS) " seconds)." }
        (board)
    };
    Ok(layout::page(&format!("Live · {name}"), Some(&viewer), body))
}

async fn board_only(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
) -> Result<HttpResponse, ConsoleError> {
    let helpline = managed_helpline(&state, &viewer.who, *id).await?;
    Ok(fragment(board(&state, &helpline).await?))
}

fn minutes_since(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_minutes().max(0)
}

fn availability_in_words(state: Availability, tz: Tz) -> String {
    match state {
        Availability::Free => "free".into(),
        Availability::OnContact => "on a contact".into(),
        Availability::Resting { until: Some(until) } => {
            format!("resting until {}", time_of_day(until, tz))
        }
        Availability::Resting { until: None } => "resting".into(),
        Availability::ShiftCapReached => "shift's contacts done".into(),
        Availability::Paused => "paused".into(),
        Availability::OffShift => "off shift".into(),
        Availability::NotTaking(why) => format!("not taking them ({})", words_of(&why)),
    }
}

async fn board(state: &AppState, helpline: &helpline::Model) -> Result<Markup, ConsoleError> {
    let settings = helplines::settings_of(helpline)?;
    let tz = settings.time_zone.tz();
    let now = state.clock.now();
    let open = live::open_contacts(&state.db, helpline.id).await?;
    let roster = state.roster.helpline(&state.db, helpline.id).await?;
    let members = &roster.members;
    // Recent contacts and flags are read once; what is engaged differs by channel.
    let recent = ActivityNow::read(&state.db, &state.activity, now).await?;
    let calls = recent
        .clone()
        .engaged_in(engaged_on(&state.db, Channel::Voice, now).await?);
    let texts = recent.engaged_in(engaged_on(&state.db, Channel::Sms, now).await?);
    let for_calls = states(now, Channel::Voice, members, &calls);
    let for_texts = states(now, Channel::Sms, members, &texts);
    let topics = helplines::topics(&state.db, helpline.id).await?;
    let span = Interval::new(now, now + GAP_HORIZON)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    let (gaps, _) = rota::coverage_of(&state.db, helpline.id, span, None, now).await?;
    let topic_label = |id: Option<TopicId>| {
        id.and_then(|id| topics.iter().find(|t| t.id == id))
            .map_or("no topic chosen".to_owned(), |t| t.label.clone())
    };
    let holding: Vec<_> = open.iter().filter(|c| c.stage == Stage::Holding).collect();
    let others: Vec<_> = open.iter().filter(|c| c.stage != Stage::Holding).collect();
    Ok(html! {
        div id="board" hx-get=(board_url(helpline.id)) hx-trigger={ "every " (REFRESH_SECS) "s" } hx-swap="outerHTML" {
            p class="hint" { "As of " (day_and_time(now, tz)) " (helpline time)." }
            section aria-labelledby="now-contacts" {
                h2 id="now-contacts" { "Contacts now" }
                @if holding.is_empty() && others.is_empty() { p { "Nobody is calling or texting just now." } }
                @if !holding.is_empty() {
                    p class="problem" { (holding.len()) " caller(s) holding; the longest for " (minutes_since(holding[0].received_at, now)) " min." }
                }
                ul class="contacts" {
                    @for c in holding.iter().chain(others.iter()) {
                        li {
                            "#" (c.id) " · " (words_of(&c.channel)) " · " strong { (stage_in_words(c.stage)) }
                            " for " (minutes_since(c.received_at, now)) " min · " (topic_label(c.topic_id))
                        }
                    }
                }
            }
            section aria-labelledby="now-volunteers" {
                h2 id="now-volunteers" { "Volunteers" }
                div class="scroll" {
                    table class="people" {
                        thead { tr { th scope="col" { "Volunteer" } th scope="col" { "Their time" } th scope="col" { "Calls" } th scope="col" { "Texts" } } }
                        tbody {
                            @for (m, ((_, call), (_, text))) in members.iter().zip(for_calls.iter().zip(for_texts.iter())) {
                                tr {
                                    th scope="row" { (m.profile.name) }
                                    td { (time_of_day(now, m.profile.time_zone.tz())) }
                                    td class=(state_class(*call)) { (availability_in_words(*call, tz)) }
                                    td class=(state_class(*text)) { (availability_in_words(*text, tz)) }
                                }
                            }
                        }
                    }
                }
                h3 { "Free for a call, by topic" }
                ul {
                    @for topic in &topics {
                        @let free = members.iter().zip(for_calls.iter())
                            .filter(|(m, (_, s))| *s == Availability::Free && m.ready_topics.contains(&topic.id))
                            .count();
                        li class=[(free == 0).then_some("problem")] { (topic.label) ": " (free) " signed off and free" }
                    }
                }
            }
            section aria-labelledby="next-gap" {
                h2 id="next-gap" { "Next gap in the rota" }
                @match gaps.first() {
                    None => p class="covered" { "None in the next 14 days." },
                    Some(gap) if gap.start <= now => p class="problem" { "Now: nobody who takes contacts is on shift until " (day_and_time(gap.end, tz)) "." },
                    Some(gap) => p { (stretch(gap.start, gap.end, tz)) },
                }
            }
        }
    })
}

/// Each member's availability on `channel`, in the members' order.
fn states(
    now: DateTime<Utc>,
    channel: Channel,
    members: &[RotaMember],
    activity: &ActivityNow,
) -> Vec<(VolunteerId, Availability)> {
    let idle = Activity::default();
    availability(now, channel, &as_candidates(members, activity, &idle))
}

fn stage_in_words(stage: Stage) -> &'static str {
    match stage {
        Stage::Menu => "choosing a topic",
        Stage::Routing => "being routed",
        Stage::Holding => "holding",
        Stage::Ringing => "ringing a volunteer",
        Stage::Offered => "offered to a volunteer",
        Stage::Connected => "in progress",
        Stage::Fallback => "passed to the fallback number",
        Stage::Voicemail => "leaving a voicemail",
        Stage::Callback => "waiting for a callback",
        Stage::Ended => "ended",
    }
}

fn state_class(state: Availability) -> &'static str {
    match state {
        Availability::Free => "free",
        Availability::OnContact | Availability::Resting { .. } => "busy",
        _ => "away",
    }
}
