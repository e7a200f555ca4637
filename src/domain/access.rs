//! Who may do what. The caller's identity (`Principal`) yields a `Scope` that storage
//! applies inside its queries; the write rules below are pure checks on top of it.

use serde::{Deserialize, Serialize};

use super::ids::{HelplineId, UserId, VolunteerId};
use super::validate::FieldError;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Role {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "supervisor")]
    Supervisor,
    #[sea_orm(string_value = "volunteer")]
    Volunteer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Volunteer => "volunteer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Role::Admin, Role::Supervisor, Role::Volunteer]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// Checks that a new user's links fit their role: a volunteer user is linked to a
/// volunteer record, a supervisor is scoped to at least one helpline, an admin to none.
pub fn check_new_user(
    role: Role,
    volunteer_id: Option<VolunteerId>,
    helplines: &[HelplineId],
) -> Result<(), FieldError> {
    match role {
        Role::Volunteer if volunteer_id.is_none() => Err(FieldError::new(
            "volunteer_id",
            "a volunteer user must be linked to a volunteer record",
        )),
        Role::Supervisor if helplines.is_empty() => Err(FieldError::new(
            "helplines",
            "a supervisor must be scoped to at least one helpline",
        )),
        Role::Admin | Role::Volunteer if !helplines.is_empty() => Err(FieldError::new(
            "helplines",
            "only supervisors are scoped to helplines",
        )),
        Role::Admin | Role::Supervisor if volunteer_id.is_some() => Err(FieldError::new(
            "volunteer_id",
            "only volunteer users are linked to a volunteer record",
        )),
        _ => Ok(()),
    }
}

/// What a caller may see: everything, the listed helplines (and the volunteers who serve
/// them), or one volunteer's own records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Helplines(Vec<HelplineId>),
    Volunteer {
        volunteer_id: VolunteerId,
        helplines: Vec<HelplineId>,
    },
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    /// The token this request came with (recorded in the audit log).
    pub token_id: i32,
    pub role: Role,
    /// For a volunteer: their volunteer record.
    pub volunteer_id: Option<VolunteerId>,
    /// For a supervisor: the helplines they are scoped to; for a volunteer: those they serve.
    pub helplines: Vec<HelplineId>,
}

impl Principal {
    pub fn scope(&self) -> Scope {
        match (self.role, self.volunteer_id) {
            (Role::Admin, _) => Scope::All,
            (Role::Volunteer, Some(volunteer_id)) => Scope::Volunteer {
                volunteer_id,
                helplines: self.helplines.clone(),
            },
            // A volunteer user without a volunteer record sees nothing.
            (Role::Volunteer, None) => Scope::Helplines(Vec::new()),
            (Role::Supervisor, _) => Scope::Helplines(self.helplines.clone()),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admins and supervisors review contacts (within their scope); volunteers do not.
    pub fn reviews_contacts(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor)
    }

    /// Admins, and supervisors scoped to the helpline, manage its settings, topics and rota.
    pub fn manages_helpline(&self, helpline_id: HelplineId) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Supervisor => self.helplines.contains(&helpline_id),
            Role::Volunteer => false,
        }
    }

    /// Admins, and supervisors of any helpline the volunteer serves, manage a volunteer's
    /// training, sign-offs and limits.
    pub fn manages_volunteer(&self, serves: &[HelplineId]) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Supervisor => serves.iter().any(|h| self.helplines.contains(h)),
            Role::Volunteer => false,
        }
    }

    /// Whether this caller is the volunteer themself.
    /// Admins, and supervisors of every one of `serves`.
    pub fn manages_every(&self, serves: &[HelplineId]) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Supervisor => serves.iter().all(|h| self.helplines.contains(h)),
            Role::Volunteer => false,
        }
    }

    pub fn is_volunteer(&self, volunteer_id: VolunteerId) -> bool {
        self.role == Role::Volunteer && self.volunteer_id == Some(volunteer_id)
    }

    /// Shifts, leave, extra shifts, conflicts and pause state: the volunteer themself or
    /// whoever manages them.
    pub fn edits_rota_of(&self, volunteer_id: VolunteerId, serves: &[HelplineId]) -> bool {
        self.is_volunteer(volunteer_id) || self.manages_volunteer(serves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(
        role: Role,
        volunteer_id: Option<VolunteerId>,
        helplines: &[HelplineId],
    ) -> Principal {
        Principal {
            user_id: UserId(1),
            token_id: 1,
            role,
            volunteer_id,
            helplines: helplines.to_vec(),
        }
    }

    #[test]
    fn supervisors_manage_only_their_helplines_and_volunteers() {
        let sup = principal(Role::Supervisor, None, &[HelplineId(1)]);
        assert!(sup.manages_helpline(HelplineId(1)));
        assert!(!sup.manages_helpline(HelplineId(2)));
        assert!(sup.manages_volunteer(&[HelplineId(2), HelplineId(1)]));
        assert!(!sup.manages_volunteer(&[HelplineId(2)]));
        assert_eq!(sup.scope(), Scope::Helplines(vec![HelplineId(1)]));
    }

    #[test]
    fn volunteers_edit_only_their_own_rota() {
        let vol = principal(Role::Volunteer, Some(VolunteerId(7)), &[HelplineId(1)]);
        assert!(vol.edits_rota_of(VolunteerId(7), &[HelplineId(1)]));
        assert!(!vol.edits_rota_of(VolunteerId(8), &[HelplineId(1)]));
        assert!(!vol.manages_volunteer(&[HelplineId(1)]));
        assert!(!vol.manages_helpline(HelplineId(1)));
    }

    #[test]
    fn new_users_links_must_fit_their_role() {
        assert!(check_new_user(Role::Volunteer, Some(VolunteerId(3)), &[]).is_ok());
        assert_eq!(
            check_new_user(Role::Volunteer, None, &[])
                .unwrap_err()
                .field,
            "volunteer_id"
        );
        assert_eq!(
            check_new_user(Role::Supervisor, None, &[])
                .unwrap_err()
                .field,
            "helplines"
        );
        assert_eq!(
            check_new_user(Role::Admin, None, &[HelplineId(1)])
                .unwrap_err()
                .field,
            "helplines"
        );
        assert!(check_new_user(Role::Supervisor, None, &[HelplineId(1)]).is_ok());
    }

    #[test]
    fn admins_manage_everything() {
        let admin = principal(Role::Admin, None, &[]);
        assert!(
            admin.manages_helpline(HelplineId(99))
                && admin.manages_volunteer(&[])
                && admin.is_admin()
        );
        assert_eq!(admin.scope(), Scope::All);
    }
}
