//! The helpline directory: every helpline with its settings, numbers and topics, kept in
//! memory by each server. Database triggers move a version counter in the transaction of
//! any change to helplines, their numbers or their topics; a webhook reads only that
//! counter and re-reads the directory when it has moved, so servers sharing a database
//! never answer a call with settings older than the request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

use super::entities::{helpline, helpline_number, topic};
use super::helplines::settings_of;
use crate::domain::helpline::HelplineSettings;
use crate::domain::ids::HelplineId;
use crate::domain::phone::E164;

/// One helpline as calls and texts need it.
#[derive(Debug)]
pub struct Listing {
    pub row: helpline::Model,
    /// The settings, or why the stored ones cannot be read.
    settings: Result<HelplineSettings, String>,
    /// Its topics, in id order.
    pub topics: Vec<topic::Model>,
}

impl Listing {
    pub fn settings(&self) -> Result<HelplineSettings, DbErr> {
        self.settings.clone().map_err(DbErr::Custom)
    }
}

/// Every helpline, as of one directory version.
#[derive(Debug)]
pub struct Directory {
    version: i64,
    by_id: HashMap<HelplineId, Arc<Listing>>,
    by_number: HashMap<String, HelplineId>,
}

impl Directory {
    pub fn helpline(&self, id: HelplineId) -> Option<Arc<Listing>> {
        self.by_id.get(&id).cloned()
    }

    /// The helpline whose number was dialled or texted.
    pub fn by_number(&self, number: &E164) -> Option<Arc<Listing>> {
        self.helpline(*self.by_number.get(number.as_str())?)
    }
}

/// This server's copy of the directory, once read.
#[derive(Default)]
pub struct DirectoryCache {
    current: RwLock<Option<Arc<Directory>>>,
}

impl DirectoryCache {
    /// The directory as of the database's current version: one read of the counter, and
    /// a read of every helpline only when it has moved.
    pub async fn current(&self, db: &impl ConnectionTrait) -> Result<Arc<Directory>, DbErr> {
        self.at_version(db, version(db).await?).await
    }

    /// The directory as of `version`, read with another read (see [`version_column`]).
    pub async fn at_version(
        &self,
        db: &impl ConnectionTrait,
        version: i64,
    ) -> Result<Arc<Directory>, DbErr> {
        if let Some(held) = self.held().filter(|held| held.version == version) {
            return Ok(held);
        }
        let fresh = Arc::new(read(db, version).await?);
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_none_or(|held| held.version <= version) {
            *current = Some(fresh.clone());
        }
        Ok(fresh)
    }

    fn held(&self) -> Option<Arc<Directory>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

async fn version(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    super::counter(db, "directory_versions").await
}

/// The name of the column [`version_column`] adds to a read.
pub const VERSION_COLUMN: &str = "directory_version";

/// The directory's version as one more column of another read, so that a webhook that
/// reads its contact learns in the same statement whether its directory is current.
pub fn version_column() -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::cust("(SELECT version FROM directory_versions WHERE id = 1)")
}

/// Every helpline, labelled with `version` read before it: a change committed in between
/// moves the counter again, so the next request reads once more.
async fn read(db: &impl ConnectionTrait, version: i64) -> Result<Directory, DbErr> {
    let rows = helpline::Entity::find().all(db).await?;
    let numbers = helpline_number::Entity::find().all(db).await?;
    let mut topics: HashMap<HelplineId, Vec<topic::Model>> = HashMap::new();
    for row in topic::Entity::find()
        .order_by_asc(topic::Column::Id)
        .all(db)
        .await?
    {
        topics.entry(row.helpline_id).or_default().push(row);
    }
    let by_id = rows
        .into_iter()
        .map(|row| {
            let listing = Listing {
                settings: settings_of(&row).map_err(|e| e.to_string()),
                topics: topics.remove(&row.id).unwrap_or_default(),
                row,
            };
            (listing.row.id, Arc::new(listing))
        })
        .collect();
    let by_number = numbers
        .into_iter()
        .map(|n| (n.number, n.helpline_id))
        .collect();
    Ok(Directory {
        version,
        by_id,
        by_number,
    })
}
