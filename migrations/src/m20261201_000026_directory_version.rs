//! The helpline directory's version: one counter that every change to helplines, their
//! numbers and their topics moves on, in the transaction of the change (database
//! triggers, as for the roster). Each server keeps the directory in memory and reads only
//! this counter on a webhook, re-reading the directory when it has moved.

use sea_orm_migration::prelude::*;

use crate::create_counter;
use crate::m20261130_000009_roster_triggers::{
    Counter, create_function, drop_function, unwatch_with, watch_with,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum DirectoryVersions {
    Table,
    Id,
    Version,
}

const DIRECTORY: Counter = Counter {
    bump: "UPDATE directory_versions SET version = version + 1 WHERE id = 1",
    function: "directory_moves_on",
};

const WATCHED: &[&str] = &["helplines", "helpline_numbers", "topics"];
const EVENTS: &[&str] = &["INSERT", "UPDATE", "DELETE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_counter(
            manager,
            (
                DirectoryVersions::Table,
                DirectoryVersions::Id,
                DirectoryVersions::Version,
            ),
        )
        .await?;
        create_function(manager, &DIRECTORY).await?;
        for table in WATCHED {
            watch_with(manager, &DIRECTORY, table, EVENTS).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in WATCHED {
            unwatch_with(manager, &DIRECTORY, table, EVENTS).await?;
        }
        drop_function(manager, &DIRECTORY).await?;
        manager
            .drop_table(Table::drop().table(DirectoryVersions::Table).to_owned())
            .await
    }
}
