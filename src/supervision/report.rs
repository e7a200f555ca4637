//! A volunteer's after-contact report and what its flags set off, all in one transaction:
//! the new report version, each newly raised flag, the on-call supervisors' safeguarding
//! alert (through the outbox, so it is sent once the report is committed), the debrief
//! request, and a reviewed contact going back into review.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use crate::contact_flow::alerts;
use crate::domain::contact::Alert;
use crate::domain::ids::VolunteerId;
use crate::domain::supervision::{Flag, ReportInput, ReviewState};
use crate::state::AppState;
use crate::storage::entities::{contact, contact_report};
use crate::storage::{self, after_contact, reviews};

/// What submitting a report did.
pub struct Submitted {
    pub report: contact_report::Model,
    /// Flags this version raised for the first time.
    pub newly_raised: Vec<Flag>,
    /// On-call supervisors alerted by SMS about a safeguarding concern.
    pub supervisors_alerted: usize,
}

/// Stores `report` (already validated) as the next version of the volunteer's report on
/// `contact`, and acts on the flags it raises for the first time.
pub async fn submit(
    state: &AppState,
    contact: &contact::Model,
    volunteer_id: VolunteerId,
    helpline_name: &str,
    report: &ReportInput,
    now: DateTime<Utc>,
) -> Result<Submitted, DbErr> {
    let txn = storage::write_transaction(&state.db).await?;
    let stored = after_contact::add_report_version(
        &txn,
        &state.vault,
        contact.id,
        volunteer_id,
        report,
        now,
    )
    .await?;
    let mut newly_raised = Vec::new();
    let mut supervisors_alerted = 0;
    for &flag in &report.flags {
        if !after_contact::raise_flag(&txn, contact.id, flag, Some(volunteer_id), now).await? {
            continue;
        }
        newly_raised.push(flag);
        match flag {
            Flag::Safeguarding => {
                supervisors_alerted += alerts::alert_on_call(
                    &txn,
                    &state.vault,
                    contact,
                    helpline_name,
                    Alert::SafeguardingReport,
                    now,
                )
                .await?;
            }
            Flag::NeedsDebrief => {
                after_contact::request_debrief(
                    &txn,
                    contact.helpline_id,
                    volunteer_id,
                    contact.id,
                    now,
                )
                .await?;
            }
            Flag::Abusive => {}
        }
    }
    if !newly_raised.is_empty() {
        // A new concern on a contact already reviewed needs a supervisor's eyes again.
        reviews::set_state(
            &txn,
            contact.id,
            ReviewState::Reviewed,
            ReviewState::InReview,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Submitted {
        report: stored,
        newly_raised,
        supervisors_alerted,
    })
}
