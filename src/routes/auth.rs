//! Bearer-token authentication: resolves the `Authorization` header to a `Principal`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header::AUTHORIZATION, web};

use crate::domain::access::Principal;
use crate::error::ApiError;
use crate::secrets::hash_token;
use crate::state::AppState;
use crate::storage::users;

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let (Some(state), Some(token)) = (state, token) else {
                return Err(ApiError::Unauthorized);
            };
            users::principal_for_token(&state.db, &hash_token(&token), state.clock.now())
                .await?
                .ok_or(ApiError::Unauthorized)
        })
    }
}
