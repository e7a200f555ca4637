//! Plays Twilio's part against a running peerline: signs each webhook with the auth
//! token, follows the TwiML (menus, dials, whispers, dial actions, recordings, status
//! callbacks) and writes down what the caller hears and who rings, step by step. Used by
//! `peerline simulate call` and by the end-to-end tests.

pub mod text;
pub mod twiml_reader;

use std::collections::VecDeque;

use anyhow::{Context, bail};
use rand::Rng;

use crate::telephony::signature;
use twiml_reader::Element;

/// Twilio's side of the webhooks: signs and sends them.
#[derive(Clone)]
pub struct TwilioPeer {
    http: reqwest::Client,
    public_url: String,
    auth_token: String,
}

impl TwilioPeer {
    pub fn new(public_url: &str, auth_token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            auth_token: auth_token.to_owned(),
        }
    }

    /// The absolute URL of a peerline path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// POSTs a signed form to `url`; returns the status and body.
    pub async fn post(
        &self,
        url: &str,
        params: &[(String, String)],
    ) -> anyhow::Result<(u16, String)> {
        let sig = signature::compute(self.auth_token.as_bytes(), url, params);
        let response = self
            .http
            .post(url)
            .header("X-Twilio-Signature", sig)
            .form(params)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }
}

/// Who picks up when volunteers ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The first number of the first `<Dial>` picks up and presses 1.
    First,
    /// Nobody picks up.
    Nobody,
    /// Only this number picks up (and presses 1) whenever it rings.
    Number(String),
}

impl std::str::FromStr for Answer {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "first" => Ok(Answer::First),
            "none" => Ok(Answer::Nobody),
            number if number.starts_with('+') => Ok(Answer::Number(number.to_owned())),
            other => Err(format!(
                "expected first, none or a +E.164 number, got {other}"
            )),
        }
    }
}

/// A call to play.
#[derive(Debug, Clone)]
pub struct CallScript {
    pub to: String,
    pub from: String,
    /// Keys pressed at each menu in turn; a menu with none left gets no input.
    pub digits: Vec<String>,
    pub answer: Answer,
    /// Seconds a connected call lasts.
    pub talk_secs: u32,
}

/// What happened, as the caller and the volunteers lived it.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    pub call_sid: String,
    pub lines: Vec<String>,
    /// The numbers each `<Dial>` rang, in order.
    pub rung: Vec<Vec<String>>,
    /// The number the caller was put through to.
    pub connected_to: Option<String>,
    pub left_voicemail: bool,
    pub rejected: bool,
}

