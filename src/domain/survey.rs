//! Asking callers afterwards whether peer support worked for them: the questions a
//! helpline asks, the keypad answers, and the figures. Pure.

use serde::{Deserialize, Serialize};

use super::callback::CallerSettings;
use super::ids::TopicId;

/// The question every survey asks first.
pub const UNDERSTOOD: &str =
    "Did you feel understood by someone who had been through something similar?";

/// A keypad answer.
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
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SurveyAnswer {
    #[sea_orm(string_value = "yes")]
    Yes,
    #[sea_orm(string_value = "somewhat")]
    Somewhat,
    #[sea_orm(string_value = "no")]
    No,
}

impl SurveyAnswer {
    /// 1 yes, 2 somewhat, 3 no; anything else is no answer.
    pub fn from_digits(digits: &str) -> Option<Self> {
        match digits.trim() {
            "1" => Some(Self::Yes),
            "2" => Some(Self::Somewhat),
            "3" => Some(Self::No),
            _ => None,
        }
    }
}

/// The questions a helpline asks, in order: the peer-support question first.
pub fn questions(settings: &CallerSettings) -> Vec<String> {
    std::iter::once(UNDERSTOOD.to_owned())
        .chain(settings.survey_questions.iter().cloned())
        .collect()
}

/// A question texted after a conversation; the first says who is asking and that an
/// answer is optional.
pub fn sms_question(helpline: &str, question: &str, first: bool) -> String {
    let keys = "Reply 1 for yes, 2 for somewhat, 3 for no.";
    if first {
        format!(
            "{helpline}: thank you for texting. One question, if you would like to answer: {question} {keys}"
        )
    } else {
        format!("{question} {keys}")
    }
}

pub const SMS_THANKS: &str = "Thank you for telling us.";

/// Question `number` (1 is the peer-support question), if the helpline asks it.
pub fn question(settings: &CallerSettings, number: i32) -> Option<String> {
    let index = usize::try_from(number.checked_sub(1)?).ok()?;
    questions(settings).into_iter().nth(index)
}

/// How callers answered one question, in a group (a topic, a peer-match tier).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AnswerCounts {
    /// The group: a topic id, a tier, or `all`.
    pub key: String,
    pub yes: i64,
    pub somewhat: i64,
    pub no: i64,
    /// yes / all answers.
    pub yes_rate: Option<f64>,
}

impl AnswerCounts {
    fn add(&mut self, answer: SurveyAnswer) {
        match answer {
            SurveyAnswer::Yes => self.yes += 1,
            SurveyAnswer::Somewhat => self.somewhat += 1,
            SurveyAnswer::No => self.no += 1,
        }
        let all = self.yes + self.somewhat + self.no;
        self.yes_rate = Some(self.yes as f64 / all as f64);
    }
}

/// One answer to the peer-support question, with what it is grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderstoodAnswer {
    pub answer: SurveyAnswer,
    pub topic_id: Option<TopicId>,
    /// The peer-match tier of the volunteer who answered the call.
    pub tier: Option<String>,
}

/// Answers to "did you feel understood", overall, by topic and by peer-match tier: does
/// matching on shared experience make callers feel understood?
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SurveyFigures {
    pub question: String,
    pub all: AnswerCounts,
    pub by_topic: Vec<AnswerCounts>,
    pub by_tier: Vec<AnswerCounts>,
}

pub fn understood_figures(answers: &[UnderstoodAnswer]) -> SurveyFigures {
    use std::collections::BTreeMap;
    let mut all = AnswerCounts {
        key: "all".into(),
        ..Default::default()
    };
    let mut by_topic: BTreeMap<String, AnswerCounts> = BTreeMap::new();
    let mut by_tier: BTreeMap<String, AnswerCounts> = BTreeMap::new();
    let group = |map: &mut BTreeMap<String, AnswerCounts>, key: String, answer| {
        map.entry(key.clone())
            .or_insert_with(|| AnswerCounts {
                key,
                ..Default::default()
            })
            .add(answer);
    };
    for a in answers {
        all.add(a.answer);
        let topic = a
            .topic_id
            .map_or_else(|| "none".to_owned(), |t| t.to_string());
        group(&mut by_topic, topic, a.answer);
        let tier = a.tier.clone().unwrap_or_else(|| "none".to_owned());
        group(&mut by_tier, tier, a.answer);
    }
    SurveyFigures {
        question: UNDERSTOOD.to_owned(),
        all,
        by_topic: by_topic.into_values().collect(),
        by_tier: by_tier.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypad_answers_are_one_two_three() {
        assert_eq!(SurveyAnswer::from_digits("1"), Some(SurveyAnswer::Yes));
        assert_eq!(
            SurveyAnswer::from_digits(" 2"),
            Some(SurveyAnswer::Somewhat)
        );
        assert_eq!(SurveyAnswer::from_digits("3"), Some(SurveyAnswer::No));
        assert_eq!(SurveyAnswer::from_digits(""), None);
        assert_eq!(SurveyAnswer::from_digits("9"), None);
    }

    #[test]
    fn the_peer_support_question_comes_first() {
        let settings = CallerSettings {
            survey_questions: vec!["Would you call us again?".into()],
            ..Default::default()
        };
        assert_eq!(
            questions(&settings),
            [UNDERSTOOD, "Would you call us again?"]
        );
        assert_eq!(question(&settings, 1).as_deref(), Some(UNDERSTOOD));
        assert_eq!(question(&settings, 3), None);
        assert_eq!(question(&settings, 0), None);
    }

    #[test]
    fn figures_group_by_topic_and_tier() {
        let answer = |answer, topic_id, tier: &str| UnderstoodAnswer {
            answer,
            topic_id,
            tier: Some(tier.to_owned()),
        };
        let figures = understood_figures(&[
            answer(SurveyAnswer::Yes, Some(TopicId(1)), "peer_match"),
            answer(SurveyAnswer::Yes, Some(TopicId(1)), "peer_match"),
            answer(SurveyAnswer::No, Some(TopicId(1)), "trained"),
            answer(SurveyAnswer::Somewhat, None, "trained"),
        ]);
        assert_eq!(
            (figures.all.yes, figures.all.somewhat, figures.all.no),
            (2, 1, 1)
        );
        assert_eq!(figures.all.yes_rate, Some(0.5));
        let topic_1 = &figures.by_topic[0];
        assert_eq!((topic_1.key.as_str(), topic_1.yes, topic_1.no), ("1", 2, 1));
        let matched = figures
            .by_tier
            .iter()
            .find(|t| t.key == "peer_match")
            .unwrap();
        assert_eq!(matched.yes_rate, Some(1.0));
        let trained = figures.by_tier.iter().find(|t| t.key == "trained").unwrap();
        assert_eq!(trained.yes_rate, Some(0.0));
    }
}
