//! `GET /me`: who the token belongs to.

use actix_web::{get, web::Json};
use serde::Serialize;

use crate::domain::access::{Principal, Role};
use crate::domain::ids::{HelplineId, UserId, VolunteerId};

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeView {
    pub user_id: UserId,
    pub role: Role,
    pub volunteer_id: Option<VolunteerId>,
    /// Helplines supervised (supervisor) or served (volunteer); empty for admins, who see all.
    pub helplines: Vec<HelplineId>,
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
