//! The supervisor's console: the review queue, and a contact's full record with the
//! routing trace told in words, review actions, and revealing the caller's number with a
//! reason (audited, shown once), blocking a caller, and the debrief queue.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::Duration;
use chrono_tz::Tz;
use maud::{Markup, html};

use super::format::{day_and_time, own_clock, words, words_of};
use super::layout::{self, form_token};
use super::session::{ConsoleError, FormFields, Viewer};
use crate::domain::contact::EventKind;
use crate::domain::ids::{ContactId, HelplineId, VolunteerId};
use crate::domain::supervision::{Flag, ReviewAction};
use crate::domain::trace_words::{Asked, describe, named_volunteers};
use crate::error::ApiError;
use crate::routes::api::contact_views::{ContactDetail, ContactSummary};
use crate::routes::api::contacts::BlockFromContact;
use crate::routes::api::{contacts, debriefs as debriefs_api, require, reviews};
use crate::state::AppState;
use crate::storage::entities::contact;
use crate::storage::{self, after_contact, helplines, volunteers};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/reviews", web::get().to(queue))
        .route("/console/contacts/{id}", web::get().to(record))
        .route("/console/contacts/{id}/reveal", web::post().to(reveal))
        .route("/console/contacts/{id}/review", web::post().to(act))
        .route("/console/contacts/{id}/block", web::post().to(block))
        .route("/console/debriefs", web::get().to(debriefs))
        .route("/console/debriefs/{id}/done", web::post().to(debrief_done));
}

/// The zone a contact's times are shown in: its helpline's.
async fn helpline_zone(state: &AppState, helpline_id: HelplineId) -> Result<Tz, ConsoleError> {
    let helpline = helplines::get(&state.db, &storage::Scope::All, helpline_id)
        .await?
        .ok_or(ApiError::NotFound("helpline"))?;
    Ok(helplines::settings_of(&helpline)?.time_zone.tz())
}

fn contact_rows(items: &[ContactSummary], zones: &HashMap<HelplineId, Tz>) -> Markup {
    html! {
        @if items.is_empty() { p { "Nothing here." } } @else {
            ul class="contacts" {
                @for c in items {
                    @let tz = zones.get(&c.helpline_id).copied().unwrap_or(Tz::UTC);
                    li {
                        a href={ "/console/contacts/" (c.id) } {
                            "#" (c.id) " · " (day_and_time(c.received_at, tz)) " · " (c.caller)
                        }
                        @if !c.open_flags.is_empty() {
                            " · open flags: "
                            @for (i, flag) in c.open_flags.iter().enumerate() {
                                @if i > 0 { ", " }
                                strong class="flag" { (words_of(flag)) }
                            }
                        }
                        @if let Some(outcome) = &c.outcome { " · " (words_of(outcome)) }
                    }
                }
            }
        }
    }
}

