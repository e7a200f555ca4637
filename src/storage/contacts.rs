//! The contact log: one row per call, its timeline of events and its offers. Every write
//! a webhook makes is idempotent, because Twilio delivers callbacks more than once: a
//! contact is keyed by its CallSid, an event by a dedupe key, an offer by its volunteer,
//! and each state change is a conditional update that only the first delivery wins.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveEnum,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, IdenStatic, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    SelectA, SelectB,
    sea_query::{Expr, OnConflict},
};

use super::directory;
use super::entities::{contact, contact_event, offer};
pub use crate::domain::contact::{EventKind, Outcome};
use crate::domain::ids::{ContactId, HelplineId, OfferId, TopicId, VolunteerId};
use crate::domain::rota::Channel;
use crate::domain::routing::Tier;
use crate::telemetry;

/// Where a call is in its journey.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Stage {
    #[sea_orm(string_value = "menu")]
    Menu,
    #[sea_orm(string_value = "routing")]
    Routing,
    #[sea_orm(string_value = "holding")]
    Holding,
    /// The caller hung up to be called back; the callback is under way.
    #[sea_orm(string_value = "callback")]
    Callback,
    #[sea_orm(string_value = "ringing")]
    Ringing,
    /// A text conversation offered to a volunteer who has not replied yet.
    #[sea_orm(string_value = "offered")]
    Offered,
    #[sea_orm(string_value = "connected")]
    Connected,
    #[sea_orm(string_value = "fallback")]
    Fallback,
    #[sea_orm(string_value = "voicemail")]
    Voicemail,
    #[sea_orm(string_value = "ended")]
    Ended,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Menu => "menu",
            Stage::Routing => "routing",
            Stage::Holding => "holding",
            Stage::Callback => "callback",
            Stage::Ringing => "ringing",
            Stage::Offered => "offered",
            Stage::Connected => "connected",
            Stage::Fallback => "fallback",
            Stage::Voicemail => "voicemail",
            Stage::Ended => "ended",
        }
    }
}

/// How an offer to a volunteer ended.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum OfferOutcome {
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "declined")]
    Declined,
    #[sea_orm(string_value = "no_answer")]
    NoAnswer,
    #[sea_orm(string_value = "busy")]
    Busy,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "canceled")]
    Canceled,
}

impl OfferOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferOutcome::Accepted => "accepted",
            OfferOutcome::Declined => "declined",
            OfferOutcome::NoAnswer => "no_answer",
            OfferOutcome::Busy => "busy",
            OfferOutcome::Failed => "failed",
            OfferOutcome::Canceled => "canceled",
        }
    }
}

/// A new inbound call (or a text that opens no conversation), as first seen.
pub struct NewCall {
    pub channel: Channel,
    pub helpline_id: HelplineId,
    pub call_sid: String,
    pub dialed_number: String,
    pub caller_hash: String,
    pub caller_encrypted: Option<String>,
    pub caller_hint: String,
    pub stage: Stage,
    pub outcome: Option<Outcome>,
    pub received_at: DateTime<Utc>,
    pub route_deadline: DateTime<Utc>,
}

/// Records the call unless its CallSid (or MessageSid) is already known; returns the
/// stored contact and whether this delivery created it.
pub async fn open_call(
    db: &impl ConnectionTrait,
    call: NewCall,
) -> Result<(contact::Model, bool), DbErr> {
    let ended = call.outcome.map(|_| call.received_at);
    let row = contact::ActiveModel {
        helpline_id: Set(call.helpline_id),
        channel: Set(call.channel),
        provider_sid: Set(call.call_sid.clone()),
        dialed_number: Set(call.dialed_number),
        caller_hash: Set(call.caller_hash),
        caller_encrypted: Set(call.caller_encrypted),
        caller_hint: Set(call.caller_hint),
        stage: Set(call.stage),
        round: Set(0),
        outcome: Set(call.outcome),
        received_at: Set(call.received_at),
        route_deadline: Set(call.route_deadline),
        ended_at: Set(ended),
        updated_at: Set(call.received_at),
        ..Default::default()
    };
    let inserted = contact::Entity::insert(row)
        .on_conflict(
            OnConflict::column(contact::Column::ProviderSid)
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning(db)
        .await;
    let stored = match inserted {
        Ok(stored) => stored,
        // A repeated delivery: the insert returned no row, and the contact is there.
        Err(DbErr::RecordNotFound(_) | DbErr::RecordNotInserted) => {
            let stored = by_sid(db, &call.call_sid)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound(format!("contact {}", call.call_sid)))?;
            return Ok((stored, false));
        }
        Err(e) => return Err(e),
    };
    if let Some(outcome) = stored.outcome {
        telemetry::contact_ended(stored.channel.as_str(), outcome.as_str());
    }
    Ok((stored, true))
}

