//! Shift reminders: a helpline's settings for reminding volunteers of their shifts and
//! asking others to cover lost ones, a volunteer's quiet hours, and when each reminder
//! of a shift is sent. Reminders are timed on the volunteer's own wall clock: "24 hours
//! before" a Sunday 19:00 shift is Saturday 19:00 where they live, whatever the clocks
//! did in between.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::LocalTime;
use super::rota::{Interval, Rota, earliest_instant_at_or_after};
use super::shift_calendar::shifts_within;
use super::timezone::TimeZone;
use super::validate::{self, FieldError};

/// How a helpline keeps its rota turning up: reminders, confirmations and cover
/// requests. Everything is off until the helpline turns it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotaCareSettings {
    /// Text each volunteer before each of their shifts, asking them to confirm.
    #[serde(default)]
    pub reminders_enabled: bool,
    /// How long before a shift, on the volunteer's clock, the reminder goes (1 to 168 hours).
    #[serde(default = "RotaCareSettings::default_remind_hours_before")]
    pub remind_hours_before: i32,
    /// Also send a short reminder one hour before the shift.
    #[serde(default)]
    pub remind_again_hour_before: bool,
    /// A volunteer who has not answered this long before the shift is reported to the
    /// helpline's supervisors (0 to 167 hours; less than `remind_hours_before`).
    #[serde(default = "RotaCareSettings::default_confirm_by_hours_before")]
    pub confirm_by_hours_before: i32,
    /// Ask other volunteers to cover a shift that is lost at short notice and leaves a gap.
    #[serde(default)]
    pub cover_requests_enabled: bool,
    /// A shift lost less than this long before it starts is lost at short notice (1 to 336 hours).
    #[serde(default = "RotaCareSettings::default_short_notice_hours")]
    pub short_notice_hours: i32,
    /// How many volunteers each wave of a cover request asks (1 to 20).
    #[serde(default = "RotaCareSettings::default_cover_wave_size")]
    pub cover_wave_size: i32,
    /// Minutes between waves while nobody has taken the shift (5 to 240).
    #[serde(default = "RotaCareSettings::default_cover_wave_minutes")]
    pub cover_wave_minutes: i32,
    /// Text the helpline's supervisors, once a day, the gaps of the coming week that
    /// nobody covers yet.
    #[serde(default)]
    pub gap_alerts_enabled: bool,
    /// When on the helpline's clock the daily gap alert goes (`HH:MM`).
    #[serde(default = "RotaCareSettings::default_gap_alert_time")]
    #[schema(value_type = String, example = "08:00")]
    pub gap_alert_time: LocalTime,
}

impl RotaCareSettings {
    fn default_remind_hours_before() -> i32 {
        24
    }
    fn default_confirm_by_hours_before() -> i32 {
        12
    }
    fn default_short_notice_hours() -> i32 {
        72
    }
    fn default_cover_wave_size() -> i32 {
        3
    }
    fn default_cover_wave_minutes() -> i32 {
        30
    }
    fn default_gap_alert_time() -> LocalTime {
        LocalTime::hm(8, 0).unwrap_or(LocalTime::MIDNIGHT)
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        validate::range(
            "rota.remind_hours_before",
            self.remind_hours_before.into(),
            1,
            168,
        )?;
        validate::range(
            "rota.confirm_by_hours_before",
            self.confirm_by_hours_before.into(),
            0,
            167,
        )?;
        if self.confirm_by_hours_before >= self.remind_hours_before {
            return Err(FieldError::new(
                "rota.confirm_by_hours_before",
                "must be less than rota.remind_hours_before: the reminder comes first",
            ));
        }
        validate::range(
            "rota.short_notice_hours",
            self.short_notice_hours.into(),
            1,
            336,
        )?;
        validate::range("rota.cover_wave_size", self.cover_wave_size.into(), 1, 20)?;
        validate::range(
            "rota.cover_wave_minutes",
            self.cover_wave_minutes.into(),
            5,
            240,
        )
    }