async fn queue(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, ConsoleError> {
    let queue = reviews::review_queue(&state, &viewer.who, None).await?;
    let zones: HashMap<HelplineId, Tz> = helplines::zones(&state.db, &viewer.who.scope())
        .await?
        .into_iter()
        .map(|(id, zone)| (id, zone.tz()))
        .collect();
    let body = html! {
        p { "Times are each helpline's own." }
        section aria-labelledby="flagged" {
            h2 id="flagged" { "Flagged (" (queue.flagged.len()) ")" }
            (contact_rows(&queue.flagged, &zones))
        }
        section aria-labelledby="sampled" {
            h2 id="sampled" { "This week's sample (" (queue.sampled.len()) ")" }
            (contact_rows(&queue.sampled, &zones))
        }
    };
    Ok(layout::page("Review queue", Some(&viewer), body))
}

async fn record(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<ContactId>,
) -> Result<HttpResponse, ConsoleError> {
    let row = contacts::reviewable_contact(&state, &viewer.who, *id).await?;
    record_page(&state, &viewer, row, None).await
}

/// The contact's record, audited as the API's `GET /contacts/{id}` is.
async fn record_page(
    state: &AppState,
    viewer: &Viewer,
    row: contact::Model,
    notice: Option<Markup>,
) -> Result<HttpResponse, ConsoleError> {
    let tz = helpline_zone(state, row.helpline_id).await?;
    let topic = match row.topic_id {
        Some(topic_id) => helplines::topic_by_id(&state.db, topic_id)
            .await?
            .map(|t| t.label),
        None => None,
    };
    let channel = row.channel;
    let detail = contacts::viewed(state, &viewer.who, row).await?;
    let traces: Vec<&serde_json::Value> = detail
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Routed)
        .filter_map(|e| e.detail.as_ref())
        .collect();
    let mut named: Vec<VolunteerId> = traces.iter().flat_map(|t| named_volunteers(t)).collect();
    named.extend(detail.offers.iter().map(|o| o.volunteer_id));
    named.extend(detail.summary.answered_by);
    let names = volunteers::names_of(&state.db, named).await?;
    let name = |id: VolunteerId| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("volunteer {id}"))
    };
    let asked = Asked {
        channel,
        topic: topic.as_deref(),
    };
    let rounds: Vec<_> = traces.iter().map(|t| describe(t, asked, name)).collect();
    let c = &detail.summary;
    let body = html! {
        @if let Some(notice) = notice { (notice) }
        dl class="facts" {
            dt { "Caller" } dd { (c.caller) }
            dt { "Received" } dd { (day_and_time(c.received_at, tz)) " (helpline time)" }
            dt { "Channel" } dd { (words_of(&c.channel)) }
            dt { "Topic" } dd { (topic.as_deref().unwrap_or("none chosen")) }
            dt { "Outcome" } dd { (c.outcome.as_ref().map(words_of).unwrap_or_else(|| "under way".into())) }
            dt { "Answered by" } dd { (c.answered_by.map(name).unwrap_or_else(|| "nobody".into())) }
            dt { "Review" } dd { (words_of(&c.review_state)) }
        }
        section aria-labelledby="routing" {
            h2 id="routing" { "How it was routed" }
            @if rounds.is_empty() { p { "No routing rounds were recorded." } }
            @for round in &rounds {
                h3 { "Round " (round.round) }
                p {
                    "Could take it: "
                    @if round.could_take.is_empty() { "nobody" } @else { (round.could_take.join("; ")) }
                }
                @if !round.passed_over.is_empty() {
                    ul class="passed-over" { @for line in &round.passed_over { li { (line) } } }
                }
            }
            @if !detail.offers.is_empty() {
                h3 { "Offers" }
                ul {
                    @for o in &detail.offers {
                        li {
                            (name(o.volunteer_id)) " · round " (o.round) " · " (day_and_time(o.offered_at, tz))
                            " · " (o.outcome.as_ref().map(words_of).unwrap_or_else(|| "open".into()))
                        }
                    }
                }
            }
        }
        (flags_and_reports(&detail, tz, &name))
        (timeline(&detail, tz))
        (actions(viewer, &detail))
        p { a href="/console/reviews" { "Back to the review queue" } }
    };
    Ok(layout::page(
        &format!("Contact #{}", detail.summary.id),
        Some(viewer),
        body,
    ))
}

fn flags_and_reports(
    detail: &ContactDetail,
    tz: Tz,
    name: &dyn Fn(VolunteerId) -> String,
) -> Markup {
    html! {
        section aria-labelledby="report" {
            h2 id="report" { "The volunteer's report" }
            @if detail.reports.is_empty() { p { "No report filed yet." } }
            @for r in &detail.reports {
                article class="report" {
                    h3 { "Version " (r.version) " · " (name(r.volunteer_id)) " · " (day_and_time(r.created_at, tz)) }
                    @if let Some(notes) = &r.notes { p class="notes" { (notes) } }
                    @if !r.outcome_tags.is_empty() { p { "How it went: " (r.outcome_tags.iter().map(|t| words(t)).collect::<Vec<_>>().join(", ")) } }
                    @if !r.flags.is_empty() { p { "Flags: " (r.flags.iter().map(words_of).collect::<Vec<_>>().join(", ")) } }
                }
            }
            @if !detail.flag_history.is_empty() {
                h3 { "Flags" }
                ul {
                    @for f in &detail.flag_history {
                        li {
                            strong { (words_of(&f.flag)) } " raised " (day_and_time(f.raised_at, tz))
                            @if let Some(done) = f.resolved_at {
                                " · resolved " (day_and_time(done, tz))
                                @if let Some(action) = &f.action { ": " (action) }
                            } @else { " · open" }
                        }
                    }
                }
            }
        }
    }
}

