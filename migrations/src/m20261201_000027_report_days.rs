//! Each settled local day's report tallies, kept so that a year's report adds up days
//! instead of counting a million contacts. A day is kept under a generation: a trigger on
//! every table its tallies are counted from moves the generation on, in the transaction
//! of the change, so a tally counted before a later change (a flag raised on an old
//! contact, an outcome corrected, a volunteer's long-contact limit changed) is never read.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_helplines::Helplines;
use crate::{cascade, drop_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportDays {
    Table,
    HelplineId,
    /// The local day's bounds, as Unix seconds.
    StartsAt,
    EndsAt,
    /// The local day, YYYY-MM-DD, in `time_zone`.
    Day,
    TimeZone,
    /// Moved on by every change to what the day's tallies count.
    Generation,
    /// When the row was added (Unix seconds): its day is tallied only once every change
    /// under way then has committed.
    PlantedAt,
    /// The tallies, as JSON, and the generation they were counted at.
    ContactsTally,
    VolunteersTally,
    TalliedGeneration,
}

/// A contact's columns the tallies count.
const CONTACT_COLUMNS: &str = "helpline_id, received_at, channel, topic_id, outcome, \
    peer_match_tier, peer_match_free, answered_by, answered_at, ended_at, wait_secs, talk_secs";

/// The statement that moves on the generation of the day that holds `received_at`
/// (an instant column, as SQL) at helpline `helpline_id`.
fn bump(backend: DbBackend, helpline_id: &str, received_at: &str) -> String {
    let epoch = match backend {
        DbBackend::Postgres => format!("CAST(EXTRACT(EPOCH FROM {received_at}) AS BIGINT)"),
        _ => format!("CAST(strftime('%s', {received_at}) AS INTEGER)"),
    };
    // A local day is at most 25 hours long: the range keeps the probe to a few rows.
    format!(
        "UPDATE report_days SET generation = generation + 1 \
         WHERE helpline_id = {helpline_id} AND starts_at > {epoch} - 90000 \
         AND starts_at <= {epoch} AND ends_at > {epoch}"
    )
}

/// The same, for a row of a table that names a contact by `contact_id`.
fn bump_through_contact(backend: DbBackend, contact_id: &str) -> String {
    bump(
        backend,
        &format!("(SELECT c.helpline_id FROM contacts c WHERE c.id = {contact_id})"),
        &format!("(SELECT c.received_at FROM contacts c WHERE c.id = {contact_id})"),
    )
}

/// A watched table: its name, the columns whose change matters, how a row's change
/// moves its day on (given `NEW` or `OLD`), and, where the row tells, whether it may lie
/// in a kept day at all.
struct Watched {
    table: &'static str,
    columns: &'static str,
    bump: fn(DbBackend, &str) -> String,
    may_be_kept: Option<fn(DbBackend, &str) -> String>,
}

/// A contact received in the last day lies in no kept day (days are kept two days after
/// they end): the trigger is skipped for it, which is every change a live call or
/// conversation makes. The day to spare allows for servers' clocks running ahead.
fn received_over_a_day_ago(backend: DbBackend, row: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("{row}.received_at < now() - interval '1 day'"),
        _ => format!(
            "CAST(strftime('%s', {row}.received_at) AS INTEGER) \
             < CAST(strftime('%s', 'now') AS INTEGER) - 86400"
        ),
    }
}

const WATCHED: &[Watched] = &[
    Watched {
        table: "contacts",
        columns: CONTACT_COLUMNS,
        bump: |backend, row| {
            bump(
                backend,
                &format!("{row}.helpline_id"),
                &format!("{row}.received_at"),
            )
        },
        may_be_kept: Some(received_over_a_day_ago),
    },
    Watched {
        table: "contact_flags",
        columns: "contact_id",
        bump: |backend, row| bump_through_contact(backend, &format!("{row}.contact_id")),
        may_be_kept: None,
    },
    Watched {
        table: "offers",
        columns: "contact_id, volunteer_id, offered_at, outcome",
        bump: |backend, row| bump_through_contact(backend, &format!("{row}.contact_id")),
        may_be_kept: None,
    },
];

/// A volunteer's long-contact limit counts in every day they took a contact.
const LIMIT_CHANGED: &str =
    "UPDATE report_days SET generation = generation + 1 WHERE tallied_generation IS NOT NULL";

