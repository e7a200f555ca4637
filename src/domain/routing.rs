//! The routing decision: given the instant, the caller's choices and every volunteer of
//! the helpline with their rota and current activity, which volunteers to offer the
//! contact to, in order, and why each of the others was passed over.
//!
//! Pure: no database, clock or randomness. The caller reserves the first volunteers of
//! the plan it can, in order, and records the trace.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ids::{IdSet, TopicId, VolunteerId};
use super::recent_activity::ActivitySummary;
use super::roster_index::{Bits, PackedLimits, RosterIndex};
use super::rota::{Channel, Rota, WallClock};
use super::step_back::StepBack;
use super::timezone::TimeZone;
use super::volunteer::{NotTakingContacts, Readiness, VolunteerProfile};

/// What the router needs to know about the contact being routed.
#[derive(Debug, Clone)]
pub struct RoutingRequest<'a> {
    pub at: DateTime<Utc>,
    pub channel: Channel,
    /// The shared experience the caller chose; `None` means any.
    pub topic: Option<TopicChoice>,
    /// The language the caller chose; `None` means any.
    pub language: Option<&'a str>,
    /// The volunteer a returning caller last spoke to, if continuity applies.
    pub continuity: Option<Continuity>,
    /// Volunteers who declared they know this caller.
    pub conflicted: &'a IdSet<VolunteerId>,
    /// Volunteers already offered this contact.
    pub already_tried: &'a IdSet<VolunteerId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicChoice {
    pub topic_id: TopicId,
    /// Only volunteers signed off for the topic may take it.
    pub strict: bool,
}

/// A returning caller's last volunteer, and how many of the caller's latest contacts in a
/// row went to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Continuity {
    pub volunteer_id: VolunteerId,
    pub consecutive: u32,
    pub max_repeats: u32,
}

/// A volunteer as the router sees them.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub volunteer_id: VolunteerId,
    pub profile: &'a VolunteerProfile,
    pub rota: &'a Rota,
    pub ready_topics: &'a [TopicId],
    /// Their step-backs (from a topic or from every contact), whether in force or not.
    pub stepped_back: &'a [StepBack],
    pub activity: &'a Activity,
}

/// What a volunteer is doing and has done lately.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Contacts on the routed channel they are on or being offered now.
    pub engaged: u32,
    /// Their latest finished contact.
    pub last_contact: Option<PastContact>,
    /// When each of their recent contacts started (enough to cover the current shift).
    pub recent_contact_starts: Vec<DateTime<Utc>>,
    /// When they last flagged a contact in their report (safeguarding, a debrief, abuse):
    /// a flagged contact starts a rest period as a long one does.
    pub last_flagged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastContact {
    pub ended_at: DateTime<Utc>,
    pub duration: Duration,
}

/// How well an offered volunteer matches the caller's choice.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Tier {
    /// Signed off as ready for the chosen topic: the peer match.
    #[sea_orm(string_value = "peer_match")]
    PeerMatch,
    /// Trained, without the topic's sign-off (non-strict topics only).
    #[sea_orm(string_value = "trained")]
    Trained,
    /// The caller chose no topic.
    #[sea_orm(string_value = "any_topic")]
    AnyTopic,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::PeerMatch => "peer_match",
            Tier::Trained => "trained",
            Tier::AnyTopic => "any_topic",
        }
    }
}

/// Why a volunteer was not offered the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    AlreadyTried,
    InTraining,
    TrainingLapsed,
    RefresherOverdue,
    NotTrainedForChannel,
    Paused,
    OffShift,
    Busy,
    Resting,
    ShiftCapReached,
    Language,
    Conflict,
    /// Stepped back, for a while, from the contact's topic or from every contact.
    SteppedBack,
    NotSignedOffForTopic,
}

impl From<NotTakingContacts> for Exclusion {
    fn from(reason: NotTakingContacts) -> Self {
        match reason {
            NotTakingContacts::InTraining => Exclusion::InTraining,
            NotTakingContacts::TrainingLapsed => Exclusion::TrainingLapsed,
            NotTakingContacts::RefresherOverdue => Exclusion::RefresherOverdue,
            NotTakingContacts::NotTrainedForChannel => Exclusion::NotTrainedForChannel,
            NotTakingContacts::Paused => Exclusion::Paused,
        }
    }
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::AlreadyTried => "already_tried",
            Exclusion::InTraining => "in_training",
            Exclusion::TrainingLapsed => "training_lapsed",
            Exclusion::RefresherOverdue => "refresher_overdue",
            Exclusion::NotTrainedForChannel => "not_trained_for_channel",
            Exclusion::Paused => "paused",
            Exclusion::OffShift => "off_shift",
            Exclusion::Busy => "busy",
            Exclusion::Resting => "resting",
            Exclusion::ShiftCapReached => "shift_cap_reached",
            Exclusion::Language => "language",
            Exclusion::Conflict => "conflict",
            Exclusion::SteppedBack => "stepped_back",
            Exclusion::NotSignedOffForTopic => "not_signed_off_for_topic",
        }
    }

    /// Whether the volunteer may become available to this contact within minutes.
    pub fn is_temporary(self) -> bool {
        matches!(self, Exclusion::Busy | Exclusion::Resting)
    }
}

/// One volunteer the plan offers the contact to, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub volunteer_id: VolunteerId,
    pub tier: Tier,
    /// Ranked first as the returning caller's last volunteer.
    pub continuity: bool,
}

/// The router's answer: the eligible volunteers in the order to offer, and the reason
/// each other volunteer was passed over.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub offers: Vec<Offer>,
    /// Those passed over, one by one with their reason.
    listed: Vec<(VolunteerId, Exclusion)>,
    /// Those the roster's index found off shift without asking anything else: most of a
    /// large roster, kept as a set rather than listed.
    off_shift: OffShiftSet,
}

/// Volunteers of a roster off shift, as bits by position.
#[derive(Debug, Clone, Default)]
struct OffShiftSet {
    volunteer_ids: Arc<[VolunteerId]>,
    bits: Bits,
}

impl OffShiftSet {
    fn iter(&self) -> impl Iterator<Item = VolunteerId> + '_ {
        self.bits.positions().map(|p| self.volunteer_ids[p])
    }
}

