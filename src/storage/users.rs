//! Users, their helpline scopes and API tokens.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    TransactionTrait, sea_query::Expr,
};
use secrecy::{ExposeSecret, SecretString};

use super::PageRequest;
use super::entities::{Sealed, api_token, user, user_helpline, volunteer_helpline};
use crate::domain::access::{Principal, Role};
use crate::domain::ids::{HelplineId, UserId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::sign_in::{TokenKind, worth_recording_use};
use crate::secrets::{self, Vault};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub volunteer_id: Option<VolunteerId>,
    pub phone: Option<E164>,
    pub time_zone: Option<String>,
    pub helplines: Vec<HelplineId>,
}

/// The caller that holds the API token with this hash, if any.
pub async fn principal_for_token(
    db: &DatabaseConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, DbErr> {
    let token = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::Kind.eq(TokenKind::Api))
        .one(db)
        .await?;
    let Some(token) = token.filter(|t| t.expires_at.is_none_or(|end| now < end)) else {
        return Ok(None);
    };
    if worth_recording_use(token.last_used_at, now) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id))
            .exec(db)
            .await?;
    }
    principal_holding(db, &token).await
}

/// The identity and scope of whoever holds `token` (an API token or a console session).
pub async fn principal_holding(
    db: &impl ConnectionTrait,
    token: &api_token::Model,
) -> Result<Option<Principal>, DbErr> {
    let Some(user) = user::Entity::find_by_id(token.user_id).one(db).await? else {
        return Ok(None);
    };
    let role = user.role;
    let helplines = match (role, user.volunteer_id) {
        (Role::Volunteer, Some(volunteer_id)) => served_helplines(db, volunteer_id).await?,
        _ => user_helplines(db, user.id).await?,
    };
    Ok(Some(Principal {
        user_id: user.id,
        token_id: token.id,
        role,
        volunteer_id: user.volunteer_id,
        helplines,
    }))
}

pub async fn served_helplines(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
) -> Result<Vec<HelplineId>, DbErr> {
    volunteer_helpline::Entity::find()
        .select_only()
        .column(volunteer_helpline::Column::HelplineId)
        .filter(volunteer_helpline::Column::VolunteerId.eq(volunteer_id))
        .order_by_asc(volunteer_helpline::Column::HelplineId)
        .into_tuple()
        .all(db)
        .await
}

/// The helplines each of `volunteer_ids` serves, in one query.
pub async fn served_helplines_of(
    db: &impl ConnectionTrait,
    volunteer_ids: Vec<VolunteerId>,
) -> Result<std::collections::HashMap<VolunteerId, Vec<HelplineId>>, DbErr> {
    let pairs: Vec<(VolunteerId, HelplineId)> = volunteer_helpline::Entity::find()
        .select_only()
        .column(volunteer_helpline::Column::VolunteerId)
        .column(volunteer_helpline::Column::HelplineId)
        .filter(volunteer_helpline::Column::VolunteerId.is_in(volunteer_ids))
        .order_by_asc(volunteer_helpline::Column::HelplineId)
        .into_tuple()
        .all(db)
        .await?;
    let mut served: std::collections::HashMap<VolunteerId, Vec<HelplineId>> =
        std::collections::HashMap::new();
    for (volunteer_id, helpline_id) in pairs {
        served.entry(volunteer_id).or_default().push(helpline_id);
    }
    Ok(served)
}

