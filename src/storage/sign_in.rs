//! Console sign-in: the one-time codes and links, each attempt (for the rate limits), and
//! console sessions, which are API tokens of kind `console` that lapse when unused.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use secrecy::{ExposeSecret, SecretString};

use super::entities::{api_token, helpline_number, sign_in_attempt, sign_in_code, user, volunteer};
use super::users;
use crate::domain::access::{Principal, Role};
use crate::domain::ids::UserId;
use crate::domain::phone::E164;
use crate::domain::sign_in::{
    ATTEMPT_WINDOW, Attempt, CODE_LIFETIME, CodeKind, RecentAttempts, SESSION_MAX_AGE, TokenKind,
    session_is_live, worth_recording_use,
};
use crate::secrets::{self, Vault, constant_time_eq};

/// A code is spent after this many wrong tries, whatever the person-wide limit says.
const WRONG_TRIES_PER_CODE: i32 = 5;

/// The person whose phone this is: a user with this number on their record, else the
/// volunteer user whose volunteer record has it.
pub async fn person_with_phone(
    db: &impl ConnectionTrait,
    vault: &Vault,
    phone: &E164,
) -> Result<Option<user::Model>, DbErr> {
    let hashes = vault.hashes(phone);
    let volunteers_with_phone = Query::select()
        .column(volunteer::Column::Id)
        .from(volunteer::Entity)
        .and_where(volunteer::Column::PhoneHash.is_in(hashes.clone()))
        .to_owned();
    user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::PhoneHash.is_in(hashes))
                .add(
                    Condition::all()
                        .add(user::Column::Role.eq(Role::Volunteer))
                        .add(user::Column::VolunteerId.in_subquery(volunteers_with_phone)),
                ),
        )
        .order_by_asc(user::Column::Id)
        .one(db)
        .await
}

/// The helpline number a sign-in code to `person` is sent from: one of the helplines they
/// serve or supervise (an administrator's, any helpline's); `None` when there is none.
pub async fn sending_number_for(
    db: &impl ConnectionTrait,
    person: &user::Model,
) -> Result<Option<String>, DbErr> {
    let helplines = match (person.role, person.volunteer_id) {
        (Role::Volunteer, Some(volunteer_id)) => users::served_helplines(db, volunteer_id).await?,
        (Role::Admin, _) => Vec::new(),
        _ => users::user_helplines(db, person.id).await?,
    };
    if helplines.is_empty() && person.role != Role::Admin {
        return Ok(None);
    }
    let mut numbers = helpline_number::Entity::find().order_by_asc(helpline_number::Column::Id);
    if !helplines.is_empty() {
        numbers = numbers.filter(helpline_number::Column::HelplineId.is_in(helplines));
    }
    Ok(numbers.one(db).await?.map(|n| n.number))
}

/// The attempts already made within the window, from `address` and for `user_id`.
pub async fn recent_attempts(
    db: &impl ConnectionTrait,
    address: &str,
    user_id: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<RecentAttempts, DbErr> {
    let since = now - ATTEMPT_WINDOW;
    let recent = || sign_in_attempt::Entity::find().filter(sign_in_attempt::Column::At.gt(since));
    let from_address = recent()
        .filter(sign_in_attempt::Column::Address.eq(address))
        .count(db)
        .await?;
    let Some(user_id) = user_id else {
        return Ok(RecentAttempts {
            from_address,
            ..Default::default()
        });
    };
    let of_person = || recent().filter(sign_in_attempt::Column::UserId.eq(user_id));
    Ok(RecentAttempts {
        from_address,
        codes_sent_to_person: of_person()
            .filter(sign_in_attempt::Column::Action.eq(Attempt::RequestCode))
            .filter(sign_in_attempt::Column::Succeeded.eq(true))
            .count(db)
            .await?,
        wrong_codes_of_person: of_person()
            .filter(sign_in_attempt::Column::Action.eq(Attempt::EnterCode))
            .filter(sign_in_attempt::Column::Succeeded.eq(false))
            .count(db)
            .await?,
    })
}

/// One attempt, as counted by the rate limits.
pub struct AttemptRecord<'a> {
    pub address: &'a str,
    pub user_id: Option<UserId>,
    pub action: Attempt,
    pub succeeded: bool,
}

