//! Rota care's planning at 10,000 volunteers, each with three weekly shifts in one of 12
//! time zones and a third of them with quiet hours: one pass of the reminder planner (the
//! job runs one a minute) and one wave of a cover request (who may be asked, in order).

#![allow(clippy::expect_used)]

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use peerline::domain::calendar::{LocalTime, Weekday};
use peerline::domain::cover::{Candidate, next_wave};
use peerline::domain::ids::VolunteerId;
use peerline::domain::rota::{Interval, Rota, ShiftChannels, WeeklyShift};
use peerline::domain::shift_reminders::{QuietHours, RotaCareSettings, due_reminders};
use peerline::domain::timezone::TimeZone;
use peerline::domain::volunteer::{Readiness, TrainingStatus};

const VOLUNTEERS: usize = 10_000;
const ZONES: [&str; 12] = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "Africa/Johannesburg",
    "America/Sao_Paulo",
    "Asia/Tokyo",
];

fn utc(at: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(at)
        .expect("instant")
        .with_timezone(&Utc)
}

struct Volunteer {
    rota: Rota,
    quiet: Option<QuietHours>,
}

fn volunteers() -> Vec<Volunteer> {
    let hm = |h: u32| LocalTime::hm(h, 0).expect("time");
    (0..VOLUNTEERS)
        .map(|i| {
            let zone = TimeZone::parse(ZONES[i % ZONES.len()]).expect("zone");
            let mut rota = Rota::new(zone);
            for k in 0..3 {
                let start = u32::try_from((i * 7 + k * 5) % 24).expect("hour");
                let shift = WeeklyShift::new(
                    Weekday::ALL[(i + k * 2) % 7],
                    hm(start),
                    hm((start + 3) % 24),
                    ShiftChannels::Both,
                    None,
                    None,
                )
                .expect("shift");
                rota.shifts.push(shift);
            }
            let quiet = (i % 3 == 0).then(|| QuietHours {
                from: hm(22),
                until: hm(8),
            });
            Volunteer { rota, quiet }
        })
        .collect()
}

fn bench_rota_care(c: &mut Criterion) {
    let people = volunteers();
    let settings = RotaCareSettings {
        reminders_enabled: true,
        remind_again_hour_before: true,
        ..RotaCareSettings::default()
    };
    let now = utc("2026-12-08T17:00:00Z");
    c.bench_function("reminders_pass_10000", |b| {
        b.iter(|| {
            people
                .iter()
                .map(|v| due_reminders(&settings, &v.rota, v.quiet.as_ref(), now).len())
                .sum::<usize>()
        })
    });
    let candidates: Vec<Candidate<'_>> = people
        .iter()
        .enumerate()
        .map(|(i, v)| Candidate {
            volunteer_id: VolunteerId(i32::try_from(i).expect("id")),
            readiness: Readiness {
                status: TrainingStatus::Trained,
                refresher_due_on: None,
                trained_voice: true,
                trained_sms: i % 4 != 0,
                active: i % 10 != 0,
                time_zone: v.rota.time_zone,
            },
            rota: &v.rota,
            quiet_hours: v.quiet,
            signed_off: i % 5 == 0,
        })
        .collect();
    let lost =
        Interval::new(utc("2026-12-09T19:00:00Z"), utc("2026-12-09T22:00:00Z")).expect("span");
    c.bench_function("cover_wave_10000", |b| {
        b.iter(|| next_wave(&candidates, &[], lost, ShiftChannels::Both, now, 3))
    });
}

criterion_group!(benches, bench_rota_care);
criterion_main!(benches);