impl Plan {
    /// Whether a volunteer signed off for the contact's topic is eligible now.
    pub fn peer_match_free(&self) -> bool {
        self.offers.iter().any(|o| o.tier == Tier::PeerMatch)
    }

    /// Whether waiting could help: nobody is eligible now, but someone is only busy or resting.
    pub fn worth_waiting(&self) -> bool {
        // Those in the off-shift set are not temporarily kept away.
        self.offers.is_empty() && self.listed.iter().any(|(_, why)| why.is_temporary())
    }

    /// Every volunteer passed over, with the reason.
    pub fn passed_over(&self) -> impl Iterator<Item = (VolunteerId, Exclusion)> + '_ {
        let off_shift = self.off_shift.iter().map(|id| (id, Exclusion::OffShift));
        self.listed.iter().copied().chain(off_shift)
    }

    /// The routing trace as stored on the contact: the eligible volunteers in the order they
    /// would be offered the contact (ids by tier), how many were passed over for each reason
    /// and, for each reason with at most `LISTED_PER_REASON` of them, who (ids by reason);
    /// who was then rung is in the `offered` events. At a helpline of thousands most are
    /// off shift: they are counted, not listed, so a round's trace stays a few kilobytes.
    pub fn trace(&self, round: i32) -> serde_json::Value {
        let mut eligible: Vec<(&'static str, Vec<VolunteerId>)> = Vec::new();
        for offer in &self.offers {
            match eligible.last_mut() {
                Some((tier, ids)) if *tier == offer.tier.as_str() => ids.push(offer.volunteer_id),
                _ => eligible.push((offer.tier.as_str(), vec![offer.volunteer_id])),
            }
        }
        // For each reason, how many and who.
        let mut by_reason: HashMap<Exclusion, (usize, Vec<VolunteerId>)> = HashMap::new();
        for (volunteer_id, why) in &self.listed {
            let (count, ids) = by_reason.entry(*why).or_default();
            *count += 1;
            ids.push(*volunteer_id);
        }
        let unlisted_off_shift = self.off_shift.bits.count();
        if unlisted_off_shift > 0 {
            by_reason.entry(Exclusion::OffShift).or_default().0 += unlisted_off_shift;
        }
        let mut passed_over = serde_json::Map::new();
        let mut counts = serde_json::Map::new();
        for (why, (count, mut ids)) in by_reason {
            counts.insert(why.as_str().to_owned(), json!(count));
            if count <= LISTED_PER_REASON {
                if why == Exclusion::OffShift {
                    ids.extend(self.off_shift.iter());
                }
                passed_over.insert(why.as_str().to_owned(), json!(ids));
            }
        }
        json!({
            "round": round,
            "eligible": eligible.into_iter().map(|(tier, ids)| json!({"tier": tier, "volunteer_ids": ids})).collect::<Vec<_>>(),
            "continuity": self.offers.iter().find(|o| o.continuity).map(|o| o.volunteer_id),
            "passed_over": passed_over,
            "passed_over_counts": counts,
        })
    }
}

/// Two plans are the same when they offer the same volunteers in the same order and pass
/// over the same volunteers for the same reasons, however those are kept.
impl PartialEq for Plan {
    fn eq(&self, other: &Self) -> bool {
        let passed_over = |plan: &Plan| {
            let mut all: Vec<_> = plan.passed_over().collect();
            all.sort_unstable_by_key(|(id, _)| *id);
            all
        };
        self.offers == other.offers && passed_over(self) == passed_over(other)
    }
}

impl Eq for Plan {}

const MICROS_A_MINUTE: i64 = 60_000_000;

/// The most volunteers a trace lists by name for one reason they were passed over; more
/// are only counted.
pub const LISTED_PER_REASON: usize = 50;

/// Decides who to offer the contact to.
pub fn plan(request: &RoutingRequest<'_>, candidates: &[Candidate<'_>]) -> Plan {
    let mut clocks = LocalClocks::default();
    let mut ranked = Vec::new();
    let mut excluded = Vec::new();
    for candidate in candidates {
        let clock = clocks.local(request.at, candidate.rota.time_zone);
        match assess(request, candidate, clock) {
            Ok(offer) => ranked.push(offer),
            Err(why) => excluded.push((candidate.volunteer_id, why)),
        }
    }
    in_order(request, ranked, excluded)
}

/// The volunteers of a [`RosterIndex`], by position, as the router asks about them.
pub trait RosterVolunteers<'a> {
    /// Everything about the volunteer: asked only about those the index cannot answer
    /// for (a rota with leave or extra shifts, step-backs, a contact this shift).
    fn candidate(&self, position: usize) -> Candidate<'a>;
    /// The activity of the volunteer at `position`, whose id is `volunteer_id`, packed:
    /// asked about each volunteer on shift who takes contacts on the channel.
    fn activity(&self, position: usize, volunteer_id: VolunteerId) -> ActivitySummary;
}

