//! sea-orm entities: one module per table, mirroring the migrations exactly. State and
//! kind columns are the domain's enums (stored as their snake_case names); other
//! conversion into domain types happens in the storage modules.

/// A value sealed by the server's vault (`Vault::seal_text`): phones, message bodies and
/// people's notes are stored this way and read only through `Vault::open_text`.
#[derive(Clone, Debug, PartialEq, Eq, sea_orm::DeriveValueType)]
pub struct Sealed(pub String);

impl Sealed {
    /// `text` sealed under the vault's current key.
    pub fn seal(vault: &crate::secrets::Vault, text: &str) -> Self {
        Self(vault.seal_text(text))
    }

    /// `text`, if any, sealed.
    pub fn seal_some(vault: &crate::secrets::Vault, text: Option<&str>) -> Option<Self> {
        text.map(|text| Self::seal(vault, text))
    }

    /// The text, or `None` when it does not open under the vault's keys.
    pub fn open(&self, vault: &crate::secrets::Vault) -> Option<String> {
        vault.open_text(&self.0)
    }

    /// The text of `sealed`, if any and if it opens.
    pub fn open_some(vault: &crate::secrets::Vault, sealed: Option<&Self>) -> Option<String> {
        sealed.and_then(|sealed| sealed.open(vault))
    }
}