fn timeline(detail: &ContactDetail, tz: Tz) -> Markup {
    html! {
        section aria-labelledby="timeline" {
            h2 id="timeline" { "Timeline" }
            ol class="timeline" {
                @for e in &detail.events {
                    li { (day_and_time(e.at, tz)) " · " (words_of(&e.kind)) }
                }
            }
            @if !detail.transcript.is_empty() {
                h3 { "Texts" }
                ol class="transcript" {
                    @for m in &detail.transcript {
                        li class=(m.direction) {
                            (day_and_time(m.at, tz)) " · " (m.sender) ": "
                            (m.body.as_deref().unwrap_or("(erased)"))
                        }
                    }
                }
            }
            @if !detail.reviews.is_empty() {
                h3 { "Review history" }
                ol {
                    @for r in &detail.reviews {
                        li {
                            (day_and_time(r.at, tz)) " · " (words(&r.action))
                            @if let Some(comment) = &r.comment { ": " (comment) }
                        }
                    }
                }
            }
        }
    }
}

fn actions(viewer: &Viewer, detail: &ContactDetail) -> Markup {
    let id = detail.summary.id;
    html! {
        section aria-labelledby="act" {
            h2 id="act" { "Review" }
            @for flag in &detail.summary.open_flags {
                @let field = format!("action-taken-{}", flag.as_str());
                form method="post" action={ "/console/contacts/" (id) "/review" } class="action" {
                    (form_token(viewer))
                    input type="hidden" name="action" value="resolve_flag";
                    input type="hidden" name="flag" value=(flag.as_str());
                    label for=(field) { "Resolve the " (words_of(flag)) " flag: what was done" }
                    textarea id=(field) name="comment" rows="2" required {}
                    button type="submit" { "Resolve flag" }
                }
            }
            form method="post" action={ "/console/contacts/" (id) "/review" } class="action" {
                (form_token(viewer))
                label for="review-comment" { "Comment (optional when completing)" }
                textarea id="review-comment" name="comment" rows="2" {}
                button type="submit" name="action" value="comment" { "Add comment" }
                " "
                button type="submit" name="action" value="complete" { "Complete review" }
            }
        }
        section aria-labelledby="block" {
            h2 id="block" { "Block this caller" }
            p { "For abuse: calls and texts from this number to this helpline are refused until the block ends. The number stays hidden." }
            form method="post" action={ "/console/contacts/" (id) "/block" } {
                (form_token(viewer))
                label for="block-reason" { "Reason, for the other supervisors" }
                textarea id="block-reason" name="reason" rows="2" required maxlength="500" {}
                label for="block-days" { "For" }
                select id="block-days" name="days" {
                    option value="7" { "a week" }
                    option value="30" selected { "30 days" }
                    option value="90" { "90 days" }
                    option value="365" { "a year" }
                }
                button type="submit" { "Block caller" }
            }
        }
        section aria-labelledby="reveal" {
            h2 id="reveal" { "Reveal the caller's number" }
            p { "Only for a safeguarding action. Your reason is written to the audit log, and the number is shown once." }
            form method="post" action={ "/console/contacts/" (id) "/reveal" } {
                (form_token(viewer))
                label for="reveal-reason" { "Reason" }
                textarea id="reveal-reason" name="reason" rows="2" required maxlength="1000" {}
                button type="submit" { "Reveal number" }
            }
        }
    }
}

async fn reveal(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<ContactId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let row = contacts::reviewable_contact(&state, &viewer.who, *id).await?;
    let reason = form.get("reason").unwrap_or_default();
    let number = contacts::reveal(&state, &viewer.who, &row, reason).await?;
    let body = html! {
        p { "The number of contact #" (row.id) "'s caller:" }
        p class="revealed" { strong { (number.to_string()) } }
        p { "This was written to the audit log with your reason. It is not shown again unless you reveal it again." }
        p { a href={ "/console/contacts/" (row.id) } { "Back to the contact" } }
    };
    Ok(layout::page("Caller's number", Some(&viewer), body))
}