/// The same plan as [`plan`] over the volunteers of `index`, asking about only those
/// the index names as possibly on shift, and about those mostly through the index. The
/// others are passed over 64 at a time: off shift, unless they were tried already or
/// take no contacts on the channel for a reason of their own.
pub fn plan_indexed<'a, V: RosterVolunteers<'a> + ?Sized>(
    request: &RoutingRequest<'_>,
    index: &RosterIndex,
    volunteers: &V,
) -> Plan {
    let clocks = index.wall_clocks(request.at);
    // When the minute each zone's wall clock reads began, in microseconds since 1970, and
    // which minute of the week it is where the clocks kept one offset lately.
    let minute_starts: Vec<i64> = clocks
        .iter()
        .map(|clock| clock.minute_started_micros(request.at))
        .collect();
    let steady_minutes: Vec<Option<u32>> = clocks
        .iter()
        .map(|clock| clock.is_steady().then(|| clock.minute_of_week()))
        .collect();
    let possibly = index.possibly_on_shift(&clocks);
    let tried = index.positions_of(request.already_tried);
    let conflicted = index.positions_of(request.conflicted);
    let surely_ready = index.surely_ready(request.channel, request.at);
    let nobody = Bits::none(index.len());
    let choices = IndexedChoices {
        speakers: request
            .language
            .map(|language| index.speakers_of(language).unwrap_or(&nobody)),
        signed_off: request
            .topic
            .map(|topic| index.signed_off_for(topic.topic_id).unwrap_or(&nobody)),
    };
    let mut off_shift = Bits::none(index.len());
    let mut ranked = Vec::new();
    let mut listed = Vec::new();
    for (word, named) in possibly.words.iter().enumerate() {
        let in_roster = match index.len() - word * 64 {
            n if n >= 64 => u64::MAX,
            n => (1 << n) - 1,
        };
        // Surely ready on the channel, and not tried yet.
        let plain = surely_ready.words[word] & !tried.words[word];
        off_shift.words[word] = !named & plain & in_roster;
        let mut to_ask = in_roster & !off_shift.words[word];
        while to_ask != 0 {
            let bit = 1 << to_ask.trailing_zeros();
            to_ask &= !bit;
            let position = word * 64 + bit.trailing_zeros() as usize;
            let zone = index.zone_of(position);
            let clock = clocks[zone];
            let volunteer_id = index.volunteer_id(position);
            if plain & bit == 0
                && let Err(why) =
                    before_the_rota(request, volunteer_id, index.readiness(position), clock)
            {
                listed.push((volunteer_id, why));
                continue;
            }
            if named & bit == 0 {
                listed.push((volunteer_id, Exclusion::OffShift));
                continue;
            }
            let minute_of_week = steady_minutes[zone];
            let shift_start =
                match index.minutes_on_shift(position, minute_of_week, request.channel) {
                    Some(minutes) => {
                        minutes.map(|m| minute_starts[zone] - i64::from(m) * MICROS_A_MINUTE)
                    }
                    None => volunteers
                        .candidate(position)
                        .rota
                        .current_shift_start_on(request.at, clock, Some(request.channel))
                        .map(|start| start.timestamp_micros()),
                };
            let volunteer = Indexed {
                index,
                volunteers,
                choices: &choices,
                position,
                volunteer_id,
            };
            let assessed = shift_start.ok_or(Exclusion::OffShift).and_then(|start| {
                assess_on_shift(request, &volunteer, start, conflicted.contains(position))
            });
            match assessed {
                Ok(offer) => ranked.push(offer),
                Err(why) => listed.push((volunteer_id, why)),
            }
        }
    }
    let mut plan = in_order(request, ranked, listed);
    plan.off_shift = OffShiftSet {
        volunteer_ids: index.volunteer_ids().clone(),
        bits: off_shift,
    };
    plan
}

/// Candidates in the order of the index built from them: how the tests give
/// [`plan_indexed`] the same volunteers as [`plan`].
#[cfg(test)]
impl<'a> RosterVolunteers<'a> for [Candidate<'a>] {
    fn candidate(&self, position: usize) -> Candidate<'a> {
        self[position]
    }

    fn activity(&self, position: usize, _volunteer_id: VolunteerId) -> ActivitySummary {
        ActivitySummary::of(self[position].activity)
    }
}

/// An eligible volunteer with what orders them among the others: their tier, then the
/// longest idle first (never having had a contact is the longest idle of all), then the
/// fewest contacts this shift, then their id; packed into one number that sorts the same.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ranked(u128);

impl Ranked {
    /// `idle_since`: when their latest contact ended, in microseconds since 1970
    /// ([`ActivitySummary::NONE`] for never).
    fn new(volunteer_id: VolunteerId, tier: Tier, idle_since: i64, shift_contacts: usize) -> Self {
        // Signed numbers with their sign bit flipped sort as unsigned ones do.
        let idle_since = (idle_since as u64) ^ (1 << 63);
        let shift_contacts = u16::try_from(shift_contacts).unwrap_or(u16::MAX);
        let volunteer_id = (volunteer_id.0 as u32) ^ (1 << 31);
        Self(
            (tier as u128) << 112
                | u128::from(idle_since) << 48
                | u128::from(shift_contacts) << 32
                | u128::from(volunteer_id),
        )
    }

    fn tier(self) -> Tier {
        match self.0 >> 112 {
            0 => Tier::PeerMatch,
            1 => Tier::Trained,
            _ => Tier::AnyTopic,
        }
    }

    fn volunteer_id(self) -> VolunteerId {
        VolunteerId((self.0 as u32 ^ (1 << 31)) as i32)
    }
}

/// The plan: the eligible in the order to offer them, and the others with their reasons.
fn in_order(
    request: &RoutingRequest<'_>,
    mut ranked: Vec<Ranked>,
    listed: Vec<(VolunteerId, Exclusion)>,
) -> Plan {
    // A non-strict topic falls back to trained volunteers only when no peer match is
    // eligible; the tier order makes that hold for every position in the plan. Ids are
    // unique, so an unstable sort gives the one order.
    ranked.sort_unstable();
    let mut offers: Vec<Offer> = ranked
        .into_iter()
        .map(|ranked| Offer {
            volunteer_id: ranked.volunteer_id(),
            tier: ranked.tier(),
            continuity: false,
        })
        .collect();
    if let Some(c) = request.continuity
        && c.consecutive < c.max_repeats
        && let Some(pos) = offers.iter().position(|o| o.volunteer_id == c.volunteer_id)
    {
        let mut first = offers.remove(pos);
        first.continuity = true;
        offers.insert(0, first);
    }
    Plan {
        offers,
        listed,
        off_shift: OffShiftSet::default(),
    }
}

/// Wall-clock times of one instant, converted once per time zone.
#[derive(Default)]
struct LocalClocks {
    seen: Vec<(TimeZone, WallClock)>,
}

impl LocalClocks {
    fn local(&mut self, at: DateTime<Utc>, zone: TimeZone) -> WallClock {
        if let Some((_, clock)) = self.seen.iter().find(|(z, _)| *z == zone) {
            return *clock;
        }
        let clock = WallClock::of(at, zone);
        self.seen.push((zone, clock));
        clock
    }
}

/// How a candidate would be offered the contact, or why not.
fn assess(
    request: &RoutingRequest<'_>,
    candidate: &Candidate<'_>,
    clock: WallClock,
) -> Result<Ranked, Exclusion> {
    let readiness = candidate.profile.readiness();
    before_the_rota(request, candidate.volunteer_id, &readiness, clock)?;
    let shift_start = candidate
        .rota
        .current_shift_start_on(request.at, clock, Some(request.channel))
        .ok_or(Exclusion::OffShift)?
        .timestamp_micros();
    let conflicted = request.conflicted.contains(&candidate.volunteer_id);
    assess_on_shift(request, candidate, shift_start, conflicted)
}

