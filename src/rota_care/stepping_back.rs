//! A volunteer stepping back, for a while, from one topic or from every contact: asked
//! through the API (by them or their supervisor) or by text in answer to a reminder. The
//! third step-back in a month suggests a supervisor's check-in in the debrief queue.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::ids::{TopicId, UserId};
use crate::domain::rota::Rota;
use crate::domain::step_back::{self, InvalidLength, Length};
use crate::storage::entities::{step_back as row, volunteer};
use crate::storage::step_backs::{self, NewStepBack};
use crate::storage::{after_contact, rota, users, volunteers};

/// Records that `volunteer` steps back from `topic_id` (none: every contact) from `now`
/// for `length`; the length's problem if it cannot be kept.
pub async fn step_back(
    db: &impl ConnectionTrait,
    volunteer: &volunteer::Model,
    topic_id: Option<TopicId>,
    length: Length,
    asked_by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Result<row::Model, InvalidLength>, DbErr> {
    // Only a length in shifts needs the rota read.
    let zone = volunteers::profile_of(volunteer)?.time_zone;
    let their_rota = match length {
        Length::Shifts(_) => rota::rota_of(db, volunteer.id, zone).await?,
        Length::Until(_) => Rota::new(zone),
    };
    let until = match step_back::ends_at(length, &their_rota, now) {
        Ok(until) => until,
        Err(problem) => return Ok(Err(problem)),
    };
    let shifts = match length {
        Length::Shifts(n) => i32::try_from(n).ok(),
        Length::Until(_) => None,
    };
    let new = NewStepBack {
        volunteer_id: volunteer.id,
        topic_id,
        starts_at: now,
        until,
        shifts,
        created_by: asked_by,
    };
    let created = step_backs::create(db, new, now).await?;
    let recent =
        step_backs::asked_since(db, volunteer.id, now - step_back::CHECK_IN_WINDOW).await?;
    if step_back::suggests_check_in(&recent, now) {
        for helpline_id in users::served_helplines(db, volunteer.id).await? {
            after_contact::suggest_check_in(db, helpline_id, volunteer.id, now).await?;
        }
    }
    Ok(Ok(created))
}
