//! `/users`: accounts and their API tokens (admins only). A token is shown once, when
//! issued; only its hash is kept.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{require, visible_helpline};
use crate::domain::access::{Principal, Role, check_new_user};
use crate::domain::ids::{HelplineId, UserId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::timezone::TimeZone;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{ValidJson, ValidQuery};
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::entities::{api_token, user};
use crate::storage::users::{self, NewUser};
use crate::storage::{Page, PageRequest, volunteers};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub name: String,
    pub role: Role,
    /// Required for volunteers: their volunteer record.
    pub volunteer_id: Option<VolunteerId>,
    /// A supervisor's phone, for the on-call rota.
    #[schema(value_type = Option<String>)]
    pub phone: Option<E164>,
    /// A supervisor's time zone, for the on-call rota.
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<TimeZone>,
    /// Required for supervisors: the helplines they are scoped to.
    #[serde(default)]
    pub helplines: Vec<HelplineId>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub volunteer_id: Option<VolunteerId>,
    pub phone: Option<String>,
    pub time_zone: Option<String>,
    pub helplines: Vec<HelplineId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// The token's id, to list or revoke it.
    pub id: i32,
    /// The bearer token. It is shown only now: store it safely.
    pub token: String,
}

async fn view(state: &AppState, row: user::Model) -> Result<UserView, ApiError> {
    let helplines = users::user_helplines(&state.db, row.id).await?;
    let phone = users::phone_of(&state.vault, &row).map(|p| p.to_string());
    Ok(UserView {
        id: row.id,
        name: row.name,
        role: row.role,
        volunteer_id: row.volunteer_id,
        phone,
        time_zone: row.time_zone,
        helplines,
        created_at: row.created_at,
    })
}

/// All users (admins only).
#[utoipa::path(tag = "access", params(PageRequest), security(("bearer" = [])),
    responses((status = 200, body = Page<UserView>), (status = 403, body = ErrorBody)))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    page: ValidQuery<PageRequest>,
) -> Result<HttpResponse, ApiError> {
    require(who.is_admin(), "only an admin may manage users")?;
    let rows = users::list(&state.db, page.0).await?;
    let page = Page::from_rows(rows, page.0, |r| r.id.0, |r| r);
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        items.push(view(&state, row).await?);
    }
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_after: page.next_after,
    }))
}

/// Creates a user (admins only). Issue a token separately.
#[utoipa::path(tag = "access", request_body = UserInput, security(("bearer" = [])),
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<UserInput>,
) -> Result<HttpResponse, ApiError> {
    let row = add(&state, &who, body.0).await?;
    Ok(HttpResponse::Created().json(view(&state, row).await?))
}

/// Creates a user (admins only). Audited.
pub async fn add(
    state: &AppState,
    who: &Principal,
    input: UserInput,
) -> Result<user::Model, ApiError> {
    require(who.is_admin(), "only an admin may manage users")?;
    crate::domain::validate::text("name", &input.name, 200)?;
    check_new_user(input.role, input.volunteer_id, &input.helplines)?;
    if let Some(volunteer_id) = input.volunteer_id
        && volunteers::get(&state.db, &who.scope(), volunteer_id)
            .await?
            .is_none()
    {
        return Err(ApiError::field(
            "volunteer_id",
            format!("no volunteer {volunteer_id}"),
        ));
    }
    let helplines = input.helplines;
    for (i, id) in helplines.iter().enumerate() {
        if visible_helpline(state, who, *id).await.is_err() {
            return Err(ApiError::field(
                format!("helplines[{i}]"),
                format!("no helpline {id}"),
            ));
        }
    }
    let row = users::create(
        &state.db,
        &state.vault,
        NewUser {
            name: input.name.trim().to_owned(),
            role: input.role,
            volunteer_id: input.volunteer_id,
            phone: input.phone,
            time_zone: input.time_zone.map(String::from),
            helplines: helplines.clone(),
        },
        state.clock.now(),
    )
    .await?;
    let detail = json!({ "user_id": row.id, "role": row.role, "helplines": helplines });
    audit::record(
        &state.db,
        who,
        Audited::new("create_user").detail(detail),
        state.clock.now(),
    )
    .await?;
    Ok(row)
}

/// One user (admins only).
#[utoipa::path(tag = "access", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    require(who.is_admin(), "only an admin may manage users")?;
    let row = users::get(&state.db, *id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    Ok(HttpResponse::Ok().json(view(&state, row).await?))
}

/// Removes a user and revokes their tokens (admins only).
#[utoipa::path(tag = "access", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/users/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    require(who.is_admin(), "only an admin may manage users")?;
    if !users::delete(&state.db, *id).await? {
        return Err(ApiError::NotFound("user"));
    }
    let detail = json!({ "user_id": *id });
    audit::record(
        &state.db,
        &who,
        Audited::new("delete_user").detail(detail),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What a new token is for and when it stops working (both optional).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// To tell it from the user's other tokens, e.g. `reporting script`.
    pub name: Option<String>,
    /// When it stops working (RFC 3339, in the future); absent: it works until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API token as listed: never its secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i32,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

fn token_view(row: api_token::Model) -> TokenView {
    TokenView {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
    }
}

/// Issues a new API token for a user (admins only); it is shown only in this response.
#[utoipa::path(tag = "access", params(("id" = i32, Path)), request_body = NewToken, security(("bearer" = [])),
    responses((status = 201, body = IssuedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/users/{id}/tokens")]
pub async fn issue_token(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<UserId>,
    body: ValidJson<NewToken>,
) -> Result<HttpResponse, ApiError> {
    require(who.is_admin(), "only an admin may manage users")?;
    users::get(&state.db, *id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let NewToken { name, expires_at } = body.0;
    if let Some(name) = &name {
        crate::domain::validate::text("name", name, 100)?;
    }
    let now = state.clock.now();
    if expires_at.is_some_and(|end| end <= now) {
        return Err(ApiError::field("expires_at", "must be in the future"));
    }
    let (token, row) = users::issue_named_token(&state.db, *id, name, expires_at, now).await?;
    let detail = json!({ "user_id": *id, "token_id": row.id });
    audit::record(
        &state.db,
        &who,
        Audited::new("issue_token").detail(detail),
        now,
    )
    .await?;
    Ok(HttpResponse::Created().json(IssuedToken {
        id: row.id,
        token: token.expose_secret().to_owned(),
    }))
}

/// A user's API tokens, without their secrets (admins only).
#[utoipa::path(tag = "access", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/users/{id}/tokens")]
pub async fn tokens(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    require(who.is_admin(), "only an admin may manage users")?;
    users::get(&state.db, *id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let rows = users::tokens_of(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(token_view).collect::<Vec<_>>()))
}

/// Revokes one of a user's API tokens (admins only). Audited.
#[utoipa::path(tag = "access", params(("id" = i32, Path), ("token_id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/users/{id}/tokens/{token_id}")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(UserId, i32)>,
) -> Result<HttpResponse, ApiError> {
    require(who.is_admin(), "only an admin may manage users")?;
    let (id, token_id) = path.into_inner();
    if !users::revoke_token(&state.db, id, token_id).await? {
        return Err(ApiError::NotFound("token"));
    }
    let detail = json!({ "user_id": id, "token_id": token_id });
    audit::record(
        &state.db,
        &who,
        Audited::new("revoke_token").detail(detail),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
