//! What the contacts and volunteer-load reports count, as tallies that add up: the tally
//! of a period is the sum of the tallies of its days. A settled day's tally is kept, so a
//! year's report adds up a year of kept days instead of counting a year of contacts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::reports::{Breakdown, HourCount, VolunteerWeek};

/// Everything the contacts report is made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsTally {
    pub groups: Vec<Breakdown>,
    pub hours: Vec<HourCount>,
    /// Seconds from arrival to a volunteer of answered contacts, as `(seconds, count)`.
    pub waits: Vec<(i64, i64)>,
    /// Seconds with a volunteer of answered contacts, as `(seconds, count)`.
    pub talks: Vec<(i64, i64)>,
    pub offers_for_answered: i64,
}

/// Everything the volunteer-load report counts: each volunteer's local weeks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerTally {
    pub weeks: Vec<VolunteerWeek>,
}

/// Sums histograms given as `(value, count)`, in ascending value order.
fn sum_histograms<'a>(parts: impl Iterator<Item = &'a Vec<(i64, i64)>>) -> Vec<(i64, i64)> {
    let mut sum: BTreeMap<i64, i64> = BTreeMap::new();
    for (value, count) in parts.flatten() {
        *sum.entry(*value).or_default() += count;
    }
    sum.into_iter().collect()
}

impl ContactsTally {
    /// The tally of all of `parts`' contacts, as if they had been counted together.
    pub fn sum(parts: &[Self]) -> Self {
        let mut groups: BTreeMap<_, i64> = BTreeMap::new();
        let mut hours: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
        for part in parts {
            for g in &part.groups {
                let key = (
                    g.channel.as_str(),
                    g.topic_id,
                    g.outcome.as_deref(),
                    g.tier.as_deref(),
                    g.peer_match_free,
                );
                *groups.entry(key).or_default() += g.count;
            }
            for h in &part.hours {
                let slot = hours.entry((h.hour, h.weekday)).or_default();
                slot.0 += h.contacts;
                slot.1 += h.answered;
            }
        }
        Self {
            groups: groups
                .into_iter()
                .map(
                    |((channel, topic_id, outcome, tier, peer_match_free), count)| Breakdown {
                        channel: channel.to_owned(),
                        topic_id,
                        outcome: outcome.map(str::to_owned),
                        tier: tier.map(str::to_owned),
                        peer_match_free,
                        count,
                    },
                )
                .collect(),
            hours: hours
                .into_iter()
                .map(|((hour, weekday), (contacts, answered))| HourCount {
                    hour,
                    weekday,
                    contacts,
                    answered,
                })
                .collect(),
            waits: sum_histograms(parts.iter().map(|p| &p.waits)),
            talks: sum_histograms(parts.iter().map(|p| &p.talks)),
            offers_for_answered: parts.iter().map(|p| p.offers_for_answered).sum(),
        }
    }
}

impl VolunteerTally {
    /// The tally of all of `parts`: a volunteer's week counted in several is summed,
    /// figure by figure.
    pub fn sum(parts: &[Self]) -> Self {
        let mut weeks: BTreeMap<_, VolunteerWeek> = BTreeMap::new();
        for w in parts.iter().flat_map(|p| &p.weeks) {
            let sum = weeks
                .entry((w.volunteer_id, w.week))
                .or_insert_with(|| VolunteerWeek::new(w.volunteer_id, w.week));
            sum.contacts += w.contacts;
            sum.talk_secs += w.talk_secs;
            sum.long_contacts += w.long_contacts;
            sum.flagged_contacts += w.flagged_contacts;
            sum.back_to_back += w.back_to_back;
            sum.missed_offers += w.missed_offers;
        }
        Self {
            weeks: weeks.into_values().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{TopicId, VolunteerId};

    fn group(channel: &str, outcome: &str, count: i64) -> Breakdown {
        Breakdown {
            channel: channel.to_owned(),
            topic_id: Some(TopicId(1)),
            outcome: Some(outcome.to_owned()),
            tier: None,
            peer_match_free: false,
            count,
        }
    }

    fn hour(hour: i64, contacts: i64) -> HourCount {
        HourCount {
            hour,
            weekday: 6,
            contacts,
            answered: contacts - 1,
        }
    }

    #[test]
    fn two_days_sum_to_the_counts_of_both() {
        let saturday = ContactsTally {
            groups: vec![group("voice", "answered", 3), group("sms", "abandoned", 1)],
            hours: vec![hour(23, 4)],
            waits: vec![(5, 1), (30, 2)],
            talks: vec![(600, 3)],
            offers_for_answered: 4,
        };
        let sunday = ContactsTally {
            groups: vec![
                group("voice", "answered", 2),
                group("voice", "voicemail", 1),
            ],
            hours: vec![hour(1, 1), hour(23, 2)],
            waits: vec![(10, 1), (30, 1)],
            talks: vec![(60, 1), (600, 1)],
            offers_for_answered: 3,
        };
        let both = ContactsTally::sum(&[saturday, sunday]);
        assert_eq!(
            both.groups,
            vec![
                group("sms", "abandoned", 1),
                group("voice", "answered", 5),
                group("voice", "voicemail", 1)
            ]
        );
        assert_eq!(
            both.hours,
            vec![hour(1, 1), {
                HourCount {
                    answered: 4,
                    ..hour(23, 6)
                }
            }]
        );
        assert_eq!(both.waits, vec![(5, 1), (10, 1), (30, 3)]);
        assert_eq!(both.talks, vec![(60, 1), (600, 4)]);
        assert_eq!(both.offers_for_answered, 7);
        assert_eq!(ContactsTally::sum(&[]), ContactsTally::default());
    }

    #[test]
    fn a_volunteers_week_counted_on_two_days_is_summed() {
        let week = |volunteer, week, contacts, missed_offers| VolunteerWeek {
            contacts,
            talk_secs: contacts * 100,
            long_contacts: contacts / 2,
            flagged_contacts: 1,
            back_to_back: 0,
            missed_offers,
            ..VolunteerWeek::new(VolunteerId(volunteer), week)
        };
        let monday = VolunteerTally {
            weeks: vec![week(2, 10, 2, 0), week(1, 10, 1, 1)],
        };
        let tuesday = VolunteerTally {
            weeks: vec![week(1, 10, 3, 0), week(1, 11, 0, 2)],
        };
        assert_eq!(
            VolunteerTally::sum(&[monday, tuesday]).weeks,
            vec![
                VolunteerWeek {
                    contacts: 4,
                    talk_secs: 400,
                    long_contacts: 1,
                    flagged_contacts: 2,
                    back_to_back: 0,
                    missed_offers: 1,
                    ..VolunteerWeek::new(VolunteerId(1), 10)
                },
                week(1, 11, 0, 2),
                week(2, 10, 2, 0),
            ]
        );
    }
}
