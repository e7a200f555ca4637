//! The routing trace stored on a contact, told in words for a supervisor: who could take
//! it, and why each other volunteer was not offered it ("Bob: already on a call").

use serde_json::Value;

use super::ids::VolunteerId;
use super::rota::Channel;
use super::routing::{Exclusion, Tier};

/// One routing round, told in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundInWords {
    pub round: i64,
    /// Who could take it, in the order they were to be offered it, with why they fit.
    pub could_take: Vec<String>,
    /// "Name: reason" for each volunteer passed over, by name.
    pub passed_over: Vec<String>,
}

/// What the contact was about, for the words.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub channel: Channel,
    /// The topic's label, when the caller chose one.
    pub topic: Option<&'a str>,
}

/// Why a volunteer was passed over, in words.
pub fn exclusion_in_words(why: Exclusion, asked: Asked<'_>) -> String {
    let channel = match asked.channel {
        Channel::Voice => "calls",
        Channel::Sms => "texts",
    };
    match why {
        Exclusion::AlreadyTried => "already tried for this contact".to_owned(),
        Exclusion::InTraining => "still in training".to_owned(),
        Exclusion::TrainingLapsed => "training has lapsed".to_owned(),
        Exclusion::RefresherOverdue => "refresher training is overdue".to_owned(),
        Exclusion::NotTrainedForChannel => format!("not trained for {channel}"),
        Exclusion::Paused => "paused".to_owned(),
        Exclusion::OffShift => "off shift".to_owned(),
        Exclusion::Busy => "already on a call or a text".to_owned(),
        Exclusion::Resting => "resting after a contact".to_owned(),
        Exclusion::ShiftCapReached => "has taken this shift's limit of contacts".to_owned(),
        Exclusion::Language => "does not speak the caller's language".to_owned(),
        Exclusion::Conflict => "declared a conflict with this caller".to_owned(),
        Exclusion::SteppedBack => "stepped back".to_owned(),
        Exclusion::NotSignedOffForTopic => {
            format!("not signed off for {}", asked.topic.unwrap_or("this topic"))
        }
    }
}

fn tier_in_words(tier: Option<Tier>, asked: Asked<'_>) -> String {
    let topic = asked.topic.unwrap_or("the topic");
    match tier {
        Some(Tier::PeerMatch) => format!("signed off for {topic}"),
        Some(Tier::Trained) => format!("trained, not signed off for {topic}"),
        Some(Tier::AnyTopic) => "no topic chosen".to_owned(),
        None => "could take it".to_owned(),
    }
}

/// The volunteer ids in one of a trace's lists.
pub fn volunteer_ids(list: &Value) -> impl Iterator<Item = VolunteerId> + '_ {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .filter_map(|id| i32::try_from(id).ok().map(VolunteerId))
}

/// The reasons a stored trace counts without listing who (too many to list), with how
/// many volunteers each passed over.
pub fn counted_only(trace: &Value) -> impl Iterator<Item = (&str, u64)> + '_ {
    let listed = trace["passed_over"].as_object();
    trace["passed_over_counts"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(move |(why, _)| listed.is_none_or(|listed| !listed.contains_key(*why)))
        .filter_map(|(why, n)| Some((why.as_str(), n.as_u64()?)))
}

/// Every volunteer a stored trace names.
pub fn named_volunteers(trace: &Value) -> Vec<VolunteerId> {
    let eligible = trace["eligible"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|group| volunteer_ids(&group["volunteer_ids"]));
    let passed = trace["passed_over"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(volunteer_ids);
    eligible.chain(passed).collect()
}

/// A stored trace (see `Plan::trace`) in words; `name` gives each volunteer's name.
pub fn describe(
    trace: &Value,
    asked: Asked<'_>,
    name: impl Fn(VolunteerId) -> String,
) -> RoundInWords {
    let could_take = trace["eligible"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|group| {
            let tier = serde_json::from_value::<Tier>(group["tier"].clone()).ok();
            let people: Vec<String> = volunteer_ids(&group["volunteer_ids"]).map(&name).collect();
            format!("{} ({})", people.join(", "), tier_in_words(tier, asked))
        })
        .collect();
    let reason = |why: &str| {
        serde_json::from_value::<Exclusion>(Value::String(why.to_owned()))
            .map(|why| exclusion_in_words(why, asked))
            .unwrap_or_else(|_| why.replace('_', " "))
    };
    let listed = trace["passed_over"].as_object();
    let mut passed_over: Vec<String> = listed
        .into_iter()
        .flatten()
        .flat_map(|(why, list)| {
            let reason = reason(why);
            volunteer_ids(list)
                .map(|id| format!("{}: {reason}", name(id)))
                .collect::<Vec<_>>()
        })
        .collect();
    passed_over.sort();
    passed_over
        .extend(counted_only(trace).map(|(why, n)| format!("{n} volunteers: {}", reason(why))));
    RoundInWords {
        round: trace["round"].as_i64().unwrap_or(0),
        could_take,
        passed_over,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_trace_reads_as_who_could_take_it_and_why_the_others_could_not() {
        let trace = json!({
            "round": 1,
            "eligible": [{"tier": "peer_match", "volunteer_ids": [3, 1]}],
            "continuity": null,
            "passed_over": {"busy": [2], "not_signed_off_for_topic": [4], "resting": [5]},
        });
        let names =
            |id: VolunteerId| ["", "Ann", "Bob", "Cat", "Dev", "Sam"][id.0 as usize].to_owned();
        let asked = Asked {
            channel: Channel::Voice,
            topic: Some("bereavement"),
        };
        assert_eq!(
            describe(&trace, asked, names),
            RoundInWords {
                round: 1,
                could_take: vec!["Cat, Ann (signed off for bereavement)".to_owned()],
                passed_over: vec![
                    "Bob: already on a call or a text".to_owned(),
                    "Dev: not signed off for bereavement".to_owned(),
                    "Sam: resting after a contact".to_owned(),
                ],
            }
        );
        let mut named = named_volunteers(&trace);
        named.sort();
        assert_eq!(named, [1, 2, 3, 4, 5].map(VolunteerId));
    }

    #[test]
    fn reasons_with_too_many_to_list_are_counted() {
        let trace = json!({
            "round": 1,
            "eligible": [{"tier": "any_topic", "volunteer_ids": [3]}],
            "passed_over": {"busy": [2]},
            "passed_over_counts": {"busy": 1, "off_shift": 8632},
        });
        let asked = Asked {
            channel: Channel::Voice,
            topic: None,
        };
        let words = describe(&trace, asked, |id| format!("volunteer {id}"));
        assert_eq!(
            words.passed_over,
            vec![
                "volunteer 2: already on a call or a text".to_owned(),
                "8632 volunteers: off shift".to_owned(),
            ]
        );
        assert_eq!(named_volunteers(&trace), [3, 2].map(VolunteerId));
    }

    #[test]
    fn a_reason_the_words_do_not_know_is_still_shown() {
        let trace = json!({"round": 2, "eligible": [], "passed_over": {"stepped_back": [7]}});
        let asked = Asked {
            channel: Channel::Sms,
            topic: None,
        };
        let words = describe(&trace, asked, |id| format!("volunteer {id}"));
        assert_eq!(words.passed_over, vec!["volunteer 7: stepped back"]);
        assert!(words.could_take.is_empty());
    }
}