    /// Whether losing a shift that starts at `starts` is short notice at `now`.
    pub fn is_short_notice(&self, starts: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now < starts && starts - now <= self.short_notice()
    }

    /// Whether leave over `span`, taken at `now`, can reach a shift lost at short notice.
    pub fn reaches_short_notice(&self, span: Interval, now: DateTime<Utc>) -> bool {
        now < span.end && span.start <= now + self.short_notice()
    }

    /// How close to a shift a loss counts as short notice.
    pub fn short_notice(&self) -> Duration {
        Duration::hours(self.short_notice_hours.into())
    }
}

impl Default for RotaCareSettings {
    fn default() -> Self {
        Self {
            reminders_enabled: false,
            remind_hours_before: Self::default_remind_hours_before(),
            remind_again_hour_before: false,
            confirm_by_hours_before: Self::default_confirm_by_hours_before(),
            cover_requests_enabled: false,
            short_notice_hours: Self::default_short_notice_hours(),
            cover_wave_size: Self::default_cover_wave_size(),
            cover_wave_minutes: Self::default_cover_wave_minutes(),
            gap_alerts_enabled: false,
            gap_alert_time: Self::default_gap_alert_time(),
        }
    }
}

/// The hours of a volunteer's day when peerline sends them no rota texts, on their own
/// clock; `from` after `until` runs past midnight (22:00 to 08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[schema(value_type = String, example = "22:00")]
    pub from: LocalTime,
    #[schema(value_type = String, example = "08:00")]
    pub until: LocalTime,
}

impl QuietHours {
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.from == self.until {
            return Err(FieldError::new(
                "quiet_hours.until",
                "must differ from quiet_hours.from",
            ));
        }
        Ok(())
    }

    /// The stretch of quiet hours that `at` falls in, if it falls in one.
    pub fn around(&self, zone: TimeZone, at: DateTime<Utc>) -> Option<Interval> {
        let local = at.with_timezone(&zone.tz()).naive_local();
        let (date, time) = (local.date(), local.time());
        let (from, until) = (self.from.time(), self.until.time());
        let (start_day, end_day) = if from < until {
            (from <= time && time < until).then_some((date, date))?
        } else if time >= from {
            (date, date.succ_opt()?)
        } else if time < until {
            (date.pred_opt()?, date)
        } else {
            return None;
        };
        let instant = |wall: NaiveDateTime| earliest_instant_at_or_after(zone.tz(), wall);
        let span = Interval::new(
            instant(start_day.and_time(from)),
            instant(end_day.and_time(until)),
        )
        .ok()?;
        span.contains(at).then_some(span)
    }
}

/// Which reminder of a shift.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ReminderRound {
    /// The reminder that asks for a confirmation (`remind_hours_before`).
    #[sea_orm(string_value = "ask")]
    Ask,
    /// The short one an hour before.
    #[sea_orm(string_value = "hour_before")]
    HourBefore,
}

/// A reminder of one shift, and the window in which it may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderPlan {
    pub round: ReminderRound,
    /// When it would go, before quiet hours are considered.
    pub nominal: DateTime<Utc>,
    /// After this it is no use: the answer deadline, or the start of the shift.
    pub latest: DateTime<Utc>,
}

/// The reminders a shift starting at `shift_start` gets under `settings`.
pub fn reminders_of(
    settings: &RotaCareSettings,
    zone: TimeZone,
    shift_start: DateTime<Utc>,
) -> Vec<ReminderPlan> {
    let wall_start = shift_start.with_timezone(&zone.tz()).naive_local();
    let before = |hours: i32| {
        earliest_instant_at_or_after(zone.tz(), wall_start - Duration::hours(hours.into()))
    };
    let mut plans = vec![ReminderPlan {
        round: ReminderRound::Ask,
        nominal: before(settings.remind_hours_before),
        latest: before(settings.confirm_by_hours_before),
    }];
    if settings.remind_again_hour_before {
        plans.push(ReminderPlan {
            round: ReminderRound::HourBefore,
            nominal: before(1),
            latest: shift_start,
        });
    }
    plans
}

