//! Sealed columns in bulk: sealing what an older version stored in the clear, and moving
//! everything sealed or hashed under one key to another (`peerline rotate-key`). Each
//! pass walks a table in batches by id and changes a row only if it still holds what was
//! read (compare and set), so passes may run while servers work, may run on two machines
//! at once, and may stop at any moment and start again from the beginning.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{Condition, ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use crate::domain::phone::E164;
use crate::secrets::{Vault, WITHHELD_HINT};

/// Rows read at once.
const BATCH: u64 = 500;

/// People's words kept sealed: message bodies, the volunteers' notes, supervisors' and
/// volunteers' free text.
const SEALED_TEXT: [(&str, &str); 10] = [
    ("messages", "body"),
    ("outbox_messages", "body"),
    ("contact_reports", "notes"),
    ("debriefs", "notes"),
    ("reviews", "comment"),
    ("contact_flags", "action"),
    ("blocked_callers", "reason"),
    ("conflicts", "note"),
    ("rota_exceptions", "note"),
    ("callbacks", "reason"),
];

/// Volunteers' and staff's phones, kept sealed beside the keyed hash they are found by:
/// (table, sealed column, hash column).
const PHONES: [(&str, &str, &str); 2] = [
    ("volunteers", "phone", "phone_hash"),
    ("users", "phone", "phone_hash"),
];

/// The other numbers kept sealed beside their keyed hash.
const OTHER_NUMBERS: [(&str, &str, &str); 4] = [
    ("contacts", "caller_encrypted", "caller_hash"),
    ("outbox_messages", "to_encrypted", "to_hash"),
    ("conflicts", "number_sealed", "number_hash"),
    ("blocked_callers", "number_sealed", "number_hash"),
];

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    /// Rows changed.
    pub changed: u64,
    /// Values no key of the vault opens (tampered with, or sealed under a key it lacks).
    pub unreadable: u64,
}

impl std::ops::AddAssign for Resealed {
    fn add_assign(&mut self, other: Self) {
        self.changed += other.changed;
        self.unreadable += other.unreadable;
    }
}

/// What becomes of one stored value.
enum Verdict {
    Keep,
    Replace(String),
    Unreadable,
}

/// Once per database: seals what versions before sealing at rest kept in the clear
/// (message bodies, notes, free text, volunteers' and staff's phones), and finds the
/// numbers of older blocks, conflicts and opt-outs again. Run before the server serves.
pub async fn seal_what_was_kept_in_the_clear(
    db: &DatabaseConnection,
    vault: &Vault,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    if super::secrets::get(db, super::secrets::SEALED_AT_REST)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let mut done = seal_plain_text(db, vault).await?;
    for phones in PHONES {
        done += reseal_number_column(db, vault, phones).await?;
    }
    let unmovable = recover_hashed_numbers(db, vault).await?;
    super::secrets::get_or_create(db, super::secrets::SEALED_AT_REST, || now.to_rfc3339(), now)
        .await?;
    if done.changed > 0 {
        tracing::warn!(
            sealed = done.changed,
            unreadable = done.unreadable,
            "sealed the phones, messages and notes an earlier version kept in the clear"
        );
    }
    let unmovable: u64 = unmovable.iter().map(|(_, n)| n).sum();
    if unmovable > 0 {
        tracing::warn!(
            unmovable,
            "blocks, conflicts or opt-outs made before numbers were kept sealed hold only a hash: they cannot move to a new secret key"
        );
    }
    Ok(())
}

/// Seals the free text an older version stored in the clear. A value that opens under
/// the vault is sealed already.
async fn seal_plain_text(db: &DatabaseConnection, vault: &Vault) -> Result<Resealed, DbErr> {
    let mut done = Resealed::default();
    for (table, column) in SEALED_TEXT {
        done += reseal_column(db, table, column, |value| {
            if vault.open_text(value).is_some() {
                Verdict::Keep
            } else {
                Verdict::Replace(vault.seal_text(value))
            }
        })
        .await?;
    }
    Ok(done)
}

/// Seals again, under the vault's current key, the free text sealed under its previous
/// key.
pub async fn reseal_text(db: &DatabaseConnection, vault: &Vault) -> Result<Resealed, DbErr> {
    let mut done = Resealed::default();
    for (table, column) in SEALED_TEXT {
        done += reseal_column(db, table, column, |value| current_form(vault, value)).await?;
    }
    Ok(done)
}

