//! The roster version: one counter that every change to volunteers, their helplines,
//! sign-offs, shifts, leave and extra shifts moves on (database triggers move it in the
//! transaction of the change). A server keeps each helpline's
//! roster in memory and re-reads it when the counter has moved, so several servers
//! sharing a database never route on a stale rota.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DbErr, Statement};

use super::rota::{RotaMember, helpline_members};

pub async fn version(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM roster_versions WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("roster version".into()))?;
    row.try_get("", "version")
}

/// A helpline's members, shared between the requests routing on them.
pub type Members = Arc<Vec<RotaMember>>;

/// Each helpline's members as of a roster version.
#[derive(Default)]
pub struct RosterCache {
    helplines: Mutex<HashMap<i32, (i64, Members)>>,
}

impl RosterCache {
    /// The helpline's members, read from the database only when the roster has changed
    /// since they were last read.
    pub async fn members(
        &self,
        db: &impl ConnectionTrait,
        helpline_id: i32,
    ) -> Result<Members, DbErr> {
        let current = version(db).await?;
        if let Some(members) = self.cached(helpline_id, current) {
            return Ok(members);
        }
        let members = Arc::new(helpline_members(db, helpline_id).await?);
        if let Ok(mut map) = self.helplines.lock() {
            map.insert(helpline_id, (current, members.clone()));
        }
        Ok(members)
    }

    fn cached(&self, helpline_id: i32, current: i64) -> Option<Members> {
        let map = self.helplines.lock().ok()?;
        let (version, members) = map.get(&helpline_id)?;
        (*version == current).then(|| members.clone())
    }
}