/// The review action a form asks for.
fn review_action(form: &FormFields) -> Result<ReviewAction, ConsoleError> {
    let comment = form.get("comment").map(str::to_owned);
    let needs_comment = || {
        comment
            .clone()
            .ok_or_else(|| ConsoleError::from(ApiError::field("comment", "write a comment")))
    };
    Ok(match form.get("action") {
        Some("comment") => ReviewAction::Comment {
            comment: needs_comment()?,
        },
        Some("request_follow_up") => ReviewAction::RequestFollowUp {
            comment: needs_comment()?,
        },
        Some("reopen") => ReviewAction::Reopen {
            comment: needs_comment()?,
        },
        Some("complete") => ReviewAction::Complete { comment },
        Some("resolve_flag") => {
            let flag = form
                .get("flag")
                .and_then(Flag::parse)
                .ok_or_else(|| ApiError::field("flag", "which flag to resolve"))?;
            ReviewAction::ResolveFlag {
                flag,
                action_taken: needs_comment()?,
            }
        }
        _ => return Err(ApiError::field("action", "not a review action").into()),
    })
}

async fn act(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<ContactId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let row = contacts::reviewable_contact(&state, &viewer.who, *id).await?;
    let action = review_action(&form)?;
    reviews::apply(&state, &viewer.who, &row, &action).await?;
    Ok(layout::see_other(format!("/console/contacts/{}", row.id)))
}

async fn block(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<ContactId>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    let row = contacts::reviewable_contact(&state, &viewer.who, *id).await?;
    let days: i64 = match form.get("days").and_then(|d| d.parse().ok()) {
        Some(days @ 1..=365) => days,
        _ => return Err(ApiError::field("days", "between 1 and 365").into()),
    };
    let request = BlockFromContact {
        reason: form.get("reason").unwrap_or_default().to_owned(),
        expires_at: state.clock.now() + Duration::days(days),
    };
    let blocked = contacts::block_caller(&state, &viewer.who, &row, request).await?;
    let tz = helpline_zone(&state, row.helpline_id).await?;
    let notice = html! {
        div class="notice" role="status" {
            p {
                "Caller " (blocked.number_hint) " is blocked"
                @if let Some(until) = blocked.expires_at { " until " (day_and_time(until, tz)) }
                "."
            }
        }
    };
    record_page(&state, &viewer, row, Some(notice)).await
}

async fn debriefs(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    require(
        viewer.who.reviews_contacts(),
        "only supervisors and admins hold debriefs",
    )?;
    let open = after_contact::debriefs(&state.db, &viewer.who.scope(), false).await?;
    let names =
        volunteers::names_of(&state.db, open.iter().map(|d| d.volunteer_id).collect()).await?;
    let tz = own_clock(&state, viewer.who.user_id).await?;
    let body = html! {
        p { "Volunteers who asked to talk a contact through, and check-ins suggested for those who stepped back often, oldest first. Times on your clock (" (tz.name()) ")." }
        @if open.is_empty() { p { "No debriefs waiting." } }
        @for d in &open {
            article class="panel" {
                h2 {
                    (names.get(&d.volunteer_id).cloned().unwrap_or_else(|| format!("volunteer {}", d.volunteer_id)))
                    " · asked " (day_and_time(d.requested_at, tz))
                }
                @if let Some(contact_id) = d.contact_id {
                    p { a href={ "/console/contacts/" (contact_id) } { "Contact #" (contact_id) } }
                } @else {
                    p { "Stepped back three times in a month: a check-in is suggested, never a penalty." }
                }
                form method="post" action={ "/console/debriefs/" (d.id) "/done" } {
                    (form_token(&viewer))
                    @let field = format!("debrief-notes-{}", d.id);
                    label for=(field) { "What was talked through or agreed (optional)" }
                    textarea id=(field) name="notes" rows="2" maxlength="5000" {}
                    button type="submit" { "Mark debrief done" }
                }
            }
        }
    };
    Ok(layout::page("Debriefs", Some(&viewer), body))
}

async fn debrief_done(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form = viewer.form(&body)?;
    debriefs_api::finish(
        &state,
        &viewer.who,
        *id,
        form.get("notes").map(str::to_owned),
    )
    .await?;
    Ok(layout::see_other("/console/debriefs"))
}