/// The value under the current key: kept if it is, sealed again if another key opens it.
fn current_form(vault: &Vault, value: &str) -> Verdict {
    if vault.is_current(value) {
        return Verdict::Keep;
    }
    match vault.open_text(value) {
        Some(plain) => Verdict::Replace(vault.seal_text(&plain)),
        None => Verdict::Unreadable,
    }
}

/// Walks `table.column` (rows with a value) by id, replacing values as `verdict` says.
async fn reseal_column(
    db: &DatabaseConnection,
    table: &'static str,
    column: &'static str,
    verdict: impl Fn(&str) -> Verdict,
) -> Result<Resealed, DbErr> {
    let columns = [column];
    walk(db, Walk::over_sealed(table, &columns), |row| {
        let value: String = row.try_get("", column)?;
        Ok(match verdict(&value) {
            Verdict::Keep => Step::Keep,
            Verdict::Unreadable => Step::Unreadable,
            Verdict::Replace(new) => Step::Set {
                values: vec![new],
                was: value,
            },
        })
    })
    .await
}

/// Rows where `column` holds a value.
fn has_value(column: &str) -> Condition {
    Condition::all()
        .add(Expr::col(Alias::new(column)).is_not_null())
        .add(Expr::col(Alias::new(column)).ne(""))
}

/// What a walk does with one row.
enum Step {
    Keep,
    Unreadable,
    /// Sets the walk's columns to these values (in order), unless the row's guard column
    /// no longer holds `was` (another pass or a server changed it meanwhile).
    Set {
        values: Vec<String>,
        was: String,
    },
}

/// What a walk reads and writes: the rows of `table` where `condition` holds; `read`
/// columns read for each; `set` columns written, each row only if `guard` still holds
/// what was read.
struct Walk<'a> {
    table: &'a str,
    condition: Condition,
    read: &'a [&'a str],
    set: &'a [&'a str],
    guard: &'a str,
}

