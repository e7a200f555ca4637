//! The daily gap alerts sent, one row per helpline and day on its clock: the unique row
//! is what makes an alert go once however many servers plan it, and it keeps what the
//! alert told for the API.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use super::entities::gap_alert;
use crate::domain::gap_alert::GapAlert;
use crate::domain::ids::HelplineId;
use crate::domain::rota::Interval;

/// An alert about to be sent.
pub struct NewGapAlert<'a> {
    pub helpline_id: HelplineId,
    pub local_day: NaiveDate,
    pub span: Interval,
    pub alert: &'a GapAlert,
    pub told: usize,
}

/// Whether the helpline's alert for `day` was already sent (by any server).
pub async fn sent_for(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    day: NaiveDate,
) -> Result<bool, DbErr> {
    Ok(gap_alert::Entity::find()
        .filter(gap_alert::Column::HelplineId.eq(helpline_id))
        .filter(gap_alert::Column::LocalDay.eq(day.to_string()))
        .one(db)
        .await?
        .is_some())
}

/// Records that `alert` is being sent; `false` when it already was (by this server or
/// another), in which case nothing must be sent and the caller rolls back.
pub async fn claim(
    db: &impl ConnectionTrait,
    alert: NewGapAlert<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let gaps =
        serde_json::to_string(alert.alert).map_err(|e| DbErr::Custom(format!("gap alert: {e}")))?;
    let row = gap_alert::ActiveModel {
        helpline_id: Set(alert.helpline_id),
        local_day: Set(alert.local_day.to_string()),
        sent_at: Set(now),
        covers_from: Set(alert.span.start),
        covers_until: Set(alert.span.end),
        gaps: Set(gaps),
        told: Set(i32::try_from(alert.told).unwrap_or(i32::MAX)),
        ..Default::default()
    };
    let inserted = gap_alert::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The helpline's alerts sent at or after `since`, newest first, with what each told.
pub async fn of_helpline(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    since: DateTime<Utc>,
) -> Result<Vec<(gap_alert::Model, GapAlert)>, DbErr> {
    let rows = gap_alert::Entity::find()
        .filter(gap_alert::Column::HelplineId.eq(helpline_id))
        .filter(gap_alert::Column::SentAt.gte(since))
        .order_by_desc(gap_alert::Column::SentAt)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            let told = serde_json::from_str(&row.gaps)
                .map_err(|e| DbErr::Custom(format!("gap alert {}: {e}", row.id)))?;
            Ok((row, told))
        })
        .collect()
}