fn name(table: &str) -> String {
    format!("report_days_follow_{table}")
}

/// Each trigger's name suffix, event and the rows it sees.
fn events(columns: &str) -> [(&'static str, String, &'static [&'static str]); 3] {
    [
        ("insert", "INSERT".to_owned(), &["NEW"]),
        ("delete", "DELETE".to_owned(), &["OLD"]),
        ("update", format!("UPDATE OF {columns}"), &["OLD", "NEW"]),
    ]
}

async fn create_triggers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    for watched in WATCHED {
        let (table, name) = (watched.table, name(watched.table));
        let bump = |row: &str| (watched.bump)(backend, row);
        if backend == DbBackend::Postgres {
            db.execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN \
                 IF TG_OP <> 'INSERT' THEN {old}; END IF; \
                 IF TG_OP <> 'DELETE' THEN {new}; END IF; \
                 RETURN NULL; END $$ LANGUAGE plpgsql",
                old = bump("OLD"),
                new = bump("NEW"),
            ))
            .await?;
        }
        for (suffix, event, rows) in events(watched.columns) {
            let when = watched.may_be_kept.map_or(String::new(), |may_be_kept| {
                let any: Vec<String> = rows.iter().map(|row| may_be_kept(backend, row)).collect();
                format!(" WHEN ({})", any.join(" OR "))
            });
            let sql = match backend {
                DbBackend::Postgres => format!(
                    "CREATE TRIGGER {name}_{suffix} AFTER {event} ON {table} FOR EACH ROW\
                     {when} EXECUTE FUNCTION {name}()"
                ),
                _ => {
                    let bodies: Vec<String> = rows.iter().map(|row| bump(row)).collect();
                    format!(
                        "CREATE TRIGGER {name}_{suffix} AFTER {event} ON {table} FOR EACH ROW\
                         {when} BEGIN {}; END",
                        bodies.join("; ")
                    )
                }
            };
            db.execute_unprepared(&sql).await?;
        }
    }
    let limit = name("volunteers");
    match backend {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION {limit}() RETURNS trigger AS $$ BEGIN \
                 {LIMIT_CHANGED}; RETURN NULL; END $$ LANGUAGE plpgsql"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {limit} AFTER UPDATE OF long_contact_minutes ON volunteers \
                 FOR EACH ROW WHEN (OLD.long_contact_minutes IS DISTINCT FROM \
                 NEW.long_contact_minutes) EXECUTE FUNCTION {limit}()"
            ))
            .await?;
        }
        _ => {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {limit} AFTER UPDATE OF long_contact_minutes ON volunteers \
                 WHEN OLD.long_contact_minutes IS NOT NEW.long_contact_minutes \
                 BEGIN {LIMIT_CHANGED}; END"
            ))
            .await?;
        }
    }
    Ok(())
}

async fn drop_triggers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let tables = WATCHED.iter().map(|w| w.table).chain(["volunteers"]);
    for table in tables {
        let name = name(table);
        for suffix in ["", "_insert", "_delete", "_update"] {
            db.execute_unprepared(&match backend {
                DbBackend::Postgres => format!("DROP TRIGGER IF EXISTS {name}{suffix} ON {table}"),
                _ => format!("DROP TRIGGER IF EXISTS {name}{suffix}"),
            })
            .await?;
        }
        if backend == DbBackend::Postgres {
            db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}()"))
                .await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportDays::Table)
                    .col(integer(ReportDays::HelplineId))
                    .col(big_integer(ReportDays::StartsAt))
                    .col(big_integer(ReportDays::EndsAt))
                    .col(string(ReportDays::Day))
                    .col(string(ReportDays::TimeZone))
                    .col(big_integer(ReportDays::Generation).default(0))
                    .col(big_integer(ReportDays::PlantedAt))
                    .col(text_null(ReportDays::ContactsTally))
                    .col(text_null(ReportDays::VolunteersTally))
                    .col(big_integer_null(ReportDays::TalliedGeneration))
                    .primary_key(
                        Index::create()
                            .col(ReportDays::HelplineId)
                            .col(ReportDays::StartsAt),
                    )
                    .foreign_key(&mut cascade(
                        ReportDays::Table,
                        ReportDays::HelplineId,
                        Helplines::Table,
                        Helplines::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        create_triggers(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_triggers(manager).await?;
        drop_tables(manager, [ReportDays::Table.into_iden()]).await
    }
}
