//! Cover for lost shifts: a shift lost at short notice (a NO to a reminder, leave added
//! close to it) that leaves the helpline, or one of its topics, with nobody on shift
//! opens a cover request; waves of texts then ask the volunteers who could take it, and
//! the first YES gets it as an extra shift.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use super::{COVER_ASK, ROTA_ANSWER, sending_number, tell_supervisors, text, wording};
use crate::domain::cover::{Candidate, Uncovered, next_wave, uncovered, wave_due};
use crate::domain::coverage::CoverageMember;
use crate::domain::ids::{TopicId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::rota::{Interval, ShiftChannels};
use crate::domain::shift_calendar::{Occurrence, shifts_within};
use crate::domain::shift_reminders::RotaCareSettings;
use crate::domain::timezone::TimeZone;
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage::cover_requests::{self, CoverAnswer, LossReason, NewCoverRequest};
use crate::storage::entities::{Sealed, cover_request, volunteer};
use crate::storage::rota::{self, ExceptionKind, RotaMember, counted_for_coverage};
use crate::storage::{self, Scope, helplines, users, volunteers};

/// What took a volunteer off their shifts.
#[derive(Debug, Clone, Copy)]
pub enum Loss {
    /// Leave over this stretch: the weekly shifts it covers.
    Leave(Interval, LossReason),
    /// A pause: every shift from now on, until they resume.
    Pause,
}

impl Loss {
    /// The stretch it can take shifts from, and the reason recorded.
    fn span_and_reason(
        self,
        settings: &RotaCareSettings,
        now: DateTime<Utc>,
    ) -> (Interval, LossReason) {
        match self {
            Loss::Leave(leave, reason) => (leave, reason),
            Loss::Pause => (
                Interval {
                    start: now,
                    end: now + settings.short_notice(),
                },
                LossReason::Paused,
            ),
        }
    }

    /// Whether `occurrence` is one it takes away.
    fn takes(self, occurrence: &Occurrence) -> bool {
        match self {
            Loss::Leave(..) => occurrence.on_leave && !occurrence.extra,
            Loss::Pause => !occurrence.on_leave,
        }
    }
}

/// After `loss` was recorded for `volunteer_id` (in `txn`, not yet committed): opens a
/// cover request for each shift it takes away at short notice that leaves a gap, on the
/// first of their helplines that asks for cover. Returns the ids of the requests opened.
pub async fn after_loss(
    txn: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    loss: Loss,
    now: DateTime<Utc>,
) -> Result<Vec<i32>, DbErr> {
    let mut opened = Vec::new();
    for helpline_id in users::served_helplines(txn, volunteer_id).await? {
        let Some(row) = helplines::get(txn, &Scope::All, helpline_id).await? else {
            continue;
        };
        let settings = helplines::settings_of(&row)?.rota;
        let (lost_span, reason) = loss.span_and_reason(&settings, now);
        if !settings.cover_requests_enabled || !settings.reaches_short_notice(lost_span, now) {
            continue;
        }
        let members = rota::helpline_members(txn, helpline_id).await?;
        let Some(lost_by) = members.iter().find(|m| m.volunteer_id == volunteer_id) else {
            continue;
        };
        let lost = shifts_within(&lost_by.rota, lost_span)
            .into_iter()
            .filter(|o| loss.takes(o) && settings.is_short_notice(o.span.start, now));
        for occurrence in lost {
            let span = match loss {
                // A pause takes the whole shift, however far it runs past the window.
                Loss::Pause => occurrence.span,
                Loss::Leave(..) => Interval {
                    start: occurrence.span.start.max(lost_span.start),
                    end: occurrence.span.end.min(lost_span.end),
                },
            };
            let topic = match gap_left(&members, lost_by, span) {
                Uncovered::Nothing => continue,
                Uncovered::Everything => None,
                Uncovered::Topic(topic) => Some(topic),
            };
            let request = NewCoverRequest {
                helpline_id,
                lost_by: volunteer_id,
                reason,
                shift: span,
                channels: occurrence.channels,
                topic_id: topic,
            };
            if let Some(opened_now) = cover_requests::open(txn, request, now).await? {
                opened.push(opened_now.id);
            }
        }
        if !opened.is_empty() {
            break;
        }
    }
    Ok(opened)
}

/// What `span` is left without, now that `lost_by` is off it.
fn gap_left(members: &[RotaMember], lost_by: &RotaMember, span: Interval) -> Uncovered {
    let counted = counted_for_coverage(members, span.start, None);
    let everyone: Vec<CoverageMember<'_>> = counted.iter().map(|(_, c)| c.clone()).collect();
    let by_topic: Vec<(TopicId, Vec<CoverageMember<'_>>)> = lost_by
        .ready_topics
        .iter()
        .map(|topic| (*topic, rota::counted_for_topic(&counted, *topic)))
        .collect();
    uncovered(span, &everyone, &by_topic)
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub asked: usize,
    pub expired: usize,
}

/// Closes the requests whose shift has begun and sends every wave that is due.
pub async fn run_once(state: &AppState) -> Result<Pass, DbErr> {
    let now = state.clock.now();
    let mut pass = Pass {
        expired: expire(state, now).await?,
        ..Pass::default()
    };
    for request in cover_requests::open_requests(&state.db, now).await? {
        pass.asked += send_wave(state, &request, now).await?;
    }
    Ok(pass)
}

/// The request's shift, channels and helpline settings, as the texts need them.
struct Lost {
    span: Interval,
    channels: ShiftChannels,
    helpline_zone: TimeZone,
    lost_by: String,
}

async fn lost_shift(
    db: &impl ConnectionTrait,
    request: &cover_request::Model,
) -> Result<Option<(Lost, crate::domain::helpline::HelplineSettings)>, DbErr> {
    let Some(row) = helplines::get(db, &Scope::All, request.helpline_id).await? else {
        return Ok(None);
    };
    let settings = helplines::settings_of(&row)?;
    let lost_by = volunteer_name(db, request.lost_by).await?;
    let lost = Lost {
        span: Interval {
            start: request.shift_starts_at,
            end: request.shift_ends_at,
        },
        channels: ShiftChannels::parse(&request.channels).unwrap_or(ShiftChannels::Both),
        helpline_zone: settings.time_zone,
        lost_by,
    };
    Ok(Some((lost, settings)))
}

async fn volunteer_name(db: &impl ConnectionTrait, id: VolunteerId) -> Result<String, DbErr> {
    Ok(volunteer::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|v| v.name)
        .unwrap_or_default())
}

/// Sends the request's next wave if it is due; returns how many were asked.
async fn send_wave(
    state: &AppState,
    request: &cover_request::Model,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let Some((lost, settings)) = lost_shift(&state.db, request).await? else {
        return Ok(0);
    };
    if !wave_due(request.last_wave_at, settings.rota.cover_wave_minutes, now) {
        return Ok(0);
    }
    let Some(from) = sending_number(&state.db, request.helpline_id).await? else {
        return Ok(0);
    };
    let roster = state
        .roster
        .helpline(&state.db, request.helpline_id)
        .await?;
    let members = &roster.members;
    let candidates: Vec<Candidate<'_>> = members
        .iter()
        .filter(|m| m.volunteer_id != request.lost_by)
        .map(|m| Candidate {
            volunteer_id: m.volunteer_id,
            readiness: m.profile.readiness(),
            rota: &m.rota,
            quiet_hours: m.quiet_hours,
            signed_off: request
                .topic_id
                .is_some_and(|t| m.ready_topics.contains(&t)),
        })
        .collect();
    let asked = cover_requests::asked(&state.db, request.id).await?;
    let size = usize::try_from(settings.rota.cover_wave_size).unwrap_or(1);
    let wave = next_wave(&candidates, &asked, lost.span, lost.channels, now, size);
    if wave.is_empty() && request.waves > 0 {
        return Ok(0);
    }
    let topic = match request.topic_id {
        Some(id) => helplines::topic_by_id(&state.db, id)
            .await?
            .map(|t| t.label),
        None => None,
    };
    let txn = storage::write_transaction(&state.db).await?;
    if !cover_requests::claim_wave(&txn, request, now).await? {
        txn.rollback().await?;
        return Ok(0);
    }
    if wave.is_empty() {
        // Said once, with the first wave that found nobody to ask.
        let body = |zone| wording::cover_nobody_to_ask(&lost.lost_by, lost.span, zone);
        let zone = lost.helpline_zone;
        tell_supervisors(&txn, &state.vault, request.helpline_id, zone, body, now).await?;
    }
    let number = request.waves + 1;
    for member in members.iter().filter(|m| wave.contains(&m.volunteer_id)) {
        if !cover_requests::record_ask(&txn, request.id, member.volunteer_id, number, now).await? {
            continue;
        }
        let zone = member.profile.time_zone;
        let body = wording::cover_ask(request.id, lost.span, zone, topic.as_deref());
        let phone = member.open_phone(&state.vault)?;
        text(
            &txn,
            &state.vault,
            (&phone, from.as_str()),
            COVER_ASK,
            body,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(wave.len())
}

/// Closes each open request whose shift has begun, telling the supervisors it began
/// uncovered; returns how many.
async fn expire(state: &AppState, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let mut expired = 0;
    for request in cover_requests::begun_unfilled(&state.db, now).await? {
        let Some((lost, _)) = lost_shift(&state.db, &request).await? else {
            continue;
        };
        let txn = storage::write_transaction(&state.db).await?;
        if cover_requests::close(&txn, request.id, now).await? {
            let body = |zone| wording::cover_unfilled(&lost.lost_by, lost.span, zone);
            let zone = lost.helpline_zone;
            tell_supervisors(&txn, &state.vault, request.helpline_id, zone, body, now).await?;
            expired += 1;
        }
        txn.commit().await?;
    }
    Ok(expired)
}

/// `volunteer` answers YES (`take`) or NO to cover request `request_id`, in `txn`. The
/// first YES gets the shift as an extra shift and the supervisors are told; a later one
/// is thanked and told it is covered. `false` when they were never asked: the text is
/// not a rota answer.
pub async fn answer(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    (volunteer, phone, to): (&volunteer::Model, &E164, &str),
    request_id: i32,
    take: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(ask) = cover_requests::ask_of(txn, request_id, volunteer.id).await? else {
        return Ok(false);
    };
    // A repeated answer changes nothing; a NO may still become a YES.
    let settled = match ask.answer {
        None => false,
        Some(CoverAnswer::Declined) => !take,
        Some(CoverAnswer::Took | CoverAnswer::TooLate) => true,
    };
    if settled {
        return Ok(true);
    }
    let Some(request) = cover_requests::get(txn, request_id).await? else {
        return Ok(false);
    };
    let Some((lost, _)) = lost_shift(txn, &request).await? else {
        return Ok(false);
    };
    let zone = volunteers::profile_of(volunteer)?.time_zone;
    let reply = (phone, to);
    if !take {
        cover_requests::answer_ask(txn, ask.id, CoverAnswer::Declined, now).await?;
        text(
            txn,
            vault,
            reply,
            ROTA_ANSWER,
            wording::cover_declined(),
            now,
        )
        .await?;
        return Ok(true);
    }
    if !cover_requests::fill(txn, request_id, volunteer.id, now).await? {
        cover_requests::answer_ask(txn, ask.id, CoverAnswer::TooLate, now).await?;
        let body = wording::cover_already_filled(lost.span, zone);
        text(txn, vault, reply, ROTA_ANSWER, body, now).await?;
        return Ok(true);
    }
    cover_requests::answer_ask(txn, ask.id, CoverAnswer::Took, now).await?;
    let note = format!(
        "Covering {}'s shift (cover request {request_id})",
        lost.lost_by
    );
    rota::create_exception(
        txn,
        volunteer.id,
        ExceptionKind::ExtraShift,
        lost.span,
        Some(lost.channels),
        Some(Sealed::seal(vault, &note)),
        now,
    )
    .await?;
    text(
        txn,
        vault,
        reply,
        ROTA_ANSWER,
        wording::cover_taken(lost.span, zone),
        now,
    )
    .await?;
    let body = |zone| wording::cover_filled(&volunteer.name, &lost.lost_by, lost.span, zone);
    tell_supervisors(
        txn,
        vault,
        request.helpline_id,
        lost.helpline_zone,
        body,
        now,
    )
    .await?;
    Ok(true)
}