/// Writes down an attempt, and forgets those too old to count for anything.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    attempt: AttemptRecord<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    sign_in_attempt::Entity::delete_many()
        .filter(sign_in_attempt::Column::At.lt(now - ATTEMPT_WINDOW * 4))
        .exec(db)
        .await?;
    sign_in_attempt::ActiveModel {
        at: Set(now),
        address: Set(attempt.address.chars().take(64).collect()),
        user_id: Set(attempt.user_id),
        action: Set(attempt.action),
        succeeded: Set(attempt.succeeded),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Stores a new one-time secret (its keyed hash) for `user_id`, good for the code lifetime.
pub async fn issue_secret(
    db: &impl ConnectionTrait,
    user_id: UserId,
    kind: CodeKind,
    secret_hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    sign_in_code::Entity::delete_many()
        .filter(sign_in_code::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    sign_in_code::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind),
        secret_hash: Set(secret_hash),
        created_at: Set(now),
        expires_at: Set(now + CODE_LIFETIME),
        used_at: Set(None),
        failed_tries: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn outstanding(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(sign_in_code::Column::UsedAt.is_null())
        .add(sign_in_code::Column::ExpiresAt.gt(now))
        .add(sign_in_code::Column::FailedTries.lt(WRONG_TRIES_PER_CODE))
}

/// Spends the outstanding secret `id`; false when another request spent it first.
async fn spend(db: &impl ConnectionTrait, id: i32, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let spent = sign_in_code::Entity::update_many()
        .col_expr(sign_in_code::Column::UsedAt, Expr::value(now))
        .filter(sign_in_code::Column::Id.eq(id))
        .filter(outstanding(now))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// Whether `secret_hash` matches an outstanding secret of this kind for `user_id`; a
/// match spends it (once, however many servers are asked at the same moment), a miss
/// counts against the newest code.
pub async fn redeem(
    db: &impl ConnectionTrait,
    user_id: UserId,
    kind: CodeKind,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let outstanding_codes = sign_in_code::Entity::find()
        .filter(sign_in_code::Column::UserId.eq(user_id))
        .filter(sign_in_code::Column::Kind.eq(kind))
        .filter(outstanding(now))
        .order_by_desc(sign_in_code::Column::Id)
        .limit(5)
        .all(db)
        .await?;
    if let Some(code) = outstanding_codes
        .iter()
        .find(|c| constant_time_eq(&c.secret_hash, secret_hash))
    {
        return spend(db, code.id, now).await;
    }
    if let Some(newest) = outstanding_codes.first() {
        sign_in_code::Entity::update_many()
            .col_expr(
                sign_in_code::Column::FailedTries,
                Expr::col(sign_in_code::Column::FailedTries).add(1),
            )
            .filter(sign_in_code::Column::Id.eq(newest.id))
            .exec(db)
            .await?;
    }
    Ok(false)
}

/// Starts a console session for `user_id`; returns the cookie's secret, of which only the
/// hash is stored.
pub async fn start_session(
    db: &impl ConnectionTrait,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<SecretString, DbErr> {
    // Sessions past their maximum age are useless: forget them (a lapsed one that is
    // never presented again would otherwise stay).
    api_token::Entity::delete_many()
        .filter(api_token::Column::Kind.eq(TokenKind::Console))
        .filter(api_token::Column::CreatedAt.lt(now - SESSION_MAX_AGE))
        .exec(db)
        .await?;
    let secret = secrets::generate_token();
    api_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(secrets::hash_token(secret.expose_secret())),
        created_at: Set(now),
        kind: Set(TokenKind::Console),
        last_used_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(secret)
}

/// Whoever holds the live console session with this hash; records the use.
pub async fn session_holder(
    db: &impl ConnectionTrait,
    session_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, DbErr> {
    let Some(session) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(session_hash))
        .filter(api_token::Column::Kind.eq(TokenKind::Console))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !session_is_live(session.created_at, session.last_used_at, now) {
        end_session(db, session.id).await?;
        return Ok(None);
    }
    if worth_recording_use(session.last_used_at, now) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(session.id))
            .exec(db)
            .await?;
    }
    users::principal_holding(db, &session).await
}

/// Ends one console session.
pub async fn end_session(db: &impl ConnectionTrait, session_id: i32) -> Result<(), DbErr> {
    api_token::Entity::delete_many()
        .filter(api_token::Column::Id.eq(session_id))
        .filter(api_token::Column::Kind.eq(TokenKind::Console))
        .exec(db)
        .await?;
    Ok(())
}

/// How many live console sessions each user holds.
pub async fn live_sessions(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<UserId, u64>, DbErr> {
    let sessions = api_token::Entity::find()
        .filter(api_token::Column::Kind.eq(TokenKind::Console))
        .all(db)
        .await?;
    let mut counts = std::collections::HashMap::new();
    for session in sessions
        .iter()
        .filter(|s| session_is_live(s.created_at, s.last_used_at, now))
    {
        *counts.entry(session.user_id).or_default() += 1;
    }
    Ok(counts)
}

/// Ends every console session of `user_id` (an administrator signing someone out);
/// their API tokens are untouched. Returns how many were ended.
pub async fn end_sessions_of(db: &impl ConnectionTrait, user_id: UserId) -> Result<u64, DbErr> {
    let ended = api_token::Entity::delete_many()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::Kind.eq(TokenKind::Console))
        .exec(db)
        .await?;
    Ok(ended.rows_affected)
}