pub async fn user_helplines(
    db: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<Vec<HelplineId>, DbErr> {
    user_helpline::Entity::find()
        .select_only()
        .column(user_helpline::Column::HelplineId)
        .filter(user_helpline::Column::UserId.eq(user_id))
        .order_by_asc(user_helpline::Column::HelplineId)
        .into_tuple()
        .all(db)
        .await
}

/// Creates a user with their helpline scope, in one transaction.
pub async fn create(
    db: &DatabaseConnection,
    vault: &Vault,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let txn = db.begin().await?;
    let created = user::ActiveModel {
        name: Set(new.name),
        role: Set(new.role),
        volunteer_id: Set(new.volunteer_id),
        phone: Set(new.phone.as_ref().map(|p| Sealed(vault.seal(p)))),
        phone_hash: Set(new.phone.as_ref().map(|p| vault.hash(p))),
        time_zone: Set(new.time_zone),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for helpline_id in new.helplines {
        user_helpline::ActiveModel {
            user_id: Set(created.id),
            helpline_id: Set(helpline_id),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// A user's phone, if they have one on record and it opens under this server's key.
pub fn phone_of(vault: &Vault, user: &user::Model) -> Option<E164> {
    vault.open(&user.phone.as_ref()?.0)
}

/// Issues a new token for a user; only its hash is stored.
pub async fn issue_token(
    db: &DatabaseConnection,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<SecretString, DbErr> {
    issue_named_token(db, user_id, None, None, now)
        .await
        .map(|(secret, _)| secret)
}

/// Issues a token with a name and an expiry; returns it with its stored row.
pub async fn issue_named_token(
    db: &DatabaseConnection,
    user_id: UserId,
    name: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(SecretString, api_token::Model), DbErr> {
    let token = secrets::generate_token();
    let row = api_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(secrets::hash_token(token.expose_secret())),
        created_at: Set(now),
        kind: Set(TokenKind::Api),
        name: Set(name),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((token, row))
}

/// A user's API tokens (never their secrets), oldest first.
pub async fn tokens_of(
    db: &DatabaseConnection,
    user_id: UserId,
) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::Kind.eq(TokenKind::Api))
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await
}

/// Revokes one API token of a user; false when there is no such token.
pub async fn revoke_token(
    db: &DatabaseConnection,
    user_id: UserId,
    token_id: i32,
) -> Result<bool, DbErr> {
    let gone = api_token::Entity::delete_many()
        .filter(api_token::Column::Id.eq(token_id))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::Kind.eq(TokenKind::Api))
        .exec(db)
        .await?;
    Ok(gone.rows_affected == 1)
}

/// Revokes every token of a user.
pub async fn revoke_tokens(db: &DatabaseConnection, user_id: UserId) -> Result<u64, DbErr> {
    let result = api_token::Entity::delete_many()
        .filter(api_token::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

pub async fn list(db: &DatabaseConnection, page: PageRequest) -> Result<Vec<user::Model>, DbErr> {
    super::keyset(user::Entity::find(), user::Column::Id, page)
        .all(db)
        .await
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: Vec<UserId>,
) -> Result<Vec<user::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await
}

/// The helpline's supervisors and every administrator, who have a phone on record: the
/// people a safeguarding concern goes to when nobody on call can be reached.
pub async fn reachable_overseers(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<user::Model>, DbErr> {
    let supervisors = user_helpline::Entity::find()
        .select_only()
        .column(user_helpline::Column::UserId)
        .filter(user_helpline::Column::HelplineId.eq(helpline_id));
    user::Entity::find()
        .filter(user::Column::Phone.is_not_null())
        .filter(
            Condition::any()
                .add(user::Column::Role.eq(Role::Admin))
                .add(
                    Condition::all()
                        .add(user::Column::Role.eq(Role::Supervisor))
                        .add(user::Column::Id.in_subquery(supervisors.into_query())),
                ),
        )
        .order_by_asc(user::Column::Id)
        .all(db)
        .await
}

/// The supervisors scoped to `helpline_id`, by name.
pub async fn supervisors_of(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<user::Model>, DbErr> {
    let scoped = user_helpline::Entity::find()
        .select_only()
        .column(user_helpline::Column::UserId)
        .filter(user_helpline::Column::HelplineId.eq(helpline_id));
    user::Entity::find()
        .filter(user::Column::Role.eq(Role::Supervisor))
        .filter(user::Column::Id.in_subquery(scoped.into_query()))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await
}

pub async fn get(db: &impl ConnectionTrait, id: UserId) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

pub async fn delete(db: &DatabaseConnection, id: UserId) -> Result<bool, DbErr> {
    Ok(user::Entity::delete_by_id(id).exec(db).await?.rows_affected > 0)
}