/// What the checks of a volunteer on shift ask about them.
trait OnShift {
    fn volunteer_id(&self) -> VolunteerId;
    fn limits(&self) -> PackedLimits;
    fn activity(&self) -> ActivitySummary;
    /// How many of their recent contacts started at or after `since` (microseconds since
    /// 1970), asked only when their latest did.
    fn contacts_since(&self, since: i64) -> usize;
    /// Whether they speak the caller's language: asked only when one was chosen.
    fn speaks(&self, language: &str) -> bool;
    /// Whether one of their step-backs keeps them from a contact about `topic` at `at`.
    fn stepped_back(&self, topic: Option<TopicId>, at: DateTime<Utc>) -> bool;
    fn signed_off(&self, topic: TopicId) -> bool;
}

impl OnShift for Candidate<'_> {
    fn volunteer_id(&self) -> VolunteerId {
        self.volunteer_id
    }

    fn limits(&self) -> PackedLimits {
        PackedLimits::of(&self.profile.limits)
    }

    fn activity(&self) -> ActivitySummary {
        ActivitySummary::of(self.activity)
    }

    fn contacts_since(&self, since: i64) -> usize {
        let starts = &self.activity.recent_contact_starts;
        starts
            .iter()
            .filter(|started| started.timestamp_micros() >= since)
            .count()
    }

    fn speaks(&self, language: &str) -> bool {
        self.profile.languages.iter().any(|l| l == language)
    }

    fn stepped_back(&self, topic: Option<TopicId>, at: DateTime<Utc>) -> bool {
        let mut step_backs = self.stepped_back.iter();
        step_backs.any(|step_back| step_back.keeps_from(topic, at))
    }

    fn signed_off(&self, topic: TopicId) -> bool {
        self.ready_topics.contains(&topic)
    }
}

/// Who speaks the caller's language and who is signed off for their topic, as the
/// index's bits, for the choices the caller made.
struct IndexedChoices<'i> {
    speakers: Option<&'i Bits>,
    signed_off: Option<&'i Bits>,
}

/// A volunteer of a roster index, asked about through the index where it can answer.
struct Indexed<'i, V: ?Sized> {
    index: &'i RosterIndex,
    volunteers: &'i V,
    choices: &'i IndexedChoices<'i>,
    position: usize,
    volunteer_id: VolunteerId,
}

impl<'a, V: RosterVolunteers<'a> + ?Sized> OnShift for Indexed<'_, V> {
    fn volunteer_id(&self) -> VolunteerId {
        self.volunteer_id
    }

    fn limits(&self) -> PackedLimits {
        self.index.limits(self.position)
    }

    fn activity(&self) -> ActivitySummary {
        self.volunteers.activity(self.position, self.volunteer_id)
    }

    fn contacts_since(&self, since: i64) -> usize {
        self.volunteers
            .candidate(self.position)
            .contacts_since(since)
    }

    fn speaks(&self, _language: &str) -> bool {
        self.choices
            .speakers
            .is_none_or(|speakers| speakers.contains(self.position))
    }

    fn stepped_back(&self, topic: Option<TopicId>, at: DateTime<Utc>) -> bool {
        self.index.has_step_backs(self.position)
            && self
                .volunteers
                .candidate(self.position)
                .stepped_back(topic, at)
    }

    fn signed_off(&self, _topic: TopicId) -> bool {
        self.choices
            .signed_off
            .is_some_and(|signed_off| signed_off.contains(self.position))
    }
}

/// How a volunteer on shift since `shift_start` (in microseconds since 1970), who takes
/// contacts on the channel and was not tried yet, would be offered the contact; or why
/// not.
fn assess_on_shift(
    request: &RoutingRequest<'_>,
    volunteer: &impl OnShift,
    shift_start: i64,
    conflicted: bool,
) -> Result<Ranked, Exclusion> {
    let limits = volunteer.limits();
    let activity = volunteer.activity();
    let shift_contacts = if activity.latest_start >= shift_start {
        volunteer.contacts_since(shift_start)
    } else {
        0
    };
    if shift_contacts >= usize::from(limits.contacts_per_shift) {
        return Err(Exclusion::ShiftCapReached);
    }
    if let Some(language) = request.language
        && !volunteer.speaks(language)
    {
        return Err(Exclusion::Language);
    }
    if conflicted {
        return Err(Exclusion::Conflict);
    }
    let topic_id = request.topic.map(|t| t.topic_id);
    if volunteer.stepped_back(topic_id, request.at) {
        return Err(Exclusion::SteppedBack);
    }
    let tier = match request.topic {
        None => Tier::AnyTopic,
        Some(topic) if volunteer.signed_off(topic.topic_id) => Tier::PeerMatch,
        Some(topic) if !topic.strict => Tier::Trained,
        Some(_) => return Err(Exclusion::NotSignedOffForTopic),
    };
    // Last, what passes within minutes: a volunteer is "busy" or "resting" only when
    // nothing else keeps them from this contact, so a caller holds only for someone who
    // could take the call.
    if activity.engaged >= limits.capacity(request.channel) {
        return Err(Exclusion::Busy);
    }
    if rest_ends_at_micros(limits, activity)
        .is_some_and(|until| request.at.timestamp_micros() < until)
    {
        return Err(Exclusion::Resting);
    }
    let id = volunteer.volunteer_id();
    Ok(Ranked::new(id, tier, activity.last_end, shift_contacts))
}

/// What keeps a volunteer from the contact whatever their rota says: having been offered
/// it already, or not taking contacts on its channel.
fn before_the_rota(
    request: &RoutingRequest<'_>,
    volunteer_id: VolunteerId,
    readiness: &Readiness,
    clock: WallClock,
) -> Result<(), Exclusion> {
    if !request.already_tried.is_empty() && request.already_tried.contains(&volunteer_id) {
        return Err(Exclusion::AlreadyTried);
    }
    // The volunteer's own zone is the rota's zone: one conversion serves both checks.
    readiness.check_on(clock.local.date(), Some(request.channel))?;
    Ok(())
}