/// A margin before quiet hours begin for a reminder moved earlier, so that a job that
/// runs once a minute cannot miss it.
const BEFORE_QUIET: Duration = Duration::minutes(10);

/// Whether to send `plan`'s reminder at `now`: never inside quiet hours and never after
/// its `latest`. A reminder due inside quiet hours goes when they end or, if that is too
/// late, shortly before they begin.
pub fn due_now(
    plan: &ReminderPlan,
    quiet: Option<&QuietHours>,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> bool {
    if now >= plan.latest {
        return false;
    }
    let quiet_at = |at| quiet.and_then(|q| q.around(zone, at));
    if quiet_at(now).is_some() {
        return false;
    }
    let send_at = match quiet_at(plan.nominal) {
        None => plan.nominal,
        Some(stretch) if stretch.end < plan.latest => stretch.end,
        Some(stretch) => stretch.start - BEFORE_QUIET,
    };
    now >= send_at
}

/// How far past the nominal reminder time the planner looks for shifts: quiet hours can
/// move a reminder up to a day earlier.
const QUIET_MARGIN: Duration = Duration::hours(26);

/// The stretch in which a shift may start and have a reminder due at `now`.
pub fn planning_horizon(settings: &RotaCareSettings, now: DateTime<Utc>) -> Interval {
    Interval {
        start: now,
        end: now + Duration::hours(settings.remind_hours_before.into()) + QUIET_MARGIN,
    }
}

/// A reminder due now: the shift, and which of its reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueReminder {
    pub shift: Interval,
    pub plan: ReminderPlan,
}

