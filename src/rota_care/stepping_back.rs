//! A volunteer stepping back, for a while, from one topic or from every contact: asked
//! through the API (by them or their supervisor) or by text in answer to a reminder.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::step_back::{self, InvalidLength, Length};
use crate::storage::entities::{step_back as row, volunteer};
use crate::storage::step_backs::{self, NewStepBack};
use crate::storage::{rota, volunteers};

/// Records that `volunteer` steps back from `topic_id` (none: every contact) from `now`
/// for `length`; the length's problem if it cannot be kept.
pub async fn step_back(
    db: &impl ConnectionTrait,
    volunteer: &volunteer::Model,
    topic_id: Option<i32>,
    length: Length,
    asked_by: Option<i32>,
    now: DateTime<Utc>,
) -> Result<Result<row::Model, InvalidLength>, DbErr> {
    let zone = volunteers::profile_of(volunteer)?.time_zone;
    let their_rota = rota::rota_of(db, volunteer.id, zone).await?;
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
    Ok(Ok(step_backs::create(db, new, now).await?))
}
