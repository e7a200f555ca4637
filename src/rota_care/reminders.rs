//! Sends each shift reminder that is due, once, and tells a helpline's supervisors about
//! reminders nobody answered by the deadline.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use super::{SHIFT_REMINDER, sending_number, tell_supervisors, text, wording};
use crate::domain::ids::VolunteerId;
use crate::domain::rota::Interval;
use crate::domain::shift_reminders::{ReminderRound, due_reminders, planning_horizon};
use crate::state::AppState;
use crate::storage::entities::shift_reminder;
use crate::storage::shift_reminders::{self, NewReminder};
use crate::storage::{self, Scope, helplines, volunteers};

const BATCH: u64 = 100;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub reported: usize,
}

/// Sends every reminder due at the state's clock and reports overdue answers.
pub async fn run_once(state: &AppState) -> Result<Pass, DbErr> {
    let now = state.clock.now();
    let mut pass = Pass::default();
    for (helpline_id, settings) in helplines::all_settings(&state.db, &Scope::All).await? {
        if !settings.rota.reminders_enabled {
            continue;
        }
        let Some(from) = sending_number(&state.db, helpline_id).await? else {
            continue;
        };
        let sent = sent_keys(state, planning_horizon(&settings.rota, now)).await?;
        let roster = state.roster.helpline(&state.db, helpline_id).await?;
        let members = &roster.members;
        let ready = members
            .iter()
            .filter(|m| m.profile.readiness().check(now, None).is_ok());
        for member in ready {
            let quiet = member.quiet_hours.as_ref();
            for due in due_reminders(&settings.rota, &member.rota, quiet, now) {
                let key = (member.volunteer_id, due.shift.start, due.plan.round);
                if sent.contains(&key) {
                    continue;
                }
                let zone = member.profile.time_zone;
                let body = match due.plan.round {
                    ReminderRound::Ask => wording::reminder(&settings.name, due.shift, zone),
                    ReminderRound::HourBefore => {
                        wording::hour_before(&settings.name, due.shift, zone)
                    }
                };
                let reminder = NewReminder {
                    volunteer_id: member.volunteer_id,
                    helpline_id,
                    round: due.plan.round,
                    shift: due.shift,
                    answer_by: (due.plan.round == ReminderRound::Ask).then_some(due.plan.latest),
                };
                let txn = storage::write_transaction(&state.db).await?;
                if shift_reminders::claim(&txn, reminder, now).await? {
                    let phone = member.open_phone(&state.vault)?;
                    let to = (&phone, from.as_str());
                    text(&txn, &state.vault, to, SHIFT_REMINDER, body, now).await?;
                    pass.sent += 1;
                }
                txn.commit().await?;
            }
        }
    }
    pass.reported = report_overdue(state, now).await?;
    Ok(pass)
}

/// The reminders already sent for shifts starting within `horizon`.
async fn sent_keys(
    state: &AppState,
    horizon: Interval,
) -> Result<HashSet<(VolunteerId, DateTime<Utc>, ReminderRound)>, DbErr> {
    Ok(shift_reminders::starting_within(&state.db, horizon)
        .await?
        .into_iter()
        .map(|r| (r.volunteer_id, r.shift_starts_at, r.round))
        .collect())
}

/// Tells the supervisors of each helpline about the reminders not answered by their
/// deadline, each once; returns how many reminders were reported.
async fn report_overdue(state: &AppState, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let mut reported = 0;
    for reminder in shift_reminders::overdue(&state.db, now, BATCH).await? {
        if report(state, &reminder, now).await? {
            reported += 1;
        }
    }
    Ok(reported)
}

async fn report(
    state: &AppState,
    reminder: &shift_reminder::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(helpline) = helplines::get(&state.db, &Scope::All, reminder.helpline_id).await? else {
        return Ok(false);
    };
    let helpline_zone = helplines::settings_of(&helpline)?.time_zone;
    let name = volunteers::get(&state.db, &Scope::All, reminder.volunteer_id)
        .await?
        .map(|v| v.name)
        .unwrap_or_default();
    let span = Interval {
        start: reminder.shift_starts_at,
        end: reminder.shift_ends_at,
    };
    let txn = storage::write_transaction(&state.db).await?;
    if !shift_reminders::claim_report(&txn, reminder.id, now).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    let body = |zone| wording::not_confirmed(&name, span, zone);
    tell_supervisors(&txn, &state.vault, helpline.id, helpline_zone, body, now).await?;
    txn.commit().await?;
    Ok(true)
}