/// Every reminder of `rota`'s shifts due at `now`, sent or not: shifts on leave or under
/// way get none, and none is due in `quiet` hours.
pub fn due_reminders(
    settings: &RotaCareSettings,
    rota: &Rota,
    quiet: Option<&QuietHours>,
    now: DateTime<Utc>,
) -> Vec<DueReminder> {
    let zone = rota.time_zone;
    shifts_within(rota, planning_horizon(settings, now))
        .into_iter()
        .filter(|o| !o.on_leave && o.span.start > now)
        .flat_map(|o| {
            reminders_of(settings, zone, o.span.start)
                .into_iter()
                .map(move |plan| DueReminder {
                    shift: o.span,
                    plan,
                })
        })
        .filter(|due| due_now(&due.plan, quiet, zone, now))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn london() -> TimeZone {
        TimeZone::parse("Europe/London").unwrap()
    }

    fn quiet(from: &str, until: &str) -> QuietHours {
        QuietHours {
            from: LocalTime::parse(from).unwrap(),
            until: LocalTime::parse(until).unwrap(),
        }
    }

    #[test]
    fn the_reminder_keeps_to_the_wall_clock_across_a_clock_change() {
        // Clocks go forward in London at 01:00 UTC on Sunday 28 March 2027. A Sunday
        // 19:00 BST shift (18:00 UTC) is reminded at Saturday 19:00 GMT: 23 hours before.
        let plans = reminders_of(
            &RotaCareSettings {
                remind_again_hour_before: true,
                ..RotaCareSettings::default()
            },
            london(),
            utc("2027-03-28T18:00:00Z"),
        );
        assert_eq!(plans[0].round, ReminderRound::Ask);
        assert_eq!(plans[0].nominal, utc("2027-03-27T19:00:00Z"));
        // Answer by 07:00 BST Sunday.
        assert_eq!(plans[0].latest, utc("2027-03-28T06:00:00Z"));
        assert_eq!(plans[1].round, ReminderRound::HourBefore);
        assert_eq!(plans[1].nominal, utc("2027-03-28T17:00:00Z"));
        assert_eq!(plans[1].latest, utc("2027-03-28T18:00:00Z"));
    }

    #[test]
    fn quiet_hours_past_midnight_are_found_from_either_side() {
        let q = quiet("22:00", "08:00");
        let evening = q.around(london(), utc("2026-12-01T23:30:00Z")).unwrap();
        assert_eq!(evening.start, utc("2026-12-01T22:00:00Z"));
        assert_eq!(evening.end, utc("2026-12-02T08:00:00Z"));
        let morning = q.around(london(), utc("2026-12-02T07:59:00Z")).unwrap();
        assert_eq!(morning, evening);
        assert_eq!(q.around(london(), utc("2026-12-02T08:00:00Z")), None);
        assert_eq!(q.around(london(), utc("2026-12-02T21:59:00Z")), None);
        let day = quiet("13:00", "14:00");
        assert!(day.around(london(), utc("2026-12-02T13:30:00Z")).is_some());
        assert!(day.around(london(), utc("2026-12-02T14:30:00Z")).is_none());
    }

    #[test]
    fn a_reminder_due_in_quiet_hours_waits_for_them_to_end() {
        // A Wednesday 07:00 shift is reminded on Tuesday at 07:00, inside quiet hours that
        // run from Monday 22:00 to Tuesday 08:00.
        let plan = reminders_of(
            &RotaCareSettings::default(),
            london(),
            utc("2026-12-02T07:00:00Z"),
        )[0];
        let q = quiet("22:00", "08:00");
        assert!(!due_now(
            &plan,
            Some(&q),
            london(),
            utc("2026-12-01T07:00:00Z")
        ));
        assert!(!due_now(
            &plan,
            Some(&q),
            london(),
            utc("2026-12-01T07:59:00Z")
        ));
        assert!(due_now(
            &plan,
            Some(&q),
            london(),
            utc("2026-12-01T08:00:00Z")
        ));
        // Without quiet hours it goes on time; after the answer deadline, never.
        assert!(due_now(&plan, None, london(), utc("2026-12-01T07:00:00Z")));
        assert!(!due_now(&plan, None, london(), utc("2026-12-01T19:00:00Z")));
    }

    #[test]
    fn a_reminder_that_would_wait_too_long_goes_before_quiet_hours_begin() {
        // Answers are due 1 hour before a 09:00 shift; reminded 3 hours before, at 06:00,
        // inside quiet hours that end at 08:30: too late, so it goes the evening before.
        let settings = RotaCareSettings {
            remind_hours_before: 3,
            confirm_by_hours_before: 1,
            ..RotaCareSettings::default()
        };
        let plan = reminders_of(&settings, london(), utc("2026-12-02T09:00:00Z"))[0];
        let q = quiet("22:00", "08:30");
        assert!(!due_now(
            &plan,
            Some(&q),
            london(),
            utc("2026-12-01T21:40:00Z")
        ));
        assert!(due_now(
            &plan,
            Some(&q),
            london(),
            utc("2026-12-01T21:51:00Z")
        ));
        assert!(!due_now(
            &plan,
            Some(&q),
            london(),
            utc("2026-12-01T22:01:00Z")
        ));
        assert!(!due_now(
            &plan,
            Some(&q),
            london(),
            utc("2026-12-02T08:31:00Z")
        ));
    }

    #[test]
    fn settings_name_what_is_wrong() {
        assert_eq!(RotaCareSettings::default().validate(), Ok(()));
        let backwards = RotaCareSettings {
            remind_hours_before: 6,
            confirm_by_hours_before: 12,
            ..RotaCareSettings::default()
        };
        assert_eq!(
            backwards.validate().unwrap_err().field,
            "rota.confirm_by_hours_before"
        );
        assert_eq!(
            quiet("08:00", "08:00").validate().unwrap_err().field,
            "quiet_hours.until"
        );
    }
}
