//! Callbacks: one row per contact whose caller is to be called back. Every move between
//! states is a conditional update on the state (and the offer it is about), so that on
//! any number of servers each step is taken once.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, OnConflict},
};

use super::entities::callback;
use crate::domain::callback::{CallbackKind, CallbackState};
use crate::domain::ids::{ContactId, HelplineId, OfferId, TopicId, UserId, VolunteerId};

/// A callback to open.
pub struct NewCallback {
    pub contact_id: ContactId,
    pub helpline_id: HelplineId,
    pub topic_id: Option<TopicId>,
    pub kind: CallbackKind,
    pub texts_ok: bool,
    pub expires_at: DateTime<Utc>,
    pub requested_by: Option<UserId>,
    pub reason: Option<super::entities::Sealed>,
    /// Ring only this volunteer (the one who returned the call).
    pub for_volunteer: Option<VolunteerId>,
}

/// Opens a callback for the contact; `None` if it already has one.
pub async fn open(
    db: &impl ConnectionTrait,
    new: NewCallback,
    now: DateTime<Utc>,
) -> Result<Option<callback::Model>, DbErr> {
    let row = callback::ActiveModel {
        contact_id: Set(new.contact_id),
        helpline_id: Set(new.helpline_id),
        topic_id: Set(new.topic_id),
        kind: Set(new.kind),
        state: Set(CallbackState::Waiting),
        texts_ok: Set(new.texts_ok),
        caller_attempts: Set(0),
        due_at: Set(now),
        expires_at: Set(new.expires_at),
        requested_by: Set(new.requested_by),
        reason: Set(new.reason),
        for_volunteer: Set(new.for_volunteer),
        requested_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let inserted = callback::Entity::insert(row)
        .on_conflict(
            OnConflict::column(callback::Column::ContactId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    of_contact(db, new.contact_id).await
}

pub async fn of_contact(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Option<callback::Model>, DbErr> {
    callback::Entity::find()
        .filter(callback::Column::ContactId.eq(contact_id))
        .one(db)
        .await
}

/// Whether a callback to this caller (by the hash of their number) is under way on the
/// helpline.
pub async fn under_way_for_caller(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    caller_hashes: &[String],
) -> Result<bool, DbErr> {
    use super::entities::contact;
    use sea_orm::PaginatorTrait;
    let open_calls: Vec<ContactId> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::CallerHash.is_in(caller_hashes.to_vec()))
        .filter(contact::Column::EndedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let open = callback::Entity::find()
        .filter(callback::Column::ContactId.is_in(open_calls))
        .filter(callback::Column::EndedAt.is_null())
        .count(db)
        .await?;
    Ok(open > 0)
}

/// The callback the offer `offer_id` was made for.
pub async fn of_offer(
    db: &impl ConnectionTrait,
    offer_id: OfferId,
) -> Result<Option<callback::Model>, DbErr> {
    callback::Entity::find()
        .filter(callback::Column::OfferId.eq(offer_id))
        .one(db)
        .await
}

/// Callbacks in `state` (oldest request first) whose `column` time has come at `now`.
async fn in_state_before(
    db: &impl ConnectionTrait,
    states: &[CallbackState],
    column: callback::Column,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<callback::Model>, DbErr> {
    callback::Entity::find()
        .filter(callback::Column::State.is_in(states.iter().copied()))
        .filter(column.lte(now))
        .order_by_asc(callback::Column::RequestedAt)
        .order_by_asc(callback::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Waiting callbacks due at `now` and not expired, first requested first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<callback::Model>, DbErr> {
    let due = in_state_before(
        db,
        &[CallbackState::Waiting],
        callback::Column::DueAt,
        now,
        limit,
    );
    Ok(due
        .await?
        .into_iter()
        .filter(|c| c.expires_at > now)
        .collect())
}

/// Waiting callbacks whose time ran out.
pub async fn expired(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<callback::Model>, DbErr> {
    let waiting = [CallbackState::Waiting];
    in_state_before(db, &waiting, callback::Column::ExpiresAt, now, limit).await
}

/// Steps under way whose claim ran out: the word that should have moved them on never came.
pub async fn stalled(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<callback::Model>, DbErr> {
    let under_way = [
        CallbackState::Assigned,
        CallbackState::RingingVolunteer,
        CallbackState::CallingCaller,
    ];
    in_state_before(db, &under_way, callback::Column::ClaimedUntil, now, limit).await
}

/// Callbacks with a volunteer reserved whose phone is still to be rung.
pub async fn assigned(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<callback::Model>, DbErr> {
    callback::Entity::find()
        .filter(callback::Column::State.eq(CallbackState::Assigned))
        .order_by_asc(callback::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Waiting callbacks of a helpline requested before `before`, first requested first: a
/// caller arriving later waits behind them.
pub async fn waiting_before(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<callback::Model>, DbErr> {
    let waiting = callback::Entity::find()
        .filter(callback::Column::HelplineId.eq(helpline_id))
        .filter(callback::Column::State.eq(CallbackState::Waiting))
        .filter(callback::Column::RequestedAt.lt(before))
        .filter(callback::Column::DueAt.lte(now))
        .order_by_asc(callback::Column::RequestedAt)
        .all(db)
        .await?;
    Ok(waiting.into_iter().filter(|c| c.expires_at > now).collect())
}

/// A move from one of `from` (about `offer`, when given) to another state.
pub struct Move {
    from: Vec<CallbackState>,
    offer: Option<OfferId>,
    to: CallbackState,
    changes: Vec<(callback::Column, sea_orm::Value)>,
    count_caller_attempt: bool,
    first_ring: bool,
}

impl Move {
    pub fn new(from: &[CallbackState], to: CallbackState) -> Self {
        Self {
            from: from.to_vec(),
            offer: None,
            to,
            changes: Vec::new(),
            count_caller_attempt: false,
            first_ring: false,
        }
    }

    /// Only while the callback is about this offer.
    pub fn about_offer(mut self, offer_id: OfferId) -> Self {
        self.offer = Some(offer_id);
        self
    }

    /// Sets `column` to `value`, in place of any value set before.
    fn set(mut self, column: callback::Column, value: sea_orm::Value) -> Self {
        self.changes
            .retain(|(c, _)| std::mem::discriminant(c) != std::mem::discriminant(&column));
        self.changes.push((column, value));
        self
    }

    pub fn set_offer(self, offer_id: Option<OfferId>) -> Self {
        self.set(callback::Column::OfferId, offer_id.into())
    }

    pub fn due_at(self, at: DateTime<Utc>) -> Self {
        self.set(callback::Column::DueAt, at.into())
    }

    pub fn claimed_until(self, until: Option<DateTime<Utc>>) -> Self {
        self.set(callback::Column::ClaimedUntil, until.into())
    }

    pub fn ended_at(self, at: DateTime<Utc>) -> Self {
        self.set(callback::Column::EndedAt, at.into())
    }

    /// The caller's phone is dialled once more.
    pub fn counting_a_caller_attempt(mut self) -> Self {
        self.count_caller_attempt = true;
        self
    }

    /// Records when a volunteer was first rung, if none was before.
    pub fn first_ring(mut self) -> Self {
        self.first_ring = true;
        self
    }

    /// Makes the move; true for the one delivery or server that made it.
    pub async fn make(
        self,
        db: &impl ConnectionTrait,
        callback_id: i32,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let mut update = callback::Entity::update_many()
            .col_expr(callback::Column::State, Expr::value(self.to))
            .col_expr(callback::Column::UpdatedAt, Expr::value(now))
            .filter(callback::Column::Id.eq(callback_id))
            .filter(callback::Column::State.is_in(self.from));
        if let Some(offer) = self.offer {
            update = update.filter(callback::Column::OfferId.eq(offer));
        }
        for (column, value) in self.changes {
            update = update.col_expr(column, Expr::value(value));
        }
        if self.count_caller_attempt {
            update = update.col_expr(
                callback::Column::CallerAttempts,
                Expr::col(callback::Column::CallerAttempts).add(1),
            );
        }
        if self.first_ring {
            update = update.col_expr(
                callback::Column::FirstRingAt,
                Func::coalesce([Expr::col(callback::Column::FirstRingAt), Expr::value(now)]).into(),
            );
        }
        Ok(update.exec(db).await?.rows_affected == 1)
    }
}