pub async fn by_sid(db: &impl ConnectionTrait, sid: &str) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(sid))
        .one(db)
        .await
}

pub async fn get(
    db: &impl ConnectionTrait,
    id: ContactId,
) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find_by_id(id).one(db).await
}

/// Appends an event to the contact's timeline unless one with the same key is there.
pub async fn record_event(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    event: Event,
) -> Result<bool, DbErr> {
    let row = contact_event::ActiveModel {
        contact_id: Set(contact_id),
        at: Set(event.at),
        kind: Set(event.kind),
        volunteer_id: Set(event.volunteer_id),
        detail: Set(event.detail.map(|d| d.to_string())),
        dedupe_key: Set(event.dedupe_key),
        ..Default::default()
    };
    let inserted = contact_event::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                contact_event::Column::ContactId,
                contact_event::Column::DedupeKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The contact's latest event of `kind`.
pub async fn latest_event(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    kind: EventKind,
) -> Result<Option<contact_event::Model>, DbErr> {
    contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(contact_id))
        .filter(contact_event::Column::Kind.eq(kind))
        .order_by_desc(contact_event::Column::Id)
        .one(db)
        .await
}

/// The contact's event with this key, if it is on the timeline.
pub async fn event_by_key(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    dedupe_key: &str,
) -> Result<Option<contact_event::Model>, DbErr> {
    contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(contact_id))
        .filter(contact_event::Column::DedupeKey.eq(dedupe_key))
        .one(db)
        .await
}

/// One entry of a contact's timeline.
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub volunteer_id: Option<VolunteerId>,
    pub detail: Option<serde_json::Value>,
    /// Unique within the contact: a repeated delivery of the same fact has the same key.
    pub dedupe_key: String,
}

impl Event {
    /// An event that happens once per contact: its kind is its key.
    pub fn once(at: DateTime<Utc>, kind: EventKind) -> Self {
        Self {
            at,
            kind,
            volunteer_id: None,
            detail: None,
            dedupe_key: kind.to_value(),
        }
    }

    pub fn keyed(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = key.into();
        self
    }

