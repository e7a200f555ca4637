//! `serve --demo`: a demo helpline seeded into an empty database, so that a newcomer can
//! simulate a call at once. Numbers are from the ranges reserved for fiction.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::domain::access::Role;
use crate::domain::calendar::{LocalTime, Weekday};
use crate::domain::helpline::{HelplineSettings, RoutingSettings, TopicSettings};
use crate::domain::ids::UserId;
use crate::domain::phone::E164;
use crate::domain::rota::{ShiftChannels, WeeklyShift};
use crate::domain::timezone::TimeZone;
use crate::domain::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};
use crate::secrets::Vault;
use crate::storage::entities::helpline;
use crate::storage::users::{self, NewUser};
use crate::storage::{helplines, rota, volunteers};

/// The number a simulated caller dials.
pub const DEMO_NUMBER: &str = "+12025550100";
const CALLER: &str = "+12025550142";

/// The demo volunteers: name, phone, time zone, the local hour their daily shift starts,
/// and the topic (by position) they are signed off for. Twelve-hour days in London, New
/// York and Sydney overlap at every hour of the year, whichever clocks have changed, so
/// the walkthrough works at any hour.
const PEOPLE: [(&str, &str, &str, u32, Option<usize>); 3] = [
    (
        "Alice (London)",
        "+12025550111",
        "Europe/London",
        6,
        Some(0),
    ),
    (
        "Bob (New York)",
        "+12025550122",
        "America/New_York",
        10,
        None,
    ),
    (
        "Chloe (Sydney)",
        "+61491570156",
        "Australia/Sydney",
        9,
        Some(1),
    ),
];
const SHIFT_HOURS: u32 = 12;

/// A shift from `start_hour` for `SHIFT_HOURS` on every day of the week.
fn daily_shifts(start_hour: u32) -> anyhow::Result<Vec<WeeklyShift>> {
    let start = LocalTime::hm(start_hour, 0).ok_or_else(|| anyhow::anyhow!("shift start"))?;
    let end = LocalTime::hm((start_hour + SHIFT_HOURS) % 24, 0)
        .ok_or_else(|| anyhow::anyhow!("shift end"))?;
    Weekday::ALL
        .into_iter()
        .map(|day| {
            Ok(WeeklyShift::new(
                day,
                start,
                end,
                ShiftChannels::Both,
                None,
                None,
            )?)
        })
        .collect()
}

/// Seeds the demo helpline if the database has no helpline yet; returns the people who
/// can sign in to the console (name and user id) if it did.
pub async fn seed_if_empty(
    db: &DatabaseConnection,
    vault: &Vault,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Vec<(String, UserId)>>> {
    if helpline::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let time_zone = TimeZone::parse("Europe/London")?;
    let line = helplines::create(
        db,
        &HelplineSettings {
            name: "Peerline Demo".into(),
            time_zone,
            greeting: "Hello, you have reached the Peerline demo helpline. A peer supporter will be with you shortly.".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: Some(E164::parse("+12025550188")?),
            routing: RoutingSettings::default(),
            texting: Default::default(),
            supervision: Default::default(),
            rota: Default::default(),
            callers: Default::default(),
        }, now,
    )
    .await?;
    helplines::add_number(db, line.id, &E164::parse(DEMO_NUMBER)?, now).await?;
    let mut topic_ids = Vec::new();
    for (key, label, digit) in [
        ("neonatal", "neonatal care", 1),
        ("bereavement", "bereavement", 2),
    ] {
        let topic = helplines::create_topic(
            db,
            line.id,
            &TopicSettings {
                key: key.into(),
                label: label.into(),
                digit: Some(digit),
                strict: false,
            },
            now,
        )
        .await?;
        topic_ids.push(topic.id);
    }
    let supervisor = users::create(
        db,
        vault,
        NewUser {
            name: "Demo supervisor".into(),
            role: Role::Supervisor,
            volunteer_id: None,
            phone: Some(E164::parse("+12025550199")?),
            time_zone: Some("Europe/London".into()),
            helplines: vec![line.id],
        },
        now,
    )
    .await?;
    let mut console_users = vec![(supervisor.name.clone(), supervisor.id)];
    let people = PEOPLE.map(|(name, phone, zone, start_hour, topic)| {
        (
            name,
            phone,
            zone,
            start_hour,
            topic.and_then(|i| topic_ids.get(i).copied()),
        )
    });
    for (name, phone, zone, start_hour, ready_for) in people {
        let volunteer = volunteers::create(
            db,
            vault,
            &VolunteerProfile {
                name: name.into(),
                time_zone: TimeZone::parse(zone)?,
                languages: vec!["en".into()],
                training_status: TrainingStatus::Trained,
                training_completed_on: NaiveDate::from_ymd_opt(2026, 1, 10),
                refresher_due_on: None,
                trained_voice: true,
                trained_sms: true,
                active: true,
                limits: WellbeingLimits::default(),
            },
            &E164::parse(phone)?,
            &[line.id],
            now,
        )
        .await?;
        for shift in daily_shifts(start_hour)? {
            rota::create_shift(db, volunteer.id, &shift, now).await?;
        }
        if let Some(topic) = ready_for {
            volunteers::sign_off(db, volunteer.id, topic, supervisor.id, now).await?;
        }
        let login = users::create(
            db,
            vault,
            NewUser {
                name: name.into(),
                role: Role::Volunteer,
                volunteer_id: Some(volunteer.id),
                phone: None,
                time_zone: None,
                helplines: Vec::new(),
            },
            now,
        )
        .await?;
        console_users.push((login.name, login.id));
    }
    for day in Weekday::ALL {
        let all_day = WeeklyShift::new(
            day,
            LocalTime::hm(0, 0).ok_or_else(|| anyhow::anyhow!("on-call start"))?,
            LocalTime::hm(23, 59).ok_or_else(|| anyhow::anyhow!("on-call end"))?,
            ShiftChannels::Both,
            None,
            None,
        )?;
        rota::create_on_call_shift(db, line.id, supervisor.id, &all_day, now).await?;
    }
    Ok(Some(console_users))
}

/// How to sign in to the console as each of `people` (name, user id).
pub fn console_hint(settings: &crate::config::Settings, people: &[(String, UserId)]) -> String {
    let console = format!(
        "{}/console",
        settings.public_url.as_str().trim_end_matches('/')
    );
    let mut hint = format!(
        "Sign in to the console at {console} with a one-time link (it works once, for 10 minutes):"
    );
    if people.is_empty() {
        hint.push_str("\n  peerline login-link --user ID");
    }
    for (name, id) in people {
        hint.push_str(&format!("\n  peerline login-link --user {id}    # {name}"));
    }
    hint
}

/// The command that plays a call against the demo helpline.
pub fn simulate_hint() -> String {
    format!("peerline simulate call --to {DEMO_NUMBER} --from {CALLER} --digits 1 --answer first")
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::rota::Rota;

    #[test]
    fn someone_is_on_shift_at_every_hour_of_the_year() {
        let rotas: Vec<Rota> = PEOPLE
            .iter()
            .map(|(_, _, zone, start_hour, _)| {
                let mut rota = Rota::new(TimeZone::parse(zone).unwrap());
                rota.shifts = daily_shifts(*start_hour).unwrap();
                rota
            })
            .collect();
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:30:00Z")
            .unwrap()
            .to_utc();
        for hour in 0..(366 * 24) {
            let at = start + Duration::hours(hour);
            assert!(
                rotas.iter().any(|r| r.is_on_shift(at, None)),
                "nobody on shift at {at}"
            );
        }
    }
}
