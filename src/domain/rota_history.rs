//! The rota's memory: each time anything about a volunteer's place on the rota changes
//! (shifts, leave, extra shifts, pause, training, sign-offs, step-backs, limits, the
//! helplines they serve), a record of all of it as it now stands is kept with the time.
//! A question about the past is answered with the records in force then: each
//! volunteer's part of the stretch asked about is cut where their records change, and
//! each piece is answered with the rota of its own time.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ids::{HelplineId, TopicId};
use super::rota::Rota;
use super::step_back::StepBack;
use super::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};

/// Everything about a volunteer's place on the rota, as it stood from a moment on. Their
/// name and phone are not kept: a past rota is shown with today's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotaRecord {
    pub helplines: Vec<HelplineId>,
    pub training_status: TrainingStatus,
    pub training_completed_on: Option<NaiveDate>,
    pub refresher_due_on: Option<NaiveDate>,
    pub trained_voice: bool,
    pub trained_sms: bool,
    pub active: bool,
    pub limits: WellbeingLimits,
    /// With the time zone the volunteer lived by then.
    pub rota: Rota,
    pub ready_topics: Vec<TopicId>,
    pub stepped_back: Vec<StepBack>,
}

impl RotaRecord {
    pub fn new(
        profile: &VolunteerProfile,
        rota: Rota,
        ready_topics: Vec<TopicId>,
        stepped_back: Vec<StepBack>,
        helplines: Vec<HelplineId>,
    ) -> Self {
        Self {
            helplines,
            training_status: profile.training_status,
            training_completed_on: profile.training_completed_on,
            refresher_due_on: profile.refresher_due_on,
            trained_voice: profile.trained_voice,
            trained_sms: profile.trained_sms,
            active: profile.active,
            limits: profile.limits,
            rota,
            ready_topics,
            stepped_back,
        }
    }

    /// Today's `profile` (name, languages) with the rota facts of this record.
    pub fn profile_then(&self, profile: VolunteerProfile) -> VolunteerProfile {
        VolunteerProfile {
            time_zone: self.rota.time_zone,
            training_status: self.training_status,
            training_completed_on: self.training_completed_on,
            refresher_due_on: self.refresher_due_on,
            trained_voice: self.trained_voice,
            trained_sms: self.trained_sms,
            active: self.active,
            limits: self.limits,
            ..profile
        }
    }
}
