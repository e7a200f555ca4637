//! What every request handler shares.

use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::secrets::NumberHasher;

pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub numbers: NumberHasher,
}
