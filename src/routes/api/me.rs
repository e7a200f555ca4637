//! `GET /me`: who the token belongs to.

use actix_web::{get, web::Json};
use serde::Serialize;

use crate::domain::access::{Principal, Role};

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeView {
    pub user_id: i32,
    pub role: Role,
    pub volunteer_id: Option<i32>,
    /// Helplines supervised (supervisor) or served (volunteer); empty for admins, who see all.
    pub helplines: Vec<i32>,
}

/// The caller's identity and scope.
#[utoipa::path(tag = "access", responses((status = 200, body = MeView)), security(("bearer" = [])))]
#[get("/me")]
pub async fn me(who: Principal) -> Json<MeView> {
    Json(MeView {
        user_id: who.user_id,
        role: who.role,
        volunteer_id: who.volunteer_id,
        helplines: who.helplines,
    })
}
