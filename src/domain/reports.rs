//! The helpline reports, assembled from the database's counts: what the figures mean is
//! decided here, once, and each report can be written as JSON or as CSV.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::contact::Outcome;
use super::csv_export::{Text, to_csv};
use super::ids::{TopicId, VolunteerId};
use super::report_period::{WEEKDAYS, percentile, ratio, week_start};
use super::report_tally::ContactsTally;

/// Contacts counted by channel, topic, outcome and peer-match tier (one database group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub channel: String,
    pub topic_id: Option<TopicId>,
    pub outcome: Option<String>,
    pub tier: Option<String>,
    /// A volunteer signed off for the topic was on shift and free when it first routed.
    pub peer_match_free: bool,
    pub count: i64,
}

/// Contacts in one local hour of one weekday (one database group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    /// 0 to 23.
    pub hour: i64,
    /// 0 = Monday.
    pub weekday: i64,
    pub contacts: i64,
    pub answered: i64,
}

/// Median and 90th percentile of a duration, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Spread {
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

impl Spread {
    pub fn of(histogram: &[(i64, i64)]) -> Self {
        Self {
            median: percentile(histogram, 50.0),
            p90: percentile(histogram, 90.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Count {
    /// A channel, topic id, outcome, hour (0-23) or weekday.
    pub key: String,
    pub contacts: i64,
    /// Of those, answered by a volunteer.
    pub answered: i64,
}

/// The contacts report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ContactsReport {
    pub total: i64,
    /// Answered by a volunteer.
    pub answered: i64,
    /// Needed a volunteer and did not reach one (voicemail, abandoned, unanswered texts,
    /// passed to the fallback number or the on-call supervisor).
    pub missed: i64,
    pub abandoned: i64,
    pub voicemails: i64,
    /// Refused: the caller was blocked, or a text came from a sender that is no phone
    /// number.
    pub refused: i64,
    /// Texts that were only a keyword (HELP, STOP) and needed no volunteer.
    pub keyword_only: i64,
    /// Still in progress when the report was made.
    pub open: i64,
    /// answered / (answered + missed).
    pub answer_rate: Option<f64>,
    /// Seconds from arrival to a volunteer, answered contacts.
    pub wait_secs: Spread,
    /// Seconds with a volunteer, answered contacts.
    pub talk_secs: Spread,
    /// Contacts that chose a topic and needed a volunteer.
    pub chose_a_topic: i64,
    /// Of those, answered by a volunteer signed off for the topic.
    pub peer_matched: i64,
    /// peer_matched / chose_a_topic: the promise of peer support, measured (it falls
    /// with missed contacts as well as with matches the rota could not make).
    pub peer_match_rate: Option<f64>,
    /// Answered contacts that chose a topic.
    pub answered_with_a_topic: i64,
    /// peer_matched / answered_with_a_topic: how often an answered caller who chose a
    /// topic reached someone who shares it, apart from the contacts nobody answered.
    pub answered_peer_match_rate: Option<f64>,
    /// Contacts that chose a topic and needed a volunteer for which, when they arrived, a
    /// volunteer signed off for the topic was on shift and free.
    pub peer_match_free: i64,
    /// peer_match_free / chose_a_topic: the matches the rota made possible; set against
    /// peer_match_rate, it tells a shortage of volunteers from matches routing missed.
    pub peer_match_free_rate: Option<f64>,
    /// Offers made (volunteers rung or texted) per answered contact.
    pub offers_per_answered: Option<f64>,
    pub by_channel: Vec<Count>,
    /// By topic id (`none` for no topic chosen).
    pub by_topic: Vec<Count>,
    pub by_outcome: Vec<Count>,
    /// By local hour of arrival, 0 to 23.
    pub by_hour: Vec<Count>,
    /// By local weekday of arrival, Monday first.
    pub by_weekday: Vec<Count>,
}

/// How an outcome counts in the report.
fn needs_volunteer(outcome: Option<Outcome>) -> bool {
    !matches!(
        outcome,
        None | Some(
            Outcome::RejectedBlocked
                | Outcome::RefusedSender
                | Outcome::HelpOnly
                | Outcome::OptedOut
        )
    )
}

fn add(map: &mut BTreeMap<String, Count>, key: String, contacts: i64, answered: i64) {
    let entry = map.entry(key.clone()).or_insert(Count {
        key,
        contacts: 0,
        answered: 0,
    });
    entry.contacts += contacts;
    entry.answered += answered;
}

/// Assembles the contacts report from its tally: the database's groups, the hour and
/// weekday counts, the wait and talk histograms and the offers count.
pub fn contacts_report(tally: &ContactsTally) -> ContactsReport {
    let ContactsTally {
        groups,
        hours,
        waits,
        talks,
        offers_for_answered,
    } = tally;
    let mut by_channel = BTreeMap::new();
    let mut by_topic = BTreeMap::new();
    let mut by_outcome = BTreeMap::new();
    let (mut total, mut answered, mut missed, mut open) = (0, 0, 0, 0);
    let (mut chose_a_topic, mut peer_matched, mut answered_with_a_topic) = (0, 0, 0);
    let mut peer_match_free = 0;
    let outcome_count = |o: Outcome| -> i64 {
        groups
            .iter()
            .filter(|g| g.outcome.as_deref() == Some(o.as_str()))
            .map(|g| g.count)
            .sum()
    };
    let abandoned = outcome_count(Outcome::Abandoned);
    let voicemails = outcome_count(Outcome::Voicemail);
    let refused = outcome_count(Outcome::RejectedBlocked) + outcome_count(Outcome::RefusedSender);
    let keyword_only = outcome_count(Outcome::HelpOnly) + outcome_count(Outcome::OptedOut);
    for g in groups {
        let outcome = g.outcome.as_deref().and_then(Outcome::parse);
        let was_answered = outcome == Some(Outcome::Answered);
        let answered_here = if was_answered { g.count } else { 0 };
        total += g.count;
        if outcome.is_none() {
            open += g.count;
        }
        if needs_volunteer(outcome) {
            if was_answered {
                answered += g.count;
            } else {
                missed += g.count;
            }
            if g.topic_id.is_some() {
                chose_a_topic += g.count;
                if g.peer_match_free {
                    peer_match_free += g.count;
                }
                if was_answered {
                    answered_with_a_topic += g.count;
                }
                if was_answered && g.tier.as_deref() == Some("peer_match") {
                    peer_matched += g.count;
                }
            }
        }
        add(&mut by_channel, g.channel.clone(), g.count, answered_here);
        let topic = g.topic_id.map_or("none".to_owned(), |t| t.to_string());
        add(&mut by_topic, topic, g.count, answered_here);
        let outcome_key = g.outcome.clone().unwrap_or_else(|| "open".to_owned());
        add(&mut by_outcome, outcome_key, g.count, answered_here);
    }
    let mut by_hour: Vec<Count> = (0..24)
        .map(|h| Count {
            key: h.to_string(),
            contacts: 0,
            answered: 0,
        })
        .collect();
    let mut by_weekday: Vec<Count> = WEEKDAYS
        .iter()
        .map(|d| Count {
            key: (*d).to_owned(),
            contacts: 0,
            answered: 0,
        })
        .collect();
    for count in hours {
        let slots = [
            usize::try_from(count.hour)
                .ok()
                .and_then(|h| by_hour.get_mut(h)),
            usize::try_from(count.weekday)
                .ok()
                .and_then(|d| by_weekday.get_mut(d)),
        ];
        for slot in slots.into_iter().flatten() {
            slot.contacts += count.contacts;
            slot.answered += count.answered;
        }
    }
    ContactsReport {
        total,
        answered,
        missed,
        abandoned,
        voicemails,
        refused,
        keyword_only,
        open,
        answer_rate: ratio(answered, answered + missed),
        wait_secs: Spread::of(waits),
        talk_secs: Spread::of(talks),
        chose_a_topic,
        peer_matched,
        peer_match_rate: ratio(peer_matched, chose_a_topic),
        answered_with_a_topic,
        answered_peer_match_rate: ratio(peer_matched, answered_with_a_topic),
        peer_match_free,
        peer_match_free_rate: ratio(peer_match_free, chose_a_topic),
        offers_per_answered: ratio(*offers_for_answered, answered),
        by_channel: by_channel.into_values().collect(),
        by_topic: by_topic.into_values().collect(),
        by_outcome: by_outcome.into_values().collect(),
        by_hour,
        by_weekday,
    }
}

impl ContactsReport {
    /// As CSV: one `section,key,contacts,answered` row per figure.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            section: &'a str,
            key: Text<'a>,
            contacts: Option<String>,
            answered: Option<i64>,
        }
        let figure = |key: &'static str, value: String| Row {
            section: "summary",
            key: Text(key),
            contacts: Some(value),
            answered: None,
        };
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        let opt_i = |v: Option<i64>| v.map_or(String::new(), |v| v.to_string());
        let summary = [
            ("total", self.total.to_string()),
            ("answered", self.answered.to_string()),
            ("missed", self.missed.to_string()),
            ("abandoned", self.abandoned.to_string()),
            ("voicemails", self.voicemails.to_string()),
            ("refused", self.refused.to_string()),
            ("keyword_only", self.keyword_only.to_string()),
            ("open", self.open.to_string()),
            ("answer_rate", opt(self.answer_rate)),
            ("wait_secs_median", opt_i(self.wait_secs.median)),
            ("wait_secs_p90", opt_i(self.wait_secs.p90)),
            ("talk_secs_median", opt_i(self.talk_secs.median)),
            ("talk_secs_p90", opt_i(self.talk_secs.p90)),
            ("chose_a_topic", self.chose_a_topic.to_string()),
            ("peer_matched", self.peer_matched.to_string()),
            ("peer_match_rate", opt(self.peer_match_rate)),
            (
                "answered_with_a_topic",
                self.answered_with_a_topic.to_string(),
            ),
            (
                "answered_peer_match_rate",
                opt(self.answered_peer_match_rate),
            ),
            ("peer_match_free", self.peer_match_free.to_string()),
            ("peer_match_free_rate", opt(self.peer_match_free_rate)),
            ("offers_per_answered", opt(self.offers_per_answered)),
        ]
        .into_iter()
        .map(|(key, value)| figure(key, value));
        let groups = [
            ("channel", &self.by_channel),
            ("topic", &self.by_topic),
            ("outcome", &self.by_outcome),
            ("hour", &self.by_hour),
            ("weekday", &self.by_weekday),
        ]
        .into_iter()
        .flat_map(|(section, counts)| {
            counts.iter().map(move |c| Row {
                section,
                key: Text(&c.key),
                contacts: Some(c.contacts.to_string()),
                answered: Some(c.answered),
            })
        });
        to_csv(
            &["section", "key", "contacts", "answered"],
            summary.chain(groups),
        )
    }
}

