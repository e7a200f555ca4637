//! The routing decision at 100, 1,000 and 10,000 volunteers, each with three weekly shifts
//! in one of many time zones, a few sign-offs and some recent activity: asking every
//! volunteer's rota, and asking only those the roster's index names, with their activity
//! packed by volunteer id as the server keeps it.

#![allow(clippy::expect_used)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use peerline::domain::calendar::{LocalTime, Weekday};
use peerline::domain::ids::{IdSet, TopicId, VolunteerId};
use peerline::domain::recent_activity::{ActivitySummary, RecentActivity};
use peerline::domain::roster_index::{RosterEntry, RosterIndex};
use peerline::domain::rota::{Channel, Rota, ShiftChannels, WeeklyShift};
use peerline::domain::routing::{
    self, Activity, Candidate, PastContact, RosterVolunteers, RoutingRequest, TopicChoice,
};
use peerline::domain::timezone::TimeZone;
use peerline::domain::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};

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
const DAYS: [Weekday; 7] = Weekday::ALL;

struct Volunteer {
    profile: VolunteerProfile,
    rota: Rota,
    ready: Vec<TopicId>,
    activity: Activity,
}

fn volunteers(n: usize, now: DateTime<Utc>) -> Vec<Volunteer> {
    (0..n)
        .map(|i| {
            let zone = TimeZone::parse(ZONES[i % ZONES.len()]).expect("zone");
            let mut rota = Rota::new(zone);
            for k in 0..3 {
                let start = u32::try_from((i * 7 + k * 5) % 24).expect("hour");
                let end = (start + 6) % 24;
                let shift = WeeklyShift::new(
                    DAYS[(i + k * 2) % 7],
                    LocalTime::hm(start, 0).expect("start"),
                    LocalTime::hm(end, 30).expect("end"),
                    ShiftChannels::Both,
                    None,
                    None,
                )
                .expect("shift");
                rota.shifts.push(shift);
            }
            let activity = Activity {
                engaged: u32::from(i % 11 == 0),
                last_contact: (i % 3 == 0).then(|| PastContact {
                    ended_at: now - Duration::minutes((i % 300) as i64),
                    duration: Duration::minutes((i % 50) as i64),
                }),
                recent_contact_starts: vec![now - Duration::hours((i % 30) as i64); i % 4],
                last_flagged_at: (i % 17 == 0).then(|| now - Duration::minutes((i % 40) as i64)),
            };
            Volunteer {
                profile: VolunteerProfile {
                    name: format!("V{i}"),
                    time_zone: zone,
                    languages: vec!["en".into()],
                    training_status: TrainingStatus::Trained,
                    training_completed_on: NaiveDate::from_ymd_opt(2026, 1, 1),
                    refresher_due_on: NaiveDate::from_ymd_opt(2027, 1, 1),
                    trained_voice: true,
                    trained_sms: true,
                    active: i % 17 != 0,
                    limits: WellbeingLimits::default(),
                },
                rota,
                ready: vec![TopicId(if i % 4 == 0 { 1 } else { 2 })],
                activity,
            }
        })
        .collect()
}

/// The roster's candidates, with everyone's activity packed by volunteer id.
struct Roster<'a> {
    candidates: Vec<Candidate<'a>>,
    activity: RecentActivity,
}

impl<'a> RosterVolunteers<'a> for Roster<'a> {
    fn candidate(&self, position: usize) -> Candidate<'a> {
        self.candidates[position]
    }

    fn activity(&self, _position: usize, volunteer_id: VolunteerId) -> ActivitySummary {
        self.activity.summary(volunteer_id)
    }
}

fn bench_routing(c: &mut Criterion) {
    let now = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    let mut group = c.benchmark_group("routing_plan");
    for n in [100usize, 1_000, 10_000] {
        let people = volunteers(n, now);
        let candidates: Vec<Candidate<'_>> = people
            .iter()
            .zip((0..).map(VolunteerId))
            .map(|(v, id)| Candidate {
                volunteer_id: id,
                profile: &v.profile,
                rota: &v.rota,
                ready_topics: &v.ready,
                stepped_back: &[],
                activity: &v.activity,
            })
            .collect();
        let conflicted = IdSet::from_iter([3, 30].map(VolunteerId));
        let tried = IdSet::from_iter([VolunteerId(5)]);
        let request = RoutingRequest {
            at: now,
            channel: Channel::Voice,
            topic: Some(TopicChoice {
                topic_id: TopicId(1),
                strict: false,
            }),
            language: Some("en"),
            continuity: None,
            conflicted: &conflicted,
            already_tried: &tried,
        };
        group.bench_with_input(
            BenchmarkId::new("every_rota", n),
            &candidates,
            |b, candidates| b.iter(|| routing::plan(&request, candidates)),
        );
        let index = RosterIndex::build(candidates.iter().map(|c| RosterEntry {
            volunteer_id: c.volunteer_id,
            profile: c.profile,
            rota: c.rota,
            ready_topics: c.ready_topics,
            stepped_back: c.stepped_back,
        }));
        let mut activity = RecentActivity::default();
        for c in &candidates {
            activity.set(c.volunteer_id, c.activity.clone());
        }
        let roster = Roster {
            candidates: candidates.clone(),
            activity,
        };
        group.bench_with_input(BenchmarkId::new("roster_index", n), &roster, |b, roster| {
            b.iter(|| routing::plan_indexed(&request, &index, roster))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_routing);
criterion_main!(benches);