    pub fn volunteer(mut self, volunteer_id: VolunteerId) -> Self {
        self.volunteer_id = Some(volunteer_id);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Records the caller's topic and language choices while the call is open.
pub async fn set_choice(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    topic_id: Option<TopicId>,
    language: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = contact::Entity::update_many()
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::EndedAt.is_null());
    if let Some(topic_id) = topic_id {
        update = update.col_expr(contact::Column::TopicId, Expr::value(topic_id));
    }
    if let Some(language) = language {
        update = update.col_expr(contact::Column::Language, Expr::value(language));
    }
    update.exec(db).await?;
    Ok(())
}

/// What a delivery that claims a round writes on the contact with the claim.
pub struct RoundClaim {
    pub round: i32,
    pub stage: Stage,
    /// When the caller's wait runs out, set by the first round.
    pub route_deadline: Option<DateTime<Utc>>,
    /// Whether a volunteer signed off for the contact's topic was on shift and free, noted
    /// the first time a contact that chose a topic is routed.
    pub peer_match_free: Option<bool>,
}

impl RoundClaim {
    /// A claim of `round` that moves the contact to `stage` and writes nothing else.
    pub fn to(round: i32, stage: Stage) -> Self {
        Self {
            round,
            stage,
            route_deadline: None,
            peer_match_free: None,
        }
    }
}

/// Moves the contact from round `claim.round - 1` to `claim.round` with what the claim
/// writes; true only for the one delivery that does it, so a repeated callback cannot
/// start a second round.
pub async fn claim_round(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    claim: RoundClaim,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let RoundClaim {
        round,
        stage,
        route_deadline,
        peer_match_free,
    } = claim;
    let mut update = contact::Entity::update_many();
    if let Some(deadline) = route_deadline {
        update = update.col_expr(contact::Column::RouteDeadline, Expr::value(deadline));
    }
    if let Some(free) = peer_match_free {
        let first_of_a_topic = Condition::all()
            .add(contact::Column::TopicId.is_not_null())
            .add(contact::Column::PeerMatchFree.is_null());
        let noted =
            Expr::case(first_of_a_topic, free).finally(Expr::col(contact::Column::PeerMatchFree));
        update = update.col_expr(contact::Column::PeerMatchFree, noted.into());
    }
    let result = update
        .col_expr(contact::Column::Round, Expr::value(round))
        .col_expr(contact::Column::Stage, Expr::value(stage))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::Round.eq(round - 1))
        .filter(contact::Column::EndedAt.is_null())
        .filter(contact::Column::AnsweredBy.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn set_stage(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    stage: Stage,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    contact::Entity::update_many()
        .col_expr(contact::Column::Stage, Expr::value(stage))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the contact answered by `volunteer_id` unless someone else already answered it
/// or it has ended; true when this volunteer holds it.
pub async fn mark_answered(
    db: &impl ConnectionTrait,
    contact: &contact::Model,
    volunteer_id: Option<VolunteerId>,
    outcome: Outcome,
    tier: Option<Tier>,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let wait = seconds_between(contact.received_at, at);
    let mut update = contact::Entity::update_many()
        .col_expr(contact::Column::Stage, Expr::value(Stage::Connected))
        .col_expr(contact::Column::Outcome, Expr::value(outcome))
        .col_expr(contact::Column::AnsweredAt, Expr::value(at))
        .col_expr(contact::Column::WaitSecs, Expr::value(wait))
        .col_expr(contact::Column::UpdatedAt, Expr::value(at))
        .filter(contact::Column::Id.eq(contact.id))
        .filter(contact::Column::AnsweredAt.is_null())
        .filter(contact::Column::EndedAt.is_null());
    if let Some(volunteer_id) = volunteer_id {
        update = update.col_expr(contact::Column::AnsweredBy, Expr::value(volunteer_id));
    }
    if let Some(tier) = tier {
        update = update.col_expr(contact::Column::PeerMatchTier, Expr::value(tier));
    }
    if update.exec(db).await?.rows_affected == 1 {
        return Ok(true);
    }
    // A repeated delivery of the same acceptance still holds the call.
    let now = get(db, contact.id).await?;
    Ok(volunteer_id.is_some()
        && now.is_some_and(|c| c.answered_by == volunteer_id && c.ended_at.is_none()))
}

/// How long an answered call lasted, as far as is known when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkTime {
    /// As Twilio reported it.
    Reported(i32),
    /// From the answer until the end.
    UntilNow,
    /// Not known (the call was closed without its final callback).
    Unknown,
}

/// Ends the contact once: the first delivery sets the end, the outcome when none was set
/// yet, and the talk time of an answered call. Returns the ended contact to the delivery
/// that ended it, `None` to any other.
pub async fn finish(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    outcome_if_unset: Outcome,
    talk: TalkTime,
    at: DateTime<Utc>,
) -> Result<Option<contact::Model>, DbErr> {
    let Some(current) = get(db, contact_id).await? else {
        return Ok(None);
    };
    match end(db, &current, None, outcome_if_unset, talk, at).await? {
        Ending::Ended(ended) => Ok(Some(*ended)),
        Ending::AlreadyEnded | Ending::Changed => Ok(None),
    }
}

/// [`finish`] for a contact the caller read already: ended with one conditional update
/// while what its end is worked out from is as read, read again only if it changed.
pub async fn finish_read(
    db: &impl ConnectionTrait,
    read: &contact::Model,
    outcome_if_unset: Outcome,
    talk: TalkTime,
    at: DateTime<Utc>,
) -> Result<Option<contact::Model>, DbErr> {
    match end(db, read, Some(AsRead::of(read)), outcome_if_unset, talk, at).await? {
        Ending::Ended(ended) => Ok(Some(*ended)),
        Ending::AlreadyEnded => Ok(None),
        Ending::Changed => finish(db, read.id, outcome_if_unset, talk, at).await,
    }
}

/// What a contact's end is worked out from, as it was read. An answer and a wait are set
/// once, and so is an outcome, except that an answer sets one too.
struct AsRead {
    outcome: Option<Outcome>,
    answered: bool,
    waited: bool,
}

impl AsRead {
    fn of(contact: &contact::Model) -> Self {
        Self {
            outcome: contact.outcome,
            answered: contact.answered_at.is_some(),
            waited: contact.wait_secs.is_some(),
        }
    }

    fn still_holds(&self) -> Condition {
        let outcome = match self.outcome {
            Some(outcome) => contact::Column::Outcome.eq(outcome),
            None => contact::Column::Outcome.is_null(),
        };
        Condition::all()
            .add(outcome)
            .add(is_set(contact::Column::AnsweredAt, self.answered))
            .add(is_set(contact::Column::WaitSecs, self.waited))
    }
}

fn is_set(column: contact::Column, set: bool) -> sea_orm::sea_query::Expr {
    if set {
        column.is_not_null()
    } else {
        column.is_null()
    }
}

enum Ending {
    Ended(Box<contact::Model>),
    /// Ended before (an end is never undone).
    AlreadyEnded,
    /// Not ended, but its outcome, answer or wait changed since `current` was read.
    Changed,
}

/// Ends `current`, unless it ended meanwhile or, with `as_read`, changed since it was read.
async fn end(
    db: &impl ConnectionTrait,
    current: &contact::Model,
    as_read: Option<AsRead>,
    outcome_if_unset: Outcome,
    talk: TalkTime,
    at: DateTime<Utc>,
) -> Result<Ending, DbErr> {
    if current.ended_at.is_some() {
        return Ok(Ending::AlreadyEnded);
    }
    let outcome = current.outcome.unwrap_or(outcome_if_unset);
    let talk = current.answered_at.and_then(|answered| match talk {
        TalkTime::Reported(secs) => Some(secs),
        TalkTime::UntilNow => Some(seconds_between(answered, at)),
        TalkTime::Unknown => None,
    });
    let wait = current
        .wait_secs
        .unwrap_or_else(|| seconds_between(current.received_at, at));
    let result = contact::Entity::update_many()
        .col_expr(contact::Column::Stage, Expr::value(Stage::Ended))
        .col_expr(contact::Column::Outcome, Expr::value(outcome))
        .col_expr(contact::Column::EndedAt, Expr::value(at))
        .col_expr(contact::Column::TalkSecs, Expr::value(talk))
        .col_expr(contact::Column::WaitSecs, Expr::value(wait))
        .col_expr(contact::Column::UpdatedAt, Expr::value(at))
        .filter(contact::Column::Id.eq(current.id))
        .filter(contact::Column::EndedAt.is_null())
        .apply_if(as_read, |update, as_read| {
            update.filter(as_read.still_holds())
        })
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        // Ended meanwhile, or changed: a caller that needs to tell reads it again.
        return Ok(Ending::Changed);
    }
    telemetry::contact_ended(current.channel.as_str(), outcome.as_str());
    Ok(Ending::Ended(Box::new(contact::Model {
        stage: Stage::Ended,
        outcome: Some(outcome),
        ended_at: Some(at),
        talk_secs: talk,
        wait_secs: Some(wait),
        updated_at: at,
        ..current.clone()
    })))
}

/// Sets the outcome of a contact still waiting for one (fallback answered, voicemail left).
pub async fn set_outcome(
    db: &DatabaseConnection,
    contact_id: ContactId,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    contact::Entity::update_many()
        .col_expr(contact::Column::Outcome, Expr::value(outcome))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::Outcome.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Changes the outcome of a contact that ended as `from` to `to`; true if it did.
pub async fn correct_outcome(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    from: Outcome,
    to: Outcome,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = contact::Entity::update_many()
        .col_expr(contact::Column::Outcome, Expr::value(to))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::Outcome.eq(from))
        .filter(contact::Column::EndedAt.is_not_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn save_recording(
    db: &DatabaseConnection,
    contact_id: ContactId,
    sid: &str,
    url: &str,
    duration_secs: Option<i32>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    contact::Entity::update_many()
        .col_expr(contact::Column::RecordingSid, Expr::value(sid))
        .col_expr(contact::Column::RecordingUrl, Expr::value(url))
        .col_expr(contact::Column::RecordingSecs, Expr::value(duration_secs))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i32 {
    i32::try_from((to - from).num_seconds().max(0)).unwrap_or(i32::MAX)
}

/// Records an offer; returns it, or the one already recorded for this volunteer in this
/// round.
pub async fn create_offer(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    volunteer_id: VolunteerId,
    round: i32,
    tier: Tier,
    at: DateTime<Utc>,
) -> Result<offer::Model, DbErr> {
    let row = offer::ActiveModel {
        contact_id: Set(contact_id),
        volunteer_id: Set(volunteer_id),
        round: Set(round),
        tier: Set(tier),
        offered_at: Set(at),
        ..Default::default()
    };
    let inserted = offer::Entity::insert(row)
        .on_conflict_do_nothing_on([
            offer::Column::ContactId,
            offer::Column::VolunteerId,
            offer::Column::Round,
        ])
        .exec_with_returning(db)
        .await?;
    if let sea_orm::TryInsertResult::Inserted(offer) = inserted {
        return Ok(offer);
    }
    // Written already, by an earlier delivery of the same round.
    offer::Entity::find()
        .filter(offer::Column::ContactId.eq(contact_id))
        .filter(offer::Column::VolunteerId.eq(volunteer_id))
        .filter(offer::Column::Round.eq(round))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("offer just written".into()))
}

pub async fn offers(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<offer::Model>, DbErr> {
    offer::Entity::find()
        .filter(offer::Column::ContactId.eq(contact_id))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await
}

/// How an offer is joined to its contact (the entities declare no relations).
fn offer_of_contact() -> sea_orm::RelationDef {
    offer::Entity::belongs_to(contact::Entity)
        .from(offer::Column::ContactId)
        .to(contact::Column::Id)
        .into()
}

/// A contact with its offers (in the order made), read together.
pub async fn with_offers(
    db: &impl ConnectionTrait,
    id: ContactId,
) -> Result<Option<Versioned<(contact::Model, Vec<offer::Model>)>>, DbErr> {
    contact_with_offers(db, contact::Column::Id.eq(id)).await
}

/// The same, for the contact of the call `sid`.
pub async fn with_offers_by_sid(
    db: &impl ConnectionTrait,
    sid: &str,
) -> Result<Option<Versioned<(contact::Model, Vec<offer::Model>)>>, DbErr> {
    contact_with_offers(db, contact::Column::ProviderSid.eq(sid)).await
}

async fn contact_with_offers(
    db: &impl ConnectionTrait,
    which: Expr,
) -> Result<Option<Versioned<(contact::Model, Vec<offer::Model>)>>, DbErr> {
    // Each row is the contact with one of its offers.
    let query = contact::Entity::find()
        .filter(which)
        .join(JoinType::LeftJoin, offer_of_contact().rev())
        .select_also(offer::Entity)
        .order_by_asc(offer::Column::Id)
        .into_query();
    let rows = rows_with_directory_version(db, query).await?;
    let Some((first, directory_version)) = rows.first() else {
        return Ok(None);
    };
    let contact = contact::Model::from_query_result(first, SelectA.as_str())?;
    let directory_version = *directory_version;
    let mut offers = Vec::with_capacity(rows.len());
    for (row, _) in &rows {
        offers.extend(offer::Model::from_query_result_optional(
            row,
            SelectB.as_str(),
        )?);
    }
    Ok(Some(Versioned {
        value: (contact, offers),
        directory_version,
    }))
}

/// A contact, with the directory's version read in the same statement.
pub async fn get_versioned(
    db: &impl ConnectionTrait,
    id: ContactId,
) -> Result<Option<Versioned<contact::Model>>, DbErr> {
    let query = contact::Entity::find_by_id(id).into_query();
    row_with_directory_version(db, query, |row| contact::Model::from_query_result(row, "")).await
}

/// What a webhook read of its call, with the helpline directory's version read in the
/// same statement (see `directory::version_column`).
pub struct Versioned<T> {
    pub value: T,
    pub directory_version: i64,
}

/// The rows of `query`, each with the directory's version.
async fn rows_with_directory_version(
    db: &impl ConnectionTrait,
    mut query: sea_orm::sea_query::SelectStatement,
) -> Result<Vec<(sea_orm::QueryResult, i64)>, DbErr> {
    query.expr_as(
        directory::version_column(),
        sea_orm::sea_query::Alias::new(directory::VERSION_COLUMN),
    );
    let statement = db.get_database_backend().build(&query);
    db.query_all_raw(statement)
        .await?
        .into_iter()
        .map(|row| {
            let version = row.try_get("", directory::VERSION_COLUMN)?;
            Ok((row, version))
        })
        .collect()
}

/// The first row of `query`, decoded, with the directory's version.
async fn row_with_directory_version<T>(
    db: &impl ConnectionTrait,
    query: sea_orm::sea_query::SelectStatement,
    decode: impl FnOnce(&sea_orm::QueryResult) -> Result<T, DbErr>,
) -> Result<Option<Versioned<T>>, DbErr> {
    let rows = rows_with_directory_version(db, query).await?;
    let Some((row, directory_version)) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Versioned {
        value: decode(row)?,
        directory_version: *directory_version,
    }))
}

pub async fn offer(db: &DatabaseConnection, id: OfferId) -> Result<Option<offer::Model>, DbErr> {
    offer::Entity::find_by_id(id).one(db).await
}

/// An offer with its contact, read together.
pub async fn offer_with_contact(
    db: &impl ConnectionTrait,
    id: OfferId,
) -> Result<Option<Versioned<(offer::Model, contact::Model)>>, DbErr> {
    let query = offer::Entity::find_by_id(id)
        .join(JoinType::InnerJoin, offer_of_contact())
        .select_also(contact::Entity)
        .into_query();
    row_with_directory_version(db, query, |row| {
        Ok((
            offer::Model::from_query_result(row, SelectA.as_str())?,
            contact::Model::from_query_result(row, SelectB.as_str())?,
        ))
    })
    .await
}

/// Settles an offer once; true for the delivery that did.
pub async fn settle_offer(
    db: &impl ConnectionTrait,
    offer_id: OfferId,
    outcome: OfferOutcome,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = offer::Entity::update_many()
        .col_expr(offer::Column::Outcome, Expr::value(outcome))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::Outcome.is_null());
    update = if outcome == OfferOutcome::Accepted {
        update.col_expr(offer::Column::AcceptedAt, Expr::value(at))
    } else {
        update.col_expr(offer::Column::EndedAt, Expr::value(at))
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

pub async fn set_offer_leg(
    db: &impl ConnectionTrait,
    offer_id: OfferId,
    leg_sid: &str,
) -> Result<(), DbErr> {
    offer::Entity::update_many()
        .col_expr(offer::Column::LegSid, Expr::value(leg_sid))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::LegSid.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn end_offer(
    db: &impl ConnectionTrait,
    offer_id: OfferId,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    offer::Entity::update_many()
        .col_expr(offer::Column::EndedAt, Expr::value(at))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// How many calls from this caller reached the helpline since `since` (this one included).
pub async fn calls_from_since(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    caller_hashes: &[String],
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    contact::Entity::find()
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::CallerHash.is_in(caller_hashes.to_vec()))
        .filter(contact::Column::Channel.eq(Channel::Voice))
        .filter(contact::Column::ReceivedAt.gte(since))
        .count(db)
        .await
}

/// Calls from withheld numbers to this helpline since `since`: for the repeat-call limit
/// they count as one caller, as each such call has an identity of its own.
pub async fn withheld_calls_since(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    contact::Entity::find()
        .filter(contact::Column::HelplineId.eq(helpline_id))
        .filter(contact::Column::CallerHint.eq(crate::secrets::WITHHELD_HINT))
        .filter(contact::Column::Channel.eq(Channel::Voice))
        .filter(contact::Column::ReceivedAt.gte(since))
        .count(db)
        .await
}

/// A volunteer's answered contacts since `since`: (volunteer, answered, ended, talk seconds).
pub type AnsweredRow = (
    Option<VolunteerId>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<i32>,
);

/// Contacts one volunteer answered since `since` (on any helpline).
pub async fn answered_by_since(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    since: DateTime<Utc>,
) -> Result<Vec<AnsweredRow>, DbErr> {
    answered(since)
        .filter(contact::Column::AnsweredBy.eq(volunteer_id))
        .into_tuple()
        .all(db)
        .await
}

/// Who answered, when, when it ended and how long they talked, for contacts answered since
/// `since`.
fn answered(since: DateTime<Utc>) -> sea_orm::Select<contact::Entity> {
    contact::Entity::find()
        .select_only()
        .column(contact::Column::AnsweredBy)
        .column(contact::Column::AnsweredAt)
        .column(contact::Column::EndedAt)
        .column(contact::Column::TalkSecs)
        .filter(contact::Column::AnsweredAt.gte(since))
        .filter(contact::Column::AnsweredBy.is_not_null())
}

/// An answered contact as volunteers' activity sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct ActivityRow {
    pub id: ContactId,
    pub answered_by: Option<VolunteerId>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub talk_secs: Option<i32>,
}

fn activity_rows() -> sea_orm::Select<contact::Entity> {
    contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .column(contact::Column::AnsweredBy)
        .column(contact::Column::AnsweredAt)
        .column(contact::Column::EndedAt)
        .column(contact::Column::TalkSecs)
        .filter(contact::Column::AnsweredBy.is_not_null())
}

/// Every contact answered since `since` on any helpline: by anyone, or `only` by one
/// volunteer.
pub async fn activity_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    only: Option<VolunteerId>,
) -> Result<Vec<ActivityRow>, DbErr> {
    let mut rows = activity_rows().filter(contact::Column::AnsweredAt.gte(since));
    if let Some(volunteer_id) = only {
        rows = rows.filter(contact::Column::AnsweredBy.eq(volunteer_id));
    }
    rows.into_model().all(db).await
}

/// Every answered contact whose answer, end or length changed at or after `since_ms` on
/// the database's clock (stamped by a trigger: see the `activity_changes` migration).
pub async fn activity_changed_since(
    db: &impl ConnectionTrait,
    since_ms: i64,
) -> Result<Vec<ActivityRow>, DbErr> {
    activity_rows()
        .filter(sea_orm::sea_query::ExprTrait::gte(
            Expr::col(ACTIVITY_CHANGED_MS),
            since_ms,
        ))
        .into_model()
        .all(db)
        .await
}

pub(super) const ACTIVITY_CHANGED_MS: &str = "activity_changed_ms";

/// The database's clock, in milliseconds since 1970, as the activity triggers read it.
pub async fn database_now_ms(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!("SELECT {} AS now_ms", database_now_ms_sql(backend));
    db.query_one_raw(sea_orm::Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the database clock".into()))?
        .try_get("", "now_ms")
}

/// The SQL expression of the database's clock in milliseconds since 1970.
pub(super) fn database_now_ms_sql(backend: sea_orm::DatabaseBackend) -> &'static str {
    match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        }
        _ => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    }
}

/// How far back the router looks at volunteers' contacts: beyond a week, everyone counts
/// as equally long idle, and no shift or rest period reaches that far.
pub const ACTIVITY_WINDOW: Duration = Duration::days(7);