pub mod helpline {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::HelplineId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "helplines")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: HelplineId,
        pub name: String,
        pub time_zone: String,
        pub greeting: String,
        pub voice_language: String,
        pub languages: String,
        pub fallback_number: Option<String>,
        pub ring_timeout_secs: i32,
        pub ring_group_size: i32,
        pub max_wait_secs: i32,
        pub continuity_enabled: bool,
        pub continuity_days: i32,
        pub continuity_max_repeats: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// The texting settings, as JSON.
        pub texting: String,
        /// The supervision settings, as JSON.
        pub supervision: String,
        /// The rota care settings (reminders and cover requests), as JSON.
        pub rota: String,
        /// The callers' side settings (callbacks, the hold message), as JSON.
        pub callers: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod helpline_number {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::HelplineId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "helpline_numbers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub helpline_id: HelplineId,
        pub number: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod topic {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, TopicId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "topics")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: TopicId,
        pub helpline_id: HelplineId,
        pub key: String,
        pub label: String,
        pub digit: Option<i32>,
        pub strict: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod volunteer {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::VolunteerId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "volunteers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: VolunteerId,
        pub name: String,
        pub phone: super::Sealed,
        /// The keyed hash of the phone, to find a volunteer by it.
        pub phone_hash: Option<String>,
        pub time_zone: String,
        pub languages: String,
        pub training_status: String,
        pub training_completed_on: Option<Date>,
        pub refresher_due_on: Option<Date>,
        pub trained_voice: bool,
        pub trained_sms: bool,
        pub active: bool,
        pub max_contacts_per_shift: i32,
        pub long_contact_minutes: i32,
        pub rest_minutes_after_long: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub max_text_conversations: i32,
        /// Quiet hours on the volunteer's clock, `HH:MM`; both or neither.
        pub quiet_from: Option<String>,
        pub quiet_until: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod volunteer_helpline {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "volunteer_helplines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub volunteer_id: VolunteerId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub helpline_id: HelplineId,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod user {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{UserId, VolunteerId};

    use crate::domain::access::Role;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: UserId,
        pub name: String,
        pub role: Role,
        pub volunteer_id: Option<VolunteerId>,
        pub phone: Option<super::Sealed>,
        pub phone_hash: Option<String>,
        pub time_zone: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod user_helpline {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, UserId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_helplines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: UserId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub helpline_id: HelplineId,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_token {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::UserId;

    pub use crate::domain::sign_in::TokenKind;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: UserId,
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub kind: TokenKind,
        /// When it was last used (to the minute); a console session lapses when idle.
        pub last_used_at: Option<DateTimeUtc>,
        /// What an API token is for, to tell tokens apart.
        pub name: Option<String>,
        /// When an API token stops working.
        pub expires_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sign_in_code {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::UserId;

    use crate::domain::sign_in::CodeKind;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sign_in_codes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: UserId,
        pub kind: CodeKind,
        /// The code or link secret, as a keyed hash.
        pub secret_hash: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
        pub failed_tries: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sign_in_attempt {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::UserId;

    use crate::domain::sign_in::Attempt;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sign_in_attempts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub at: DateTimeUtc,
        /// The client address the attempt came from.
        pub address: String,
        pub user_id: Option<UserId>,
        pub action: Attempt,
        pub succeeded: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod server_secret {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "server_secrets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub value: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod topic_signoff {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{TopicId, UserId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "topic_signoffs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        pub topic_id: TopicId,
        pub signed_off_by: Option<UserId>,
        pub signed_off_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod shift {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::VolunteerId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shifts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        pub weekday: String,
        pub start_time: String,
        pub end_time: String,
        pub channels: String,
        pub valid_from: Option<Date>,
        pub valid_until: Option<Date>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod rota_exception {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::VolunteerId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rota_exceptions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        pub kind: String,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub channels: Option<String>,
        pub note: Option<super::Sealed>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod conflict {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::VolunteerId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conflicts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        pub number_hash: String,
        pub number_hint: String,
        pub note: Option<super::Sealed>,
        /// The number, sealed: a move to a new key hashes it again.
        pub number_sealed: Option<super::Sealed>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod on_call_shift {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, UserId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "on_call_shifts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub helpline_id: HelplineId,
        pub user_id: UserId,
        pub weekday: String,
        pub start_time: String,
        pub end_time: String,
        pub valid_from: Option<Date>,
        pub valid_until: Option<Date>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod contact {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, HelplineId, TopicId, VolunteerId};

    use crate::domain::contact::Outcome;
    use crate::domain::rota::Channel;
    use crate::domain::routing::Tier;
    use crate::domain::supervision::ReviewState;
    use crate::storage::contacts::Stage;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contacts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: ContactId,
        pub helpline_id: HelplineId,
        pub channel: Channel,
        pub provider_sid: String,
        pub dialed_number: String,
        pub caller_hash: String,
        pub caller_encrypted: Option<String>,
        pub caller_hint: String,
        pub topic_id: Option<TopicId>,
        pub language: Option<String>,
        pub stage: Stage,
        pub round: i32,
        pub outcome: Option<Outcome>,
        pub peer_match_tier: Option<Tier>,
        pub answered_by: Option<VolunteerId>,
        pub received_at: DateTimeUtc,
        pub route_deadline: DateTimeUtc,
        pub answered_at: Option<DateTimeUtc>,
        pub ended_at: Option<DateTimeUtc>,
        pub wait_secs: Option<i32>,
        pub talk_secs: Option<i32>,
        pub recording_sid: Option<String>,
        pub recording_url: Option<String>,
        pub recording_secs: Option<i32>,
        pub updated_at: DateTimeUtc,
        /// A conversation closes by itself at this time unless a message comes first.
        pub closes_at: Option<DateTimeUtc>,
        pub safeguarding_at: Option<DateTimeUtc>,
        pub review_state: ReviewState,
        /// When the caller's identity, bodies, notes and recording were erased.
        pub erased_at: Option<DateTimeUtc>,
        /// For a contact that chose a topic: whether, when it was first routed, a volunteer
        /// signed off for the topic was on shift and free.
        pub peer_match_free: Option<bool>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod contact_event {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, VolunteerId};

    use crate::domain::contact::EventKind;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contact_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: ContactId,
        pub at: DateTimeUtc,
        pub kind: EventKind,
        pub volunteer_id: Option<VolunteerId>,
        pub detail: Option<String>,
        pub dedupe_key: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod offer {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, OfferId, VolunteerId};

    use crate::domain::routing::Tier;
    use crate::storage::contacts::OfferOutcome;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: OfferId,
        pub contact_id: ContactId,
        pub volunteer_id: VolunteerId,
        pub round: i32,
        pub tier: Tier,
        pub offered_at: DateTimeUtc,
        pub leg_sid: Option<String>,
        pub outcome: Option<OfferOutcome>,
        pub accepted_at: Option<DateTimeUtc>,
        pub ended_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reservation {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reservations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub volunteer_id: VolunteerId,
        pub contact_id: ContactId,
        pub state: String,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod blocked_caller {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::HelplineId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "blocked_callers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub helpline_id: HelplineId,
        pub number_hash: String,
        pub number_hint: String,
        pub reason: Option<super::Sealed>,
        /// The number, sealed: a move to a new key hashes it again.
        pub number_sealed: Option<super::Sealed>,
        pub expires_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbox_message {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::ContactId;

    use crate::storage::outbox::OutboxState;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: Option<ContactId>,
        pub purpose: String,
        pub to_encrypted: String,
        pub to_hint: String,
        /// The keyed hash of the recipient's number: messages to one person go in order.
        pub to_hash: Option<String>,
        pub from_number: String,
        pub body: super::Sealed,
        pub status: OutboxState,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub claimed_until: Option<DateTimeUtc>,
        pub provider_sid: Option<String>,
        pub delivery_status: Option<String>,
        pub error_code: Option<i64>,
        pub error: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: ContactId,
        pub at: DateTimeUtc,
        pub direction: String,
        pub sender_role: String,
        pub recipient_role: String,
        pub volunteer_id: Option<VolunteerId>,
        pub provider_sid: Option<String>,
        pub body: Option<super::Sealed>,
        pub media_count: i32,
        pub relayed: bool,
        pub outbox_id: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod text_opt_out {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "text_opt_outs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub number_hash: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub helpline_number: String,
        pub opted_out_at: DateTimeUtc,
        /// The number, sealed: a move to a new key hashes it again.
        pub number_sealed: Option<super::Sealed>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod text_slot {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "text_slots")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub volunteer_id: VolunteerId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub slot: i32,
        pub contact_id: ContactId,
        pub taken_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod contact_report {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contact_reports")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: ContactId,
        pub volunteer_id: VolunteerId,
        pub version: i32,
        pub notes: Option<super::Sealed>,
        /// JSON list of outcome tags.
        pub outcome_tags: String,
        /// JSON list of flags.
        pub flags: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod contact_flag {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, UserId, VolunteerId};

    use crate::domain::supervision::Flag;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contact_flags")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: ContactId,
        pub flag: Flag,
        pub raised_at: DateTimeUtc,
        /// The volunteer who raised it (none when peerline raised it itself).
        pub raised_by: Option<VolunteerId>,
        pub resolved_at: Option<DateTimeUtc>,
        /// The user who resolved it.
        pub resolved_by: Option<UserId>,
        pub action: Option<super::Sealed>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod review {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, UserId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reviews")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: ContactId,
        pub user_id: UserId,
        pub at: DateTimeUtc,
        pub action: String,
        pub flag: Option<String>,
        pub comment: Option<super::Sealed>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod debrief {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, HelplineId, UserId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "debriefs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub helpline_id: HelplineId,
        pub volunteer_id: VolunteerId,
        /// None: a check-in suggested about no one contact (frequent step-backs).
        pub contact_id: Option<ContactId>,
        pub requested_at: DateTimeUtc,
        pub done_at: Option<DateTimeUtc>,
        pub done_by: Option<UserId>,
        pub notes: Option<super::Sealed>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_entry {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, HelplineId, UserId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub at: DateTimeUtc,
        /// None for what peerline did itself (a command or a job).
        pub user_id: Option<UserId>,
        pub token_id: Option<i32>,
        pub helpline_id: Option<HelplineId>,
        pub action: String,
        pub contact_id: Option<ContactId>,
        pub detail: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod shift_reminder {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, VolunteerId};

    use crate::domain::shift_reminders::ReminderRound;
    use crate::storage::shift_reminders::ReminderAnswer;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shift_reminders")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        pub helpline_id: HelplineId,
        pub round: ReminderRound,
        pub shift_starts_at: DateTimeUtc,
        pub shift_ends_at: DateTimeUtc,
        pub sent_at: DateTimeUtc,
        /// When the supervisors are told if no answer has come (asking rounds only).
        pub answer_by: Option<DateTimeUtc>,
        pub answer: Option<ReminderAnswer>,
        pub answered_at: Option<DateTimeUtc>,
        /// When the supervisors were told that no answer came.
        pub reported_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cover_request {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, TopicId, VolunteerId};

    use crate::storage::cover_requests::LossReason;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cover_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub helpline_id: HelplineId,
        /// The volunteer whose shift was lost.
        pub lost_by: VolunteerId,
        pub reason: LossReason,
        pub shift_starts_at: DateTimeUtc,
        pub shift_ends_at: DateTimeUtc,
        pub channels: String,
        /// The topic left without anyone signed off; `None` when nobody at all is left.
        pub topic_id: Option<TopicId>,
        pub created_at: DateTimeUtc,
        pub last_wave_at: Option<DateTimeUtc>,
        pub waves: i32,
        pub filled_by: Option<VolunteerId>,
        pub filled_at: Option<DateTimeUtc>,
        /// Filled, or expired when the shift began.
        pub closed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cover_ask {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::VolunteerId;

    use crate::storage::cover_requests::CoverAnswer;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cover_asks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub cover_request_id: i32,
        pub volunteer_id: VolunteerId,
        pub wave: i32,
        pub sent_at: DateTimeUtc,
        pub answer: Option<CoverAnswer>,
        pub answered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod calendar_feed {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::VolunteerId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_feeds")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        /// The hash of the secret in the feed's address.
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        /// The hash of the feed as last served, and when it last changed.
        pub content_hash: Option<String>,
        pub content_changed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod gap_feed {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, UserId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gap_feeds")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        /// The supervisor (or admin) it was issued to; it works while they manage the helpline.
        pub user_id: UserId,
        pub helpline_id: HelplineId,
        /// The hash of the secret in the feed's address.
        pub token_hash: String,
        /// The hash of the feed as last served, and when it last changed.
        pub content_hash: Option<String>,
        pub content_changed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod rota_record {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::VolunteerId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rota_records")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        /// From when the record stood.
        pub recorded_at: DateTimeUtc,
        /// `domain::rota_history::RotaRecord`, as JSON.
        pub record: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod gap_alert {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::HelplineId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gap_alerts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub helpline_id: HelplineId,
        /// The helpline's day it was sent for, `YYYY-MM-DD` on its clock.
        pub local_day: String,
        pub sent_at: DateTimeUtc,
        pub covers_from: DateTimeUtc,
        pub covers_until: DateTimeUtc,
        /// The gaps told, as JSON (`domain::gap_alert::GapAlert`).
        pub gaps: String,
        /// How many supervisors were texted.
        pub told: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod callback {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{ContactId, HelplineId, OfferId, TopicId, UserId, VolunteerId};

    use crate::domain::callback::{CallbackKind, CallbackState};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "callbacks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: ContactId,
        pub helpline_id: HelplineId,
        pub topic_id: Option<TopicId>,
        pub kind: CallbackKind,
        pub state: CallbackState,
        /// The caller said a text is safe if they cannot be reached.
        pub texts_ok: bool,
        /// Times the caller's phone was dialled.
        pub caller_attempts: i32,
        /// The offer to the volunteer being rung or on the line for it.
        pub offer_id: Option<OfferId>,
        /// Not tried again before this.
        pub due_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        /// A step under way (a volunteer rung, the caller dialled) is given up after this.
        pub claimed_until: Option<DateTimeUtc>,
        /// The supervisor who returned a missed call.
        pub requested_by: Option<UserId>,
        pub reason: Option<super::Sealed>,
        pub requested_at: DateTimeUtc,
        /// When the first volunteer was rung for it.
        pub first_ring_at: Option<DateTimeUtc>,
        pub updated_at: DateTimeUtc,
        pub ended_at: Option<DateTimeUtc>,
        /// The volunteer who returned the call, and so is the one rung for it.
        pub for_volunteer: Option<VolunteerId>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod survey_answer {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::ContactId;

    use crate::domain::survey::SurveyAnswer;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "survey_answers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub contact_id: ContactId,
        /// 1 for the peer-support question, then the helpline's own in order.
        pub question: i32,
        /// The question as it was asked.
        pub question_text: String,
        pub answer: SurveyAnswer,
        pub answered_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod call_returner {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{HelplineId, UserId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_returners")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub helpline_id: HelplineId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub volunteer_id: VolunteerId,
        pub granted_by: UserId,
        pub granted_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod step_back {
    use sea_orm::entity::prelude::*;

    use crate::domain::ids::{TopicId, UserId, VolunteerId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "step_backs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub volunteer_id: VolunteerId,
        /// The topic stepped back from; none: every contact.
        pub topic_id: Option<TopicId>,
        pub starts_at: DateTimeUtc,
        pub until: DateTimeUtc,
        /// The number of shifts asked for, when it was asked that way.
        pub shifts: Option<i32>,
        /// The user who asked (the volunteer's own, or a supervisor); none by text.
        pub created_by: Option<UserId>,
        pub created_at: DateTimeUtc,
        /// When it was ended early.
        pub ended_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
