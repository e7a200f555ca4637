//! Rota care: reminding volunteers of their shifts and hearing their answers, telling
//! supervisors about shifts nobody confirmed and, daily, about the coming week's gaps,
//! and asking other volunteers to cover a shift lost at short notice. Every step is claimed in the database, so several servers
//! may run it at once and each text still goes once.

pub mod cover;
pub mod gap_alerts;
pub mod reminders;
pub mod replies;
pub mod stepping_back;
mod wording;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::ids::HelplineId;
use crate::domain::phone::E164;
use crate::domain::timezone::TimeZone;
use crate::secrets::Vault;
use crate::storage::outbox::{self, NewMessage};
use crate::storage::{helplines, users};

/// Outbox purposes of rota texts.
pub const SHIFT_REMINDER: &str = "shift_reminder";
pub const ROTA_ANSWER: &str = "rota_answer";
pub const COVER_ASK: &str = "cover_ask";
pub const ROTA_NOTICE: &str = "rota_notice";

/// The number a helpline's rota texts go from (and volunteers answer to): its first.
async fn sending_number(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Option<String>, DbErr> {
    let numbers = helplines::numbers(db, helpline_id).await?;
    Ok(numbers.into_iter().next().map(|n| n.number))
}

/// Queues a rota text to `phone`, from `from`.
async fn text(
    db: &impl ConnectionTrait,
    vault: &Vault,
    (phone, from): (&E164, &str),
    purpose: &'static str,
    body: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let message = NewMessage::to_phone(vault, phone, from, purpose, body);
    outbox::enqueue(db, vault, message, now).await?;
    Ok(())
}

/// Texts each supervisor of the helpline who has a phone; `body` is given each one's
/// time zone (theirs, else the helpline's). Returns how many were told.
async fn tell_supervisors(
    db: &impl ConnectionTrait,
    vault: &Vault,
    helpline_id: HelplineId,
    helpline_zone: TimeZone,
    body: impl Fn(TimeZone) -> String,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let Some(from) = sending_number(db, helpline_id).await? else {
        return Ok(0);
    };
    let mut told = 0;
    for person in users::supervisors_of(db, helpline_id).await? {
        let Some(phone) = users::phone_of(vault, &person) else {
            continue;
        };
        let zone = person
            .time_zone
            .as_deref()
            .and_then(|z| TimeZone::parse(z).ok())
            .unwrap_or(helpline_zone);
        text(db, vault, (&phone, &from), ROTA_NOTICE, body(zone), now).await?;
        told += 1;
    }
    Ok(told)
}