/// When the rest after a volunteer's latest long or flagged contact ends, in
/// microseconds since 1970, if they had one.
fn rest_ends_at_micros(limits: PackedLimits, activity: ActivitySummary) -> Option<i64> {
    let long = i32::from(limits.long_contact_minutes) * 60;
    let long_contact_ended = if activity.last_length_secs >= long {
        activity.last_end
    } else {
        ActivitySummary::NONE
    };
    let from = long_contact_ended.max(activity.last_flagged);
    let rest = i64::from(limits.rest_minutes_after_long) * MICROS_A_MINUTE;
    (from != ActivitySummary::NONE).then(|| from.saturating_add(rest))
}

/// When the rest after a volunteer's latest long or flagged contact ends, if they had one.
pub fn rest_ends_at(profile: &VolunteerProfile, activity: &Activity) -> Option<DateTime<Utc>> {
    let limits = PackedLimits::of(&profile.limits);
    rest_ends_at_micros(limits, ActivitySummary::of(activity))
        .and_then(DateTime::from_timestamp_micros)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::NaiveDate;

    use super::*;
    use crate::domain::calendar::{LocalTime, Weekday};
    use crate::domain::roster_index::RosterEntry;
    use crate::domain::rota::{Interval, ShiftChannels, WeeklyShift};
    use crate::domain::timezone::TimeZone;
    use crate::domain::volunteer::TrainingStatus;

    const NEONATAL: TopicId = TopicId(7);

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn profile(zone: &str) -> VolunteerProfile {
        VolunteerProfile::trained_in(TimeZone::parse(zone).unwrap())
    }

    /// On shift every day, 08:00 to 20:00 local.
    fn day_rota(zone: &str) -> Rota {
        let mut rota = Rota::new(TimeZone::parse(zone).unwrap());
        for day in Weekday::ALL {
            let (from, to) = (LocalTime::hm(8, 0).unwrap(), LocalTime::hm(20, 0).unwrap());
            rota.shifts
                .push(WeeklyShift::new(day, from, to, ShiftChannels::Both, None, None).unwrap());
        }
        rota
    }

    struct Volunteer {
        id: VolunteerId,
        profile: VolunteerProfile,
        rota: Rota,
        ready: Vec<TopicId>,
        stepped_back: Vec<StepBack>,
        activity: Activity,
    }

    fn volunteer(id: i32) -> Volunteer {
        Volunteer {
            id: VolunteerId(id),
            profile: profile("Europe/London"),
            rota: day_rota("Europe/London"),
            ready: Vec::new(),
            stepped_back: Vec::new(),
            activity: Activity::default(),
        }
    }

    fn candidates(vs: &[Volunteer]) -> Vec<Candidate<'_>> {
        vs.iter()
            .map(|v| Candidate {
                volunteer_id: v.id,
                profile: &v.profile,
                rota: &v.rota,
                ready_topics: &v.ready,
                stepped_back: &v.stepped_back,
                activity: &v.activity,
            })
            .collect()
    }

    // Sunday 22 November 2026, 12:00 in London.
    const NOON: &str = "2026-11-22T12:00:00Z";

    fn route(vs: &[Volunteer], topic: Option<TopicChoice>) -> Plan {
        route_with(vs, topic, &IdSet::default(), &IdSet::default(), None)
    }

    fn route_with(
        vs: &[Volunteer],
        topic: Option<TopicChoice>,
        conflicted: &IdSet<VolunteerId>,
        tried: &IdSet<VolunteerId>,
        continuity: Option<Continuity>,
    ) -> Plan {
        let request = RoutingRequest {
            at: utc(NOON),
            channel: Channel::Voice,
            topic,
            language: Some("en"),
            continuity,
            conflicted,
            already_tried: tried,
        };
        let candidates = candidates(vs);
        let decided = plan(&request, &candidates);
        assert_eq!(indexed(&request, vs, &candidates), decided);
        decided
    }

    /// The plan through the roster index, which must be the same.
    fn indexed(
        request: &RoutingRequest<'_>,
        vs: &[Volunteer],
        candidates: &[Candidate<'_>],
    ) -> Plan {
        plan_indexed(request, &index_of(vs), candidates)
    }

    fn index_of(vs: &[Volunteer]) -> RosterIndex {
        RosterIndex::build(vs.iter().map(|v| RosterEntry {
            volunteer_id: v.id,
            profile: &v.profile,
            rota: &v.rota,
            ready_topics: &v.ready,
            stepped_back: &v.stepped_back,
        }))
    }

    fn order(plan: &Plan) -> Vec<(i32, Tier)> {
        plan.offers
            .iter()
            .map(|o| (o.volunteer_id.0, o.tier))
            .collect()
    }

    #[test]
    fn the_trace_lists_those_the_index_passed_over_as_a_set_when_they_are_few() {
        // Noon in Auckland is after midnight: volunteers 2 and 3 there are off shift.
        let mut away = [volunteer(2), volunteer(3)];
        for v in &mut away {
            v.profile = profile("Pacific/Auckland");
            v.rota = day_rota("Pacific/Auckland");
        }
        let [second, third] = away;
        let vs = [volunteer(1), second, third];
        let request = RoutingRequest {
            at: utc(NOON),
            channel: Channel::Voice,
            topic: None,
            language: None,
            continuity: None,
            conflicted: &IdSet::default(),
            already_tried: &IdSet::default(),
        };
        let candidates = candidates(&vs);
        let through_the_index = indexed(&request, &vs, &candidates).trace(1);
        assert_eq!(through_the_index, plan(&request, &candidates).trace(1));
        assert_eq!(through_the_index["passed_over"]["off_shift"], json!([2, 3]));
        assert_eq!(
            through_the_index["passed_over_counts"]["off_shift"],
            json!(2)
        );
    }

    #[test]
    fn a_ranking_key_sorts_as_tier_then_longest_idle_then_fewest_contacts_then_id() {
        let activity = |ended_at: Option<&str>| Activity {
            last_contact: ended_at.and_then(|at| ended(at, 5)),
            ..Activity::default()
        };
        let (never, early, late) = (
            activity(None),
            activity(Some("1969-12-31T23:00:00Z")),
            activity(Some("2026-11-22T11:00:00Z")),
        );
        let key = |id: i32, tier: Tier, activity: &Activity, contacts: usize| {
            let idle_since = ActivitySummary::of(activity).last_end;
            Ranked::new(VolunteerId(id), tier, idle_since, contacts)
        };
        let in_order = [
            key(-5, Tier::PeerMatch, &never, 9),
            key(3, Tier::PeerMatch, &early, 0),
            key(-7, Tier::PeerMatch, &late, 1),
            key(2, Tier::PeerMatch, &late, 2),
            key(4, Tier::PeerMatch, &late, 2),
            key(1, Tier::Trained, &never, 0),
            key(1, Tier::AnyTopic, &never, 0),
        ];
        assert!(in_order.is_sorted());
        assert!(in_order.windows(2).all(|pair| pair[0] != pair[1]));
        let decoded: Vec<_> = in_order
            .iter()
            .map(|k| (k.volunteer_id().0, k.tier()))
            .collect();
        assert_eq!(decoded[0], (-5, Tier::PeerMatch));
        assert_eq!(decoded[5], (1, Tier::Trained));
        assert_eq!(decoded[6], (1, Tier::AnyTopic));
    }

    fn excluded(plan: &Plan) -> Vec<(i32, Exclusion)> {
        plan.passed_over().map(|(id, why)| (id.0, why)).collect()
    }

    fn neonatal(strict: bool) -> Option<TopicChoice> {
        Some(TopicChoice {
            topic_id: NEONATAL,
            strict,
        })
    }

    fn ended(at: &str, minutes: i64) -> Option<PastContact> {
        Some(PastContact {
            ended_at: utc(at),
            duration: Duration::minutes(minutes),
        })
    }

    #[test]
    fn a_peer_match_comes_before_a_longer_idle_volunteer_without_the_sign_off() {
        let mut matched = volunteer(1);
        matched.ready = vec![NEONATAL];
        matched.activity.last_contact = ended("2026-11-22T11:50:00Z", 5);
        let idle = volunteer(2);
        let plan = route(&[idle, matched], neonatal(false));
        assert_eq!(order(&plan), vec![(1, Tier::PeerMatch), (2, Tier::Trained)]);
    }

    #[test]
    fn a_volunteer_who_stepped_back_from_a_topic_takes_other_contacts_meanwhile() {
        let span = Interval::new(utc("2026-11-21T00:00:00Z"), utc("2026-11-23T00:00:00Z")).unwrap();
        let mut resting_from_it = volunteer(1);
        resting_from_it.ready = vec![NEONATAL];
        resting_from_it.stepped_back = vec![StepBack {
            topic_id: Some(NEONATAL),
            span,
        }];
        let mut from_everything = volunteer(2);
        from_everything.stepped_back = vec![StepBack {
            topic_id: None,
            span,
        }];
        let mut over = volunteer(3);
        over.stepped_back = vec![StepBack {
            topic_id: None,
            span: Interval::new(utc("2026-11-20T00:00:00Z"), utc("2026-11-22T11:00:00Z")).unwrap(),
        }];
        let people = [resting_from_it, from_everything, over];
        let about_it = route(&people, neonatal(false));
        assert_eq!(order(&about_it), vec![(3, Tier::Trained)]);
        assert_eq!(
            excluded(&about_it),
            vec![(1, Exclusion::SteppedBack), (2, Exclusion::SteppedBack)]
        );
        assert!(!about_it.worth_waiting());
        let anything = route(&people, None);
        assert_eq!(
            order(&anything),
            vec![(1, Tier::AnyTopic), (3, Tier::AnyTopic)]
        );
    }

    #[test]
    fn a_strict_topic_is_offered_only_to_signed_off_volunteers() {
        let plan = route(&[volunteer(1), volunteer(2)], neonatal(true));
        assert!(plan.offers.is_empty());
        assert_eq!(
            excluded(&plan),
            vec![
                (1, Exclusion::NotSignedOffForTopic),
                (2, Exclusion::NotSignedOffForTopic)
            ]
        );
        assert!(!plan.worth_waiting());
    }

    #[test]
    fn within_a_tier_longest_idle_then_fewest_contacts_this_shift() {
        let mut recent = volunteer(1);
        recent.activity.last_contact = ended("2026-11-22T11:30:00Z", 10);
        let mut earlier = volunteer(2);
        earlier.activity.last_contact = ended("2026-11-22T09:00:00Z", 10);
        let never = volunteer(3);
        let mut busier = volunteer(4);
        busier.activity.last_contact = ended("2026-11-22T09:00:00Z", 10);
        busier.activity.recent_contact_starts =
            vec![utc("2026-11-22T08:30:00Z"), utc("2026-11-22T08:50:00Z")];
        let plan = route(&[recent, earlier, never, busier], None);
        let ids: Vec<i32> = plan.offers.iter().map(|o| o.volunteer_id.0).collect();
        assert_eq!(ids, vec![3, 2, 4, 1]);
        assert!(plan.offers.iter().all(|o| o.tier == Tier::AnyTopic));
    }

    #[test]
    fn a_trace_lists_the_few_passed_over_for_a_reason_and_counts_the_many() {
        let mut people: Vec<Volunteer> = (1..=60)
            .map(|id| {
                let mut v = volunteer(id);
                v.rota = day_rota("Australia/Sydney"); // 23:00 in Sydney
                v
            })
            .collect();
        let mut busy = volunteer(61);
        busy.activity.engaged = 1;
        people.extend([busy, volunteer(62)]);
        let trace = route(&people, None).trace(1);
        assert_eq!(
            trace["eligible"],
            json!([{"tier": "any_topic", "volunteer_ids": [62]}])
        );
        assert_eq!(trace["passed_over"], json!({"busy": [61]}));
        assert_eq!(
            trace["passed_over_counts"],
            json!({"busy": 1, "off_shift": 60})
        );
    }

    #[test]
    fn every_passed_over_volunteer_has_its_reason() {
        let mut paused = volunteer(1);
        paused.profile.active = false;
        let mut off_shift = volunteer(2);
        off_shift.rota = day_rota("Australia/Sydney"); // 23:00 in Sydney
        let mut busy = volunteer(3);
        busy.activity.engaged = 1;
        let mut resting = volunteer(4);
        resting.activity.last_contact = ended("2026-11-22T11:50:00Z", 45);
        let mut capped = volunteer(5);
        capped.activity.recent_contact_starts = vec![utc("2026-11-22T08:05:00Z"); 6];
        let mut welsh = volunteer(6);
        welsh.profile.languages = vec!["cy".into()];
        let conflicted = volunteer(7);
        let tried = volunteer(8);
        let mut learner = volunteer(9);
        learner.profile.training_status = TrainingStatus::InTraining;
        let ok = volunteer(10);
        let plan = route_with(
            &[
                paused, off_shift, busy, resting, capped, welsh, conflicted, tried, learner, ok,
            ],
            None,
            &IdSet::from_iter([VolunteerId(7)]),
            &IdSet::from_iter([VolunteerId(8)]),
            None,
        );
        assert_eq!(order(&plan), vec![(10, Tier::AnyTopic)]);
        assert_eq!(
            excluded(&plan),
            vec![
                (1, Exclusion::Paused),
                (2, Exclusion::OffShift),
                (3, Exclusion::Busy),
                (4, Exclusion::Resting),
                (5, Exclusion::ShiftCapReached),
                (6, Exclusion::Language),
                (7, Exclusion::Conflict),
                (8, Exclusion::AlreadyTried),
                (9, Exclusion::InTraining),
            ]
        );
    }

    #[test]
    fn rest_ends_and_earlier_shifts_do_not_count_toward_the_cap() {
        let mut rested = volunteer(1);
        rested.activity.last_contact = ended("2026-11-22T11:40:00Z", 45); // rest ended 11:55
        let mut yesterday = volunteer(2);
        yesterday.activity.recent_contact_starts = vec![utc("2026-11-21T10:00:00Z"); 6];
        let plan = route(&[rested, yesterday], None);
        assert_eq!(plan.offers.len(), 2);
    }

    #[test]
    fn a_contact_that_started_as_the_shift_began_counts_toward_it() {
        // The shift began at 08:00 in London.
        let mut at_the_start = volunteer(1);
        at_the_start.activity.recent_contact_starts = vec![utc("2026-11-22T08:00:00Z")];
        let mut a_second_before = volunteer(2);
        a_second_before.activity.recent_contact_starts = vec![utc("2026-11-22T07:59:59Z")];
        let mut six_at_the_start = volunteer(3);
        six_at_the_start.activity.recent_contact_starts = vec![utc("2026-11-22T08:00:00Z"); 6];
        let plan = route(&[at_the_start, a_second_before, six_at_the_start], None);
        // Neither has had a contact end: the fewer contacts this shift goes first.
        assert_eq!(order(&plan), vec![(2, Tier::AnyTopic), (1, Tier::AnyTopic)]);
        assert_eq!(excluded(&plan), vec![(3, Exclusion::ShiftCapReached)]);
    }

    #[test]
    fn a_flagged_contact_starts_a_rest_period_however_short_it_was() {
        let mut just_flagged = volunteer(1);
        just_flagged.activity.last_contact = ended("2026-11-22T11:45:00Z", 5);
        just_flagged.activity.last_flagged_at = Some(utc("2026-11-22T11:50:00Z"));
        let mut flagged_earlier = volunteer(2);
        flagged_earlier.activity.last_flagged_at = Some(utc("2026-11-22T11:40:00Z"));
        let plan = route(&[just_flagged, flagged_earlier], None);
        assert_eq!(order(&plan), vec![(2, Tier::AnyTopic)]);
        assert_eq!(excluded(&plan), vec![(1, Exclusion::Resting)]);
    }

    #[test]
    fn waiting_helps_only_when_someone_is_busy_or_resting() {
        let mut busy = volunteer(1);
        busy.activity.engaged = 1;
        let mut paused = volunteer(2);
        paused.profile.active = false;
        assert!(route(&[busy, paused], None).worth_waiting());
        let mut paused = volunteer(2);
        paused.profile.active = false;
        assert!(!route(&[paused], None).worth_waiting());
    }

    #[test]
    fn a_caller_never_waits_for_someone_busy_who_could_not_take_the_call_anyway() {
        // Busy with their last contact of the shift: free soon, but at their cap.
        let mut at_cap = volunteer(1);
        at_cap.activity.engaged = 1;
        at_cap.profile.limits.max_contacts_per_shift = 2;
        at_cap.activity.recent_contact_starts =
            vec![utc("2026-11-22T09:00:00Z"), utc("2026-11-22T11:50:00Z")];
        let plan = route(&[at_cap], None);
        assert_eq!(excluded(&plan), vec![(1, Exclusion::ShiftCapReached)]);
        assert!(!plan.worth_waiting());

        // Busy, and not signed off for the strict topic the caller chose.
        let mut unready = volunteer(2);
        unready.activity.engaged = 1;
        let strict = TopicChoice {
            topic_id: NEONATAL,
            strict: true,
        };
        let plan = route(&[unready], Some(strict));
        assert_eq!(excluded(&plan), vec![(2, Exclusion::NotSignedOffForTopic)]);
        assert!(!plan.worth_waiting());
    }

    #[test]
    fn a_returning_caller_reaches_their_last_volunteer_first_but_not_for_ever() {
        let idle = volunteer(1);
        let mut last = volunteer(2);
        last.activity.last_contact = ended("2026-11-22T11:00:00Z", 10);
        let vs = [idle, last];
        let none = IdSet::default();
        let repeat = |consecutive| {
            route_with(
                &vs,
                None,
                &none,
                &none,
                Some(Continuity {
                    volunteer_id: VolunteerId(2),
                    consecutive,
                    max_repeats: 3,
                }),
            )
        };
        let first = repeat(2);
        assert_eq!(first.offers[0].volunteer_id, VolunteerId(2));
        assert!(first.offers[0].continuity);
        assert_eq!(repeat(3).offers[0].volunteer_id, VolunteerId(1));
    }

    #[test]
    fn the_rota_is_read_in_each_volunteers_own_time_zone() {
        // 12:00 UTC: 07:00 in New York (off), 12:00 in London (on), 23:00 in Sydney (off).
        let zones = ["America/New_York", "Europe/London", "Australia/Sydney"];
        let vs: Vec<Volunteer> = zones
            .iter()
            .zip(1..)
            .map(|(zone, id)| Volunteer {
                rota: day_rota(zone),
                profile: profile(zone),
                ..volunteer(id)
            })
            .collect();
        let plan = route(&vs, None);
        assert_eq!(order(&plan), vec![(2, Tier::AnyTopic)]);
    }

    #[test]
    fn the_index_changes_no_plan_across_clock_changes_leave_extra_shifts_readiness_and_activity() {
        let zones = [
            "Europe/London",
            "America/New_York",
            "Australia/Lord_Howe",
            "America/Santiago",
            "America/St_Johns",
            "Asia/Kathmandu",
        ];
        let at = |s: &str| utc(s);
        let vs: Vec<Volunteer> = (0..300u32)
            .map(|i| {
                let zone = zones[i as usize % zones.len()];
                let mut rota = Rota::new(TimeZone::parse(zone).unwrap());
                for k in 0..3 {
                    let channels = [
                        ShiftChannels::Both,
                        ShiftChannels::Voice,
                        ShiftChannels::Sms,
                    ][((i + k) % 3) as usize];
                    let valid_from =
                        (i % 7 == 0).then(|| NaiveDate::from_ymd_opt(2026, 10, 28).unwrap());
                    let valid_until =
                        (i % 11 == 0).then(|| NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
                    let shift = WeeklyShift::new(
                        Weekday::ALL[((i + k * 3) % 7) as usize],
                        LocalTime::hm((i * 7 + k * 5) % 24, (i * 13) % 60).unwrap(),
                        LocalTime::hm((i * 11 + k) % 24, (i * 17 + k) % 60).unwrap(),
                        channels,
                        valid_from,
                        valid_until,
                    );
                    rota.shifts.extend(shift.ok());
                }
                if i % 13 == 0 {
                    rota.leave.push(
                        Interval::new(at("2026-10-27T00:00:00Z"), at("2026-10-30T00:00:00Z"))
                            .unwrap(),
                    );
                }
                if i % 17 == 0 {
                    let start = at("2026-10-25T00:00:00Z") + Duration::hours(i64::from(i % 200));
                    rota.extra_shifts.push((
                        Interval::new(start, start + Duration::hours(5)).unwrap(),
                        ShiftChannels::Both,
                    ));
                }
                let mut profile = profile(zone);
                match i % 10 {
                    0 => profile.training_status = TrainingStatus::InTraining,
                    1 => profile.refresher_due_on = NaiveDate::from_ymd_opt(2026, 10, 30),
                    2 => profile.trained_voice = false,
                    3 => profile.active = false,
                    4 => profile.languages = vec!["cy".into()],
                    5 => profile.languages = vec!["cy".into(), "en".into()],
                    6 if i % 20 == 6 => profile.training_status = TrainingStatus::Lapsed,
                    _ => {}
                }
                profile.limits.max_contacts_per_shift = i32::try_from(i % 4 + 1).unwrap();
                profile.limits.max_text_conversations = i32::try_from(i % 3 + 1).unwrap();
                profile.limits.long_contact_minutes = i32::try_from(5 + i % 40).unwrap();
                profile.limits.rest_minutes_after_long = i32::try_from(i % 5 * 60).unwrap();
                // Contacts every 5 hours or so over the three weeks, a few of them each.
                let contact_at = |k: u32| {
                    at("2026-10-20T00:00:00Z")
                        + Duration::minutes(i64::from((i * 307 + k * 97) % 30_240))
                };
                let starts: Vec<DateTime<Utc>> = (0..i % 5).map(contact_at).collect();
                let stepped_back = (i % 9 == 0)
                    .then(|| StepBack {
                        topic_id: (i % 2 == 0).then_some(NEONATAL),
                        span: Interval::new(contact_at(1), contact_at(1) + Duration::days(3))
                            .unwrap(),
                    })
                    .into_iter()
                    .collect();
                Volunteer {
                    id: VolunteerId(i32::try_from(i).unwrap() + 1),
                    profile,
                    rota,
                    ready: if i % 2 == 0 {
                        vec![NEONATAL]
                    } else {
                        Vec::new()
                    },
                    stepped_back,
                    activity: Activity {
                        engaged: i % 8 / 3,
                        last_contact: starts.iter().max().map(|start| PastContact {
                            ended_at: *start + Duration::minutes(i64::from(i % 60)),
                            duration: Duration::minutes(i64::from(i % 60)),
                        }),
                        recent_contact_starts: starts,
                        last_flagged_at: (i % 7 == 0).then(|| contact_at(2)),
                    },
                }
            })
            .collect();
        let candidates = candidates(&vs);
        let index = index_of(&vs);
        let (conflicted, tried) = (
            IdSet::from_iter([5, 50].map(VolunteerId)),
            IdSet::from_iter([6, 60].map(VolunteerId)),
        );
        // Three weeks over London's, New York's, Santiago's and Lord Howe's clock changes.
        let (mut now, mut on_shift_somewhere, mut round) = (at("2026-10-20T00:00:00Z"), 0, 0);
        let mut reasons = HashSet::new();
        while now < at("2026-11-10T00:00:00Z") {
            for channel in [Channel::Voice, Channel::Sms] {
                round += 1;
                let request = RoutingRequest {
                    at: now,
                    channel,
                    topic: [neonatal(false), neonatal(true), None][round % 3],
                    language: [Some("en"), Some("cy"), None][round % 5 % 3],
                    continuity: None,
                    conflicted: &conflicted,
                    already_tried: &tried,
                };
                let decided = plan(&request, &candidates);
                let through_the_index = plan_indexed(&request, &index, candidates.as_slice());
                assert_eq!(through_the_index, decided, "at {now}");
                on_shift_somewhere += decided.offers.len();
                reasons.extend(decided.passed_over().map(|(_, why)| why));
            }
            now += Duration::minutes(13);
        }
        assert!(
            on_shift_somewhere > 5_000,
            "{on_shift_somewhere} offers in three weeks"
        );
        // Every reason to pass someone over came up.
        assert_eq!(reasons.len(), 14, "{reasons:?}");
    }
}