fn new_sid(prefix: &str) -> String {
    let mut rng = rand::rng();
    let hex: String = (0..32)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect();
    format!("{prefix}{hex}")
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Plays one inbound call from start to end.
pub async fn play_call(peer: &TwilioPeer, script: &CallScript) -> anyhow::Result<Transcript> {
    let call_sid = new_sid("CA");
    let mut transcript = Transcript {
        call_sid: call_sid.clone(),
        ..Default::default()
    };
    let base = pairs(&[
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", &call_sid),
        ("From", &script.from),
        ("Caller", &script.from),
        ("To", &script.to),
        ("Called", &script.to),
        ("Direction", "inbound"),
    ]);
    let with = |extra: &[(&str, &str)]| {
        let mut params = base.clone();
        params.extend(pairs(extra));
        params
    };
    let mut digits: VecDeque<String> = script.digits.iter().cloned().collect();
    let mut answered_once = false;
    let mut document = fetch(
        peer,
        &peer.url("/twilio/voice"),
        &with(&[("CallStatus", "ringing")]),
    )
    .await?;
    let mut steps = 0;
    'call: loop {
        steps += 1;
        if steps > 60 {
            bail!("the call did not end after 60 documents");
        }
        let mut next = None;
        for verb in &document.children {
            match verb.name.as_str() {
                "Say" => transcript
                    .lines
                    .push(format!("caller hears: {}", verb.text)),
                "Pause" => transcript.lines.push(format!(
                    "caller hears silence for {}s",
                    verb.attr("length").unwrap_or("1")
                )),
                "Gather" => {
                    for prompt in &verb.children {
                        if prompt.name == "Say" {
                            transcript
                                .lines
                                .push(format!("caller hears: {}", prompt.text));
                        }
                    }
                    let pressed = digits.pop_front().unwrap_or_default();
                    transcript.lines.push(if pressed.is_empty() {
                        "caller presses nothing".to_owned()
                    } else {
                        format!("caller presses {pressed}")
                    });
                    let action = verb.attr("action").context("Gather without action")?;
                    next = Some(
                        fetch(
                            peer,
                            action,
                            &with(&[("CallStatus", "in-progress"), ("Digits", &pressed)]),
                        )
                        .await?,
                    );
                    break;
                }
                "Dial" => {
                    let outcome = play_dial(
                        peer,
                        script,
                        &call_sid,
                        verb,
                        &mut transcript,
                        &mut answered_once,
                    )
                    .await?;
                    let Some(action) = verb.attr("action") else {
                        continue;
                    };
                    let duration = outcome.talk_secs.to_string();
                    let params = with(&[
                        ("CallStatus", "in-progress"),
                        ("DialCallStatus", outcome.status),
                        ("DialCallSid", &outcome.leg_sid),
                        ("DialCallDuration", &duration),
                        (
                            "DialBridged",
                            if outcome.bridged { "true" } else { "false" },
                        ),
                    ]);
                    next = Some(fetch(peer, action, &params).await?);
                    break;
                }
                "Record" => {
                    transcript.lines.push("caller leaves a message".to_owned());
                    transcript.left_voicemail = true;
                    let recording_sid = new_sid("RE");
                    let recording_url = format!(
                        "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/{recording_sid}"
                    );
                    let params = with(&[
                        ("CallStatus", "in-progress"),
                        ("RecordingSid", &recording_sid),
                        ("RecordingUrl", &recording_url),
                        ("RecordingDuration", "12"),
                    ]);
                    if let Some(callback) = verb.attr("recordingStatusCallback") {
                        let mut status = params.clone();
                        status.push(("RecordingStatus".into(), "completed".into()));
                        fetch_ok(peer, callback, &status).await?;
                    }
                    let action = verb.attr("action").context("Record without action")?;
                    next = Some(fetch(peer, action, &params).await?);
                    break;
                }
                "Redirect" => {
                    next = Some(
                        fetch(
                            peer,
                            verb.text.trim(),
                            &with(&[("CallStatus", "in-progress")]),
                        )
                        .await?,
                    );
                    break;
                }
                "Reject" => {
                    transcript.rejected = true;
                    transcript.lines.push("call rejected".to_owned());
                    break 'call;
                }
                "Hangup" => break 'call,
                other => transcript.lines.push(format!("(ignored <{other}>)")),
            }
        }
        match next {
            Some(doc) => document = doc,
            None => break,
        }
    }
    transcript.lines.push("call ends".to_owned());
    if !transcript.rejected {
        let duration = script.talk_secs.to_string();
        // As with Twilio, a refused status callback is logged and changes nothing for
        // the caller.
        let (status, _) = peer
            .post(
                &peer.url("/twilio/voice/status"),
                &with(&[("CallStatus", "completed"), ("CallDuration", &duration)]),
            )
            .await?;
        if status != 200 {
            transcript
                .lines
                .push(format!("the final status callback was answered {status}"));
        }
    }
    Ok(transcript)
}

struct DialOutcome {
    status: &'static str,
    bridged: bool,
    leg_sid: String,
    talk_secs: u32,
}

