//! The append-only audit log: who looked at or changed what, when, with which token.
//! Rows are only ever inserted (the database refuses updates and deletes).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::Scope;
use super::entities::audit_entry;
use crate::domain::access::Principal;
use crate::domain::ids::{ContactId, HelplineId, UserId};

/// Something a user did that the audit log records.
pub struct Audited<'a> {
    pub action: &'a str,
    pub helpline_id: Option<HelplineId>,
    pub contact_id: Option<ContactId>,
    pub detail: Option<serde_json::Value>,
}

impl<'a> Audited<'a> {
    pub fn new(action: &'a str) -> Self {
        Self {
            action,
            helpline_id: None,
            contact_id: None,
            detail: None,
        }
    }

    pub fn helpline(mut self, helpline_id: HelplineId) -> Self {
        self.helpline_id = Some(helpline_id);
        self
    }

    pub fn contact(mut self, helpline_id: HelplineId, contact_id: ContactId) -> Self {
        self.helpline_id = Some(helpline_id);
        self.contact_id = Some(contact_id);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Appends an entry for `who`.
pub async fn record(
    db: &impl ConnectionTrait,
    who: &Principal,
    entry: Audited<'_>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    record_for_user(db, who.user_id, Some(who.token_id), entry, at).await
}

/// Appends an entry for something peerline did itself, with no user (`by` says which
/// command or job): a command-line erasure, the daily retention purge.
pub async fn record_by_peerline(
    db: &impl ConnectionTrait,
    entry: Audited<'_>,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut detail = entry
        .detail
        .clone()
        .unwrap_or_else(|| serde_json::json!({}));
    if let Some(fields) = detail.as_object_mut() {
        fields.insert("by".into(), serde_json::Value::String(by.to_owned()));
    }
    append(db, None, None, entry.detail(detail), at).await
}

/// Appends an entry for a user who holds no token yet (a sign-in that failed, or a
/// sign-in link issued from the command line).
pub async fn record_for_user(
    db: &impl ConnectionTrait,
    user_id: UserId,
    token_id: Option<i32>,
    entry: Audited<'_>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    append(db, Some(user_id), token_id, entry, at).await
}

async fn append(
    db: &impl ConnectionTrait,
    user_id: Option<UserId>,
    token_id: Option<i32>,
    entry: Audited<'_>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = audit_entry::ActiveModel {
        at: Set(at),
        user_id: Set(user_id),
        token_id: Set(token_id),
        helpline_id: Set(entry.helpline_id),
        action: Set(entry.action.to_owned()),
        contact_id: Set(entry.contact_id),
        detail: Set(entry.detail.map(|d| d.to_string())),
        ..Default::default()
    };
    audit_entry::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records a change to where calls go: what changed, before and after (numbers masked),
/// once per helpline it concerns, so each helpline's supervisors see it. Nothing is
/// written when nothing changed.
pub async fn record_change(
    db: &impl ConnectionTrait,
    who: &Principal,
    action: &str,
    helplines: &[HelplineId],
    subject: serde_json::Value,
    (before, after): (&serde_json::Value, &serde_json::Value),
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut changed = crate::domain::audit_diff::changes(before, after);
    for bookkeeping in ["id", "created_at", "updated_at"] {
        changed.remove(bookkeeping);
    }
    if changed.is_empty() {
        return Ok(());
    }
    let detail = serde_json::json!({ "of": subject, "changes": changed });
    for helpline_id in helplines {
        let entry = Audited::new(action)
            .helpline(*helpline_id)
            .detail(detail.clone());
        record(db, who, entry, at).await?;
    }
    Ok(())
}

/// What an audit query narrows to.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub helpline_id: Option<HelplineId>,
    pub contact_id: Option<ContactId>,
    pub user_id: Option<UserId>,
    pub action: Option<String>,
}

/// A page of the log, newest first, within the scope's helplines (admins see entries with
/// no helpline too; volunteers see none).
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &AuditFilter,
    before: Option<i32>,
    limit: u64,
) -> Result<Vec<audit_entry::Model>, DbErr> {
    let mut query = audit_entry::Entity::find();
    match scope {
        Scope::All => {}
        Scope::Helplines(ids) => {
            query = query.filter(audit_entry::Column::HelplineId.is_in(ids.clone()));
        }
        Scope::Volunteer { .. } => return Ok(Vec::new()),
    }
    if let Some(id) = filter.helpline_id {
        query = query.filter(audit_entry::Column::HelplineId.eq(id));
    }
    if let Some(id) = filter.contact_id {
        query = query.filter(audit_entry::Column::ContactId.eq(id));
    }
    if let Some(id) = filter.user_id {
        query = query.filter(audit_entry::Column::UserId.eq(id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_entry::Column::Action.eq(action.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(audit_entry::Column::Id.lt(before));
    }
    query
        .order_by_desc(audit_entry::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
}
