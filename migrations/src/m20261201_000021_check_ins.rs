//! A debrief-queue entry may be about no one contact: a supervisor's check-in suggested
//! for a volunteer who stepped back often. `debriefs.contact_id` becomes optional
//! (SQLite cannot drop a NOT NULL, so there the table is rebuilt, rows and index kept).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = r#"CREATE UNIQUE INDEX "debriefs_contact_volunteer" ON "debriefs" ("contact_id", "volunteer_id")"#;

/// The SQLite table with `contact_id` `NULL` or not.
fn sqlite_table(name: &str, contact_id: &str) -> String {
    format!(
        r#"CREATE TABLE "{name}" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "helpline_id" integer NOT NULL, "volunteer_id" integer NOT NULL, "contact_id" integer {contact_id}, "requested_at" timestamp_with_timezone_text NOT NULL, "done_at" timestamp_with_timezone_text NULL, "done_by" integer NULL, "notes" text NULL, FOREIGN KEY ("volunteer_id") REFERENCES "volunteers" ("id") ON DELETE CASCADE, FOREIGN KEY ("contact_id") REFERENCES "contacts" ("id") ON DELETE CASCADE )"#
    )
}

/// Rebuilds SQLite's `debriefs` with `contact_id` as `contact_id` says, keeping its rows
/// (`keep` chooses which).
async fn rebuild_sqlite(
    manager: &SchemaManager<'_>,
    contact_id: &str,
    keep: &str,
) -> Result<(), DbErr> {
    // One batch, on one connection: a pooled connection that has not seen the table go
    // would refuse the rename.
    let batch = [
        sqlite_table("debriefs_rebuilt", contact_id),
        format!(
            r#"INSERT INTO "debriefs_rebuilt" SELECT "id", "helpline_id", "volunteer_id", "contact_id", "requested_at", "done_at", "done_by", "notes" FROM "debriefs" {keep}"#
        ),
        r#"DROP TABLE "debriefs""#.to_owned(),
        r#"ALTER TABLE "debriefs_rebuilt" RENAME TO "debriefs""#.to_owned(),
        INDEX.to_owned(),
    ]
    .join(";\n");
    manager.get_connection().execute_unprepared(&batch).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(manager, "NULL", "").await,
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        r#"ALTER TABLE "debriefs" ALTER COLUMN "contact_id" DROP NOT NULL"#,
                    )
                    .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Check-ins about no contact cannot be kept in the older shape.
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild_sqlite(manager, "NOT NULL", r#"WHERE "contact_id" IS NOT NULL"#).await
            }
            _ => {
                let db = manager.get_connection();
                db.execute_unprepared(r#"DELETE FROM "debriefs" WHERE "contact_id" IS NULL"#)
                    .await?;
                db.execute_unprepared(
                    r#"ALTER TABLE "debriefs" ALTER COLUMN "contact_id" SET NOT NULL"#,
                )
                .await?;
                Ok(())
            }
        }
    }
}
