//! Entries peerline writes itself (a command-line erasure, the retention purge) name no
//! user: `audit_log.user_id` becomes optional, and the entries that used user 0 for it
//! say so with none. The log stays append-only: its guard is lifted only for this, inside
//! the migration's transaction. SQLite cannot drop a NOT NULL, so there the table is
//! rebuilt with its index and guard.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261122_000008_supervision::append_only_triggers;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite's `audit_log` with `user_id` as `user_id` says.
fn sqlite_table(name: &str, user_id: &str) -> String {
    format!(
        r#"CREATE TABLE "{name}" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "at" timestamp_with_timezone_text NOT NULL, "user_id" integer {user_id}, "token_id" integer NULL, "helpline_id" integer NULL, "action" varchar(40) NOT NULL, "contact_id" integer NULL, "detail" text NULL )"#
    )
}

/// Rebuilds SQLite's `audit_log` with `user_id` as `user_id` says, its rows copied with
/// the user written as `copied_user`.
async fn rebuild_sqlite(
    manager: &SchemaManager<'_>,
    user_id: &str,
    copied_user: &str,
) -> Result<(), DbErr> {
    // One batch, on one connection: a pooled connection that has not seen the table go
    // would refuse the rename.
    let mut batch = vec![
        r#"DROP TRIGGER IF EXISTS audit_log_no_update"#.to_owned(),
        r#"DROP TRIGGER IF EXISTS audit_log_no_delete"#.to_owned(),
        sqlite_table("audit_log_rebuilt", user_id),
        format!(
            r#"INSERT INTO "audit_log_rebuilt" SELECT "id", "at", {copied_user}, "token_id", "helpline_id", "action", "contact_id", "detail" FROM "audit_log""#
        ),
        r#"DROP TABLE "audit_log""#.to_owned(),
        r#"ALTER TABLE "audit_log_rebuilt" RENAME TO "audit_log""#.to_owned(),
        r#"CREATE INDEX "audit_log_helpline" ON "audit_log" ("helpline_id", "id")"#.to_owned(),
    ];
    batch.extend(
        append_only_triggers(DbBackend::Sqlite)
            .into_iter()
            .map(str::to_owned),
    );
    manager
        .get_connection()
        .execute_unprepared(&batch.join(";\n"))
        .await?;
    Ok(())
}

/// Runs `statements` on PostgreSQL with the append-only guard lifted.
async fn unguarded_postgres(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        .await?;
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    db.execute_unprepared("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild_sqlite(
                    manager,
                    "NULL",
                    r#"CASE WHEN "user_id" = 0 THEN NULL ELSE "user_id" END"#,
                )
                .await
            }
            _ => {
                unguarded_postgres(
                    manager,
                    &[
                        r#"ALTER TABLE "audit_log" ALTER COLUMN "user_id" DROP NOT NULL"#,
                        r#"UPDATE "audit_log" SET "user_id" = NULL WHERE "user_id" = 0"#,
                    ],
                )
                .await
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild_sqlite(manager, "NOT NULL", r#"COALESCE("user_id", 0)"#).await
            }
            _ => {
                unguarded_postgres(
                    manager,
                    &[
                        r#"UPDATE "audit_log" SET "user_id" = 0 WHERE "user_id" IS NULL"#,
                        r#"ALTER TABLE "audit_log" ALTER COLUMN "user_id" SET NOT NULL"#,
                    ],
                )
                .await
            }
        }
    }
}