/// Rings a `<Dial>`'s numbers: the chosen one (if any) picks up, hears the whisper and
/// presses 1; the others ring out.
async fn play_dial(
    peer: &TwilioPeer,
    script: &CallScript,
    parent_sid: &str,
    dial: &Element,
    transcript: &mut Transcript,
    answered_once: &mut bool,
) -> anyhow::Result<DialOutcome> {
    let mut numbers = Vec::new();
    dial.find_all("Number", &mut numbers);
    let rung: Vec<String> = numbers.iter().map(|n| n.text.trim().to_owned()).collect();
    transcript.lines.push(format!("rings: {}", rung.join(", ")));
    transcript.rung.push(rung.clone());
    let caller_id = dial.attr("callerId").unwrap_or_default().to_owned();
    let already_answered = *answered_once;
    let picks_up = |number: &str, first: bool| match &script.answer {
        Answer::First => first && !already_answered,
        Answer::Nobody => false,
        Answer::Number(n) => n == number,
    };
    let mut outcome = DialOutcome {
        status: "no-answer",
        bridged: false,
        leg_sid: String::new(),
        talk_secs: 0,
    };
    for (index, number) in numbers.iter().enumerate() {
        let phone = number.text.trim().to_owned();
        let leg_sid = new_sid("CA");
        let leg = |status: &str, duration: &str| {
            pairs(&[
                ("AccountSid", "AC00000000000000000000000000000000"),
                ("CallSid", &leg_sid),
                ("ParentCallSid", parent_sid),
                ("From", &caller_id),
                ("To", &phone),
                ("Direction", "outbound-dial"),
                ("CallStatus", status),
                ("CallDuration", duration),
            ])
        };
        let answers = !outcome.bridged && picks_up(&phone, index == 0);
        let mut bridged = false;
        if answers {
            transcript.lines.push(format!("{phone} picks up"));
            bridged = match number.attr("url") {
                Some(whisper) => {
                    accept_whisper(peer, whisper, &leg("in-progress", "0"), &phone, transcript)
                        .await?
                }
                None => true,
            };
        }
        let (status, duration) = if bridged {
            *answered_once = true;
            transcript
                .lines
                .push(format!("caller is connected to {phone}"));
            transcript.connected_to = Some(phone.clone());
            outcome = DialOutcome {
                status: "completed",
                bridged: true,
                leg_sid: leg_sid.clone(),
                talk_secs: script.talk_secs,
            };
            ("completed", script.talk_secs.to_string())
        } else if answers {
            ("completed", "5".to_owned())
        } else {
            ("no-answer", "0".to_owned())
        };
        if let Some(callback) = number.attr("statusCallback") {
            fetch_ok(peer, callback, &leg(status, &duration)).await?;
        }
    }
    if !outcome.bridged {
        transcript.lines.push("nobody takes the call".to_owned());
    }
    Ok(outcome)
}

/// Plays the whisper on the answering leg and presses 1; true when the call was bridged.
async fn accept_whisper(
    peer: &TwilioPeer,
    url: &str,
    leg: &[(String, String)],
    phone: &str,
    transcript: &mut Transcript,
) -> anyhow::Result<bool> {
    let whisper = fetch(peer, url, leg).await?;
    let mut gathers = Vec::new();
    whisper.find_all("Gather", &mut gathers);
    let Some(gather) = gathers.first() else {
        transcript.lines.push(format!("{phone} is hung up on"));
        return Ok(false);
    };
    if let Some(say) = gather.children.iter().find(|c| c.name == "Say") {
        transcript
            .lines
            .push(format!("{phone} hears: {}", say.text));
    }
    transcript.lines.push(format!("{phone} presses 1"));
    let mut params = leg.to_vec();
    params.push(("Digits".into(), "1".into()));
    let action = gather
        .attr("action")
        .context("whisper Gather without action")?;
    let reply = fetch(peer, action, &params).await?;
    Ok(!reply.children.iter().any(|v| v.name == "Hangup"))
}

async fn fetch(
    peer: &TwilioPeer,
    url: &str,
    params: &[(String, String)],
) -> anyhow::Result<Element> {
    let (status, body) = peer.post(url, params).await?;
    if status != 200 {
        bail!("{url} answered {status}: {body}");
    }
    twiml_reader::parse(&body).with_context(|| format!("{url} answered with invalid TwiML: {body}"))
}

async fn fetch_ok(peer: &TwilioPeer, url: &str, params: &[(String, String)]) -> anyhow::Result<()> {
    let (status, body) = peer.post(url, params).await?;
    if status != 200 {
        bail!("{url} answered {status}: {body}");
    }
    Ok(())
}
