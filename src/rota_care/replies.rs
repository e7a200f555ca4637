//! A volunteer's texted answer to a rota text (see `domain::rota_reply` for the words).
//! `YES 7` and `NO 7` answer cover request 7 whenever the volunteer was asked it. A bare
//! `OK`, `YES` or `NO` (or `OK NOT <topic>`) answers their next unanswered reminder, but
//! only while they hold no text conversation: then it is meant for the texter and goes on
//! to them.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::{ROTA_ANSWER, cover, stepping_back, text, wording};
use crate::domain::phone::E164;
use crate::domain::rota::Interval;
use crate::domain::rota_reply::RotaReply;
use crate::domain::step_back::Length;
use crate::secrets::Vault;
use crate::storage::cover_requests::LossReason;
use crate::storage::entities::{Sealed, volunteer};
use crate::storage::rota::{self, ExceptionKind};
use crate::storage::shift_reminders::{self, ReminderAnswer};
use crate::storage::{helplines, volunteers};

/// A text from a volunteer's phone to a helpline number.
pub struct FromVolunteer<'a> {
    pub volunteer: &'a volunteer::Model,
    pub phone: &'a E164,
    /// The helpline number it was sent to, which answers come from.
    pub to: &'a str,
    pub body: &'a str,
    pub holds_conversation: bool,
}

/// Acts on the text if it is a rota answer, in `txn`; `false` when it is not one.
pub async fn answer(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    text_in: FromVolunteer<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(reply) = RotaReply::parse(text_in.body) else {
        return Ok(false);
    };
    let who = (text_in.volunteer, text_in.phone, text_in.to);
    match reply {
        RotaReply::TakeCover(id) => cover::answer(txn, vault, who, id, true, now).await,
        RotaReply::DeclineCover(id) => cover::answer(txn, vault, who, id, false, now).await,
        _ if text_in.holds_conversation => Ok(false),
        RotaReply::Confirm => answer_reminder(txn, vault, &text_in, Coming(None), now).await,
        RotaReply::ConfirmSteppingBack(topic) => {
            answer_reminder(txn, vault, &text_in, Coming(Some(topic)), now).await
        }
        RotaReply::CannotCome => answer_reminder(txn, vault, &text_in, NotComing, now).await,
    }
}

/// An answer to a reminder.
enum Answer<'a> {
    /// Coming, stepping back from the topic these words name, if any.
    Coming(Option<&'a str>),
    NotComing,
}
use Answer::{Coming, NotComing};

/// Confirms, or turns into leave, the shift of the volunteer's next unanswered reminder.
async fn answer_reminder(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    text_in: &FromVolunteer<'_>,
    answer: Answer<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let volunteer = text_in.volunteer;
    let Some(reminder) = shift_reminders::awaiting_answer(txn, volunteer.id, now).await? else {
        return Ok(false);
    };
    let span = Interval {
        start: reminder.shift_starts_at,
        end: reminder.shift_ends_at,
    };
    let zone = volunteers::profile_of(volunteer)?.time_zone;
    let recorded = match answer {
        Coming(_) => ReminderAnswer::Confirmed,
        NotComing => ReminderAnswer::CannotCome,
    };
    if !shift_reminders::answer(txn, reminder.id, recorded, now).await? {
        return Ok(false);
    }
    let reply_to = (text_in.phone, text_in.to);
    if let Coming(stepping_back_from) = answer {
        let mut body = wording::confirmed(span, zone);
        if let Some(words) = stepping_back_from {
            let topics = helplines::topics(txn, reminder.helpline_id).await?;
            let named = topics
                .iter()
                .find(|t| t.label.eq_ignore_ascii_case(words) || t.key.eq_ignore_ascii_case(words));
            match named {
                Some(topic) => {
                    let length = Length::Until(span.end);
                    let kept =
                        stepping_back::step_back(txn, volunteer, Some(topic.id), length, None, now)
                            .await?;
                    body = match kept {
                        Ok(_) => wording::stepping_back(span, zone, &topic.label),
                        Err(_) => body,
                    };
                }
                None => {
                    let labels: Vec<&str> = topics.iter().map(|t| t.label.as_str()).collect();
                    body.push(' ');
                    body.push_str(&wording::no_such_topic(words, &labels));
                }
            }
        }
        text(txn, vault, reply_to, ROTA_ANSWER, body, now).await?;
        return Ok(true);
    }
    let note = "Cannot come (answered a shift reminder)";
    rota::create_exception(
        txn,
        volunteer.id,
        ExceptionKind::Leave,
        span,
        None,
        Some(Sealed::seal(vault, note)),
        now,
    )
    .await?;
    let loss = cover::Loss::Leave(span, LossReason::CannotCome);
    cover::after_loss(txn, volunteer.id, loss, now).await?;
    let body = wording::cannot_come(span, zone);
    text(txn, vault, reply_to, ROTA_ANSWER, body, now).await?;
    Ok(true)
}