impl<'a> Walk<'a> {
    /// The rows of `table` whose first of `columns` holds a value, read and written whole,
    /// guarded by that first column.
    fn over_sealed(table: &'a str, columns: &'a [&'a str]) -> Self {
        let guard = columns.first().copied().unwrap_or("id");
        Self {
            table,
            condition: has_value(guard),
            read: columns,
            set: columns,
            guard,
        }
    }
}

/// Walks the rows by id in batches, taking the `step` each row asks for: one read and one
/// update statement a batch, so servers write in between.
async fn walk(
    db: &DatabaseConnection,
    walk: Walk<'_>,
    step: impl Fn(&sea_orm::QueryResult) -> Result<Step, DbErr>,
) -> Result<Resealed, DbErr> {
    let mut done = Resealed::default();
    let mut after = 0;
    loop {
        let select = Query::select()
            .column(Alias::new("id"))
            .columns(walk.read.iter().map(|c| Alias::new(*c)))
            .from(Alias::new(walk.table))
            .and_where(Expr::col(Alias::new("id")).gt(after))
            .cond_where(walk.condition.clone())
            .order_by(Alias::new("id"), sea_orm::Order::Asc)
            .limit(BATCH)
            .to_owned();
        let rows = db.query_all(&select).await?;
        let Some(last) = rows.last() else {
            return Ok(done);
        };
        after = last.try_get::<i32>("", "id")?;
        let mut changes = Vec::new();
        for row in &rows {
            match step(row)? {
                Step::Keep => {}
                Step::Unreadable => done.unreadable += 1,
                Step::Set { values, was } => {
                    changes.push((row.try_get::<i32>("", "id")?, was, values))
                }
            }
        }
        if !changes.is_empty() {
            done.changed += db
                .execute_raw(batch_update(db, &walk, changes))
                .await?
                .rows_affected();
        }
    }
}

/// One statement that applies `changes` (id, the guard's value as read, the new values):
/// `UPDATE t SET c = v.column3 ... FROM (VALUES (id, was, new...), ...) v WHERE t.id =
/// v.column1 AND t.guard = v.column2`, which SQLite and PostgreSQL both run (each names a
/// `VALUES` list's columns `column1`, `column2`, ...).
fn batch_update(
    db: &DatabaseConnection,
    walk: &Walk<'_>,
    changes: Vec<(i32, String, Vec<String>)>,
) -> sea_orm::Statement {
    let width = walk.set.len() + 2;
    let rows: Vec<String> = (0..changes.len())
        .map(|i| {
            // The first row types the columns: the id an integer, the rest text.
            let id = if i == 0 { "CAST(? AS INTEGER)" } else { "?" };
            format!("({id}{})", ", ?".repeat(width - 1))
        })
        .collect();
    let sets: Vec<String> = walk
        .set
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = v.column{}", i + 3))
        .collect();
    let (table, guard) = (walk.table, walk.guard);
    let sql = format!(
        "UPDATE {table} SET {} FROM (VALUES {}) AS v \
         WHERE {table}.id = v.column1 AND {table}.{guard} = v.column2",
        sets.join(", "),
        rows.join(", ")
    );
    let mut values: Vec<sea_orm::Value> = Vec::new();
    for (id, was, new) in changes {
        values.push(id.into());
        values.push(was.into());
        values.extend(new.into_iter().map(Into::into));
    }
    super::report_queries::statement(db.get_database_backend(), &sql, values)
}

/// Phones and callers' numbers: each sealed under the current key and hashed under it.
/// A phone an older version stored in the clear (no hash yet) is sealed now; a withheld
/// caller's hash is made again from its call; an erased contact holds nothing.
pub async fn reseal_numbers(db: &DatabaseConnection, vault: &Vault) -> Result<Resealed, DbErr> {
    let mut done = Resealed::default();
    for numbers in PHONES.into_iter().chain(OTHER_NUMBERS) {
        done += reseal_number_column(db, vault, numbers).await?;
    }
    done += rehash_withheld_callers(db, vault).await?;
    done += reseal_opt_outs(db, vault).await?;
    Ok(done)
}

/// The sealed number and hash `value` should have: `None` when they already do.
fn number_verdict(
    vault: &Vault,
    value: &str,
    hash: Option<&str>,
) -> Result<Option<(String, String)>, ()> {
    let (number, sealed) = match vault.open(value) {
        Some(number) if vault.is_current(value) => (number, value.to_owned()),
        Some(number) => {
            let sealed = vault.seal(&number);
            (number, sealed)
        }
        // Stored in the clear by a version that did not seal phones.
        None => match E164::parse(value) {
            Ok(number) => {
                let sealed = vault.seal(&number);
                (number, sealed)
            }
            Err(_) => return Err(()),
        },
    };
    let new_hash = vault.hash(&number);
    if sealed == value && hash == Some(new_hash.as_str()) {
        Ok(None)
    } else {
        Ok(Some((sealed, new_hash)))
    }
}

async fn reseal_number_column(
    db: &DatabaseConnection,
    vault: &Vault,
    (table, sealed, hash): (&'static str, &'static str, &'static str),
) -> Result<Resealed, DbErr> {
    let columns = [sealed, hash];
    walk(db, Walk::over_sealed(table, &columns), |row| {
        let value: String = row.try_get("", sealed)?;
        let old_hash: Option<String> = row.try_get("", hash)?;
        Ok(match number_verdict(vault, &value, old_hash.as_deref()) {
            Ok(None) => Step::Keep,
            Err(()) => Step::Unreadable,
            Ok(Some((new_sealed, new_hash))) => Step::Set {
                values: vec![new_sealed, new_hash],
                was: value,
            },
        })
    })
    .await
}

/// A withheld caller's hash is the call's own (see `Vault::hash_withheld`): made again
/// under the current key.
async fn rehash_withheld_callers(
    db: &DatabaseConnection,
    vault: &Vault,
) -> Result<Resealed, DbErr> {
    let withheld = Condition::all()
        .add(Expr::col(Alias::new("caller_hint")).eq(WITHHELD_HINT))
        .add(Expr::col(Alias::new("erased_at")).is_null());
    let walking = Walk {
        table: "contacts",
        condition: withheld,
        read: &["provider_sid", "caller_hash"],
        set: &["caller_hash"],
        guard: "caller_hash",
    };
    walk(db, walking, |row| {
        let sid: String = row.try_get("", "provider_sid")?;
        let old: String = row.try_get("", "caller_hash")?;
        let new = vault.hash_withheld(&sid);
        Ok(if new == old {
            Step::Keep
        } else {
            Step::Set {
                values: vec![new],
                was: old,
            }
        })
    })
    .await
}

/// Opt-outs are keyed by the number's hash and the helpline number: one under the old
/// hash moves to the new (or goes, if the number opted out again under the new key).
async fn reseal_opt_outs(db: &DatabaseConnection, vault: &Vault) -> Result<Resealed, DbErr> {
    use super::entities::{Sealed, text_opt_out};
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
    let mut done = Resealed::default();
    let rows = text_opt_out::Entity::find()
        .filter(text_opt_out::Column::NumberSealed.is_not_null())
        .all(db)
        .await?;
    for chunk in rows.chunks(usize::try_from(BATCH).unwrap_or(500)) {
        let txn = db.begin().await?;
        for row in chunk {
            let Some(sealed) = &row.number_sealed else {
                continue;
            };
            let Ok(Some((new_sealed, new_hash))) =
                number_verdict(vault, &sealed.0, Some(&row.number_hash))
            else {
                if vault.open(&sealed.0).is_none() {
                    done.unreadable += 1;
                }
                continue;
            };
            text_opt_out::Entity::insert(text_opt_out::ActiveModel {
                number_hash: Set(new_hash.clone()),
                helpline_number: Set(row.helpline_number.clone()),
                opted_out_at: Set(row.opted_out_at),
                number_sealed: Set(Some(Sealed(new_sealed))),
            })
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(&txn)
            .await?;
            if new_hash != row.number_hash {
                text_opt_out::Entity::delete_many()
                    .filter(text_opt_out::Column::NumberHash.eq(row.number_hash.clone()))
                    .filter(text_opt_out::Column::HelplineNumber.eq(row.helpline_number.clone()))
                    .exec(&txn)
                    .await?;
            }
            done.changed += 1;
        }
        txn.commit().await?;
    }
    Ok(done)
}

/// Blocks, conflicts and opt-outs made before their numbers were kept sealed hold only a
/// hash: the number is found again where a contact or a message to that number keeps it
/// sealed. Those left without one cannot move to another key; how many of each.
pub async fn recover_hashed_numbers(
    db: &DatabaseConnection,
    vault: &Vault,
) -> Result<Vec<(&'static str, u64)>, DbErr> {
    let mut unmovable = Vec::new();
    for (table, key) in [
        ("conflicts", "id"),
        ("blocked_callers", "id"),
        ("text_opt_outs", "number_hash"),
    ] {
        let missing = Query::select()
            .column(Alias::new("number_hash"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("number_sealed")).is_null())
            .distinct()
            .to_owned();
        let mut left = 0;
        for row in db.query_all(&missing).await? {
            let hash: String = row.try_get("", "number_hash")?;
            match sealed_number_with_hash(db, vault, &hash).await? {
                Some(sealed) => {
                    let update = Query::update()
                        .table(Alias::new(table))
                        .value(Alias::new("number_sealed"), sealed)
                        .and_where(Expr::col(Alias::new("number_hash")).eq(hash))
                        .and_where(Expr::col(Alias::new("number_sealed")).is_null())
                        .to_owned();
                    db.execute(&update).await?;
                }
                None => {
                    let count = Query::select()
                        .expr(Expr::col(Alias::new(key)).count())
                        .from(Alias::new(table))
                        .and_where(Expr::col(Alias::new("number_hash")).eq(hash))
                        .to_owned();
                    let row = db.query_one(&count).await?;
                    left += row
                        .map(|r| r.try_get_by_index::<i64>(0))
                        .transpose()?
                        .unwrap_or(0);
                }
            }
        }
        unmovable.push((table, u64::try_from(left).unwrap_or(0)));
    }
    Ok(unmovable)
}

/// A sealed number, under the vault's keys, whose hash is `hash`: from a contact, else
/// from a message.
async fn sealed_number_with_hash(
    db: &impl ConnectionTrait,
    vault: &Vault,
    hash: &str,
) -> Result<Option<String>, DbErr> {
    for (table, sealed, hashed) in [
        ("contacts", "caller_encrypted", "caller_hash"),
        ("outbox_messages", "to_encrypted", "to_hash"),
    ] {
        let select = Query::select()
            .column(Alias::new(sealed))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(hashed)).eq(hash))
            .and_where(Expr::col(Alias::new(sealed)).is_not_null())
            .and_where(Expr::col(Alias::new(sealed)).ne(""))
            .limit(10)
            .to_owned();
        for row in db.query_all(&select).await? {
            let value: String = row.try_get("", sealed)?;
            if let Some(number) = vault.open(&value)
                && vault.hashes(&number).iter().any(|h| h == hash)
            {
                return Ok(Some(value));
            }
        }
    }
    Ok(None)
}