/// One volunteer's contacts in one local week (one database group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerWeek {
    pub volunteer_id: VolunteerId,
    /// Weeks since Monday 1969-12-29, local time.
    pub week: i64,
    pub contacts: i64,
    pub talk_secs: i64,
    pub long_contacts: i64,
    pub flagged_contacts: i64,
    pub back_to_back: i64,
    pub missed_offers: i64,
}

impl VolunteerWeek {
    /// A week with nothing counted yet.
    pub fn new(volunteer_id: VolunteerId, week: i64) -> Self {
        Self {
            volunteer_id,
            week,
            contacts: 0,
            talk_secs: 0,
            long_contacts: 0,
            flagged_contacts: 0,
            back_to_back: 0,
            missed_offers: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WeekLoad {
    /// The Monday the local week starts.
    pub week_starting: Option<NaiveDate>,
    pub contacts: i64,
    pub talk_secs: i64,
    /// At least the volunteer's own `long_contact_minutes`.
    pub long_contacts: i64,
    pub flagged_contacts: i64,
    /// Answered within ten minutes of the end of their previous contact.
    pub back_to_back: i64,
    /// Offers that rang out or lapsed.
    pub missed_offers: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VolunteerLoad {
    pub volunteer_id: VolunteerId,
    pub name: String,
    /// Debriefs they asked for that no supervisor has held yet.
    pub open_debriefs: i64,
    pub weeks: Vec<WeekLoad>,
}

/// Volunteer load and wellbeing: each volunteer of the helpline with their weeks.
pub fn volunteer_load(
    volunteers: &[(VolunteerId, String, i64)],
    weeks: &[VolunteerWeek],
) -> Vec<VolunteerLoad> {
    volunteers
        .iter()
        .map(|(id, name, open_debriefs)| VolunteerLoad {
            volunteer_id: *id,
            name: name.clone(),
            open_debriefs: *open_debriefs,
            weeks: weeks
                .iter()
                .filter(|w| w.volunteer_id == *id)
                .map(|w| WeekLoad {
                    week_starting: week_start(w.week),
                    contacts: w.contacts,
                    talk_secs: w.talk_secs,
                    long_contacts: w.long_contacts,
                    flagged_contacts: w.flagged_contacts,
                    back_to_back: w.back_to_back,
                    missed_offers: w.missed_offers,
                })
                .collect(),
        })
        .collect()
}

/// Volunteer load as CSV: one row per volunteer and week (a volunteer with no contacts
/// in the period has one row with an empty week).
pub fn volunteer_load_csv(load: &[VolunteerLoad]) -> Result<String, csv::Error> {
    let quiet = WeekLoad {
        week_starting: None,
        contacts: 0,
        talk_secs: 0,
        long_contacts: 0,
        flagged_contacts: 0,
        back_to_back: 0,
        missed_offers: 0,
    };
    let rows = load.iter().flat_map(|v| {
        let weeks: Vec<&WeekLoad> = if v.weeks.is_empty() {
            vec![&quiet]
        } else {
            v.weeks.iter().collect()
        };
        weeks.into_iter().map(move |w| WeekRow {
            volunteer_id: v.volunteer_id,
            name: Text(&v.name),
            week_starting: w.week_starting,
            contacts: w.contacts,
            talk_secs: w.talk_secs,
            long_contacts: w.long_contacts,
            flagged_contacts: w.flagged_contacts,
            back_to_back: w.back_to_back,
            missed_offers: w.missed_offers,
            open_debriefs: v.open_debriefs,
        })
    });
    to_csv(
        &[
            "volunteer_id",
            "name",
            "week_starting",
            "contacts",
            "talk_secs",
            "long_contacts",
            "flagged_contacts",
            "back_to_back",
            "missed_offers",
            "open_debriefs",
        ],
        rows,
    )
}

/// One line of the volunteer load export.
#[derive(Serialize)]
struct WeekRow<'a> {
    volunteer_id: VolunteerId,
    name: Text<'a>,
    week_starting: Option<NaiveDate>,
    contacts: i64,
    talk_secs: i64,
    long_contacts: i64,
    flagged_contacts: i64,
    back_to_back: i64,
    missed_offers: i64,
    open_debriefs: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(
        channel: &str,
        topic: Option<TopicId>,
        outcome: &str,
        tier: Option<&str>,
        n: i64,
    ) -> Breakdown {
        Breakdown {
            channel: channel.into(),
            topic_id: topic,
            outcome: Some(outcome.into()),
            tier: tier.map(str::to_owned),
            // A peer match was made only where one was free.
            peer_match_free: tier == Some("peer_match"),
            count: n,
        }
    }

    #[test]
    fn the_peer_match_rate_counts_contacts_that_chose_a_topic() {
        let groups = [
            group("voice", Some(TopicId(1)), "answered", Some("peer_match"), 6),
            // A signed-off volunteer was free, yet someone else took the call.
            Breakdown {
                peer_match_free: true,
                ..group("voice", Some(TopicId(1)), "answered", Some("trained"), 2)
            },
            group("voice", Some(TopicId(1)), "abandoned", None, 2),
            group("voice", None, "answered", Some("any_topic"), 5),
            group("sms", None, "help_only", None, 3),
            group("voice", None, "rejected_blocked", None, 1),
        ];
        let report = contacts_report(&ContactsTally {
            groups: groups.to_vec(),
            offers_for_answered: 26,
            ..ContactsTally::default()
        });
        assert_eq!(report.total, 19);
        assert_eq!((report.answered, report.missed), (13, 2));
        assert_eq!((report.refused, report.keyword_only), (1, 3));
        assert_eq!(report.answer_rate, Some(0.8667));
        assert_eq!((report.chose_a_topic, report.peer_matched), (10, 6));
        assert_eq!(report.peer_match_rate, Some(0.6));
        assert_eq!(report.answered_with_a_topic, 8);
        assert_eq!(
            report.answered_peer_match_rate,
            Some(0.75),
            "the two abandoned calls are not the router's"
        );
        assert_eq!(report.offers_per_answered, Some(2.0));
        assert_eq!(report.peer_match_free, 8);
        assert_eq!(
            report.peer_match_free_rate,
            Some(0.8),
            "matches were possible for 8 of the 10, and made for 6"
        );
        assert_eq!(report.by_channel[0].key, "sms");
        assert_eq!(report.by_channel[1].contacts, 16);
    }

    #[test]
    fn hours_and_weekdays_are_always_all_there() {
        let at = |hour, weekday, contacts| HourCount {
            hour,
            weekday,
            contacts,
            answered: 1,
        };
        let report = contacts_report(&ContactsTally {
            hours: vec![at(3, 6, 4), at(3, 0, 1)],
            ..ContactsTally::default()
        });
        assert_eq!(report.by_hour.len(), 24);
        assert_eq!(report.by_hour[3].contacts, 5);
        assert_eq!(report.by_weekday[6].key, "sunday");
        assert_eq!(report.by_weekday[6].contacts, 4);
        assert_eq!(report.by_hour[3].answered, 2);
        assert_eq!(report.answer_rate, None);
    }

    #[test]
    fn the_contacts_report_as_csv_has_a_row_per_figure() {
        let report = contacts_report(&ContactsTally {
            groups: vec![group("voice", None, "answered", None, 1)],
            offers_for_answered: 1,
            ..ContactsTally::default()
        });
        let csv = report.to_csv().unwrap();
        assert!(
            csv.starts_with("section,key,contacts,answered\nsummary,total,1,\n"),
            "{csv}"
        );
        assert!(csv.contains("\nchannel,voice,1,1\n"), "{csv}");
    }

    #[test]
    fn volunteer_load_as_csv_has_a_row_per_week_and_one_for_a_quiet_volunteer() {
        let load = volunteer_load(
            &[
                (VolunteerId(1), "=Ann".into(), 0),
                (VolunteerId(2), "Bo".into(), 1),
            ],
            &[VolunteerWeek {
                contacts: 3,
                ..VolunteerWeek::new(VolunteerId(1), 0)
            }],
        );
        let csv = volunteer_load_csv(&load).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[1].starts_with("1,'=Ann,1969-12-29,3,"), "{csv}");
        assert_eq!(lines[2], "2,Bo,,0,0,0,0,0,0,1");
    }
}
