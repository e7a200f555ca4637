//! A helpline's figures for a chosen period: answer and peer-match rates, waits and talk
//! time, and contacts by hour and weekday drawn as bar charts, with the contacts report
//! as CSV. Viewing and downloading are audited as the API's reports are.

use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;

use super::charts::{Bar, bar_chart};
use super::layout;
use super::session::{ConsoleError, Viewer};
use crate::domain::ids::HelplineId;
use crate::domain::report_period::Period;
use crate::domain::reports::{Count, Spread};
use crate::routes::api::managed_helpline;
use crate::routes::api::reports::{Format, audit_export, contacts_view, export};
use crate::state::AppState;
use crate::storage::helplines;

/// The period shown unless another is asked for: the last four weeks.
const DEFAULT_DAYS: i64 = 28;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/helplines/{id}/reports", web::get().to(page))
        .route(
            "/console/helplines/{id}/reports/contacts.csv",
            web::get().to(contacts_csv),
        );
}

#[derive(Deserialize)]
struct PeriodQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// The helpline (which the viewer must supervise) and the period asked for.
async fn period_of(
    state: &AppState,
    viewer: &Viewer,
    id: HelplineId,
    query: &PeriodQuery,
) -> Result<(String, Period), ConsoleError> {
    let helpline = managed_helpline(state, &viewer.who, id).await?;
    let settings = helplines::settings_of(&helpline)?;
    let today = state
        .clock
        .now()
        .with_timezone(&settings.time_zone.tz())
        .date_naive();
    let to = query.to.unwrap_or(today);
    let from = query.from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    Ok((settings.name, Period::new(settings.time_zone, from, to)?))
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

fn minutes(spread: Spread) -> String {
    let as_minutes =
        |s: Option<i64>| s.map_or("–".to_owned(), |s| format!("{:.1} min", s as f64 / 60.0));
    format!(
        "median {}, 90th percentile {}",
        as_minutes(spread.median),
        as_minutes(spread.p90)
    )
}

fn bars(counts: &[Count], label: impl Fn(&str) -> String) -> Vec<Bar> {
    counts
        .iter()
        .map(|c| Bar {
            label: label(&c.key),
            total: c.contacts,
            answered: c.answered,
        })
        .collect()
}

/// A table with the chart's figures, for anyone who cannot see the chart.
fn figures_table(caption: &str, bars: &[Bar]) -> Markup {
    html! {
        details {
            summary { (caption) " as a table" }
            table class="people" {
                thead { tr { th scope="col" { "" } th scope="col" { "Contacts" } th scope="col" { "Answered" } } }
                tbody { @for b in bars { tr { th scope="row" { (b.label) } td { (b.total) } td { (b.answered) } } } }
            }
        }
    }
}

async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (name, period) = period_of(&state, &viewer, *id, &query).await?;
    let view = contacts_view(&state, *id, &period).await?;
    audit_export(&state, &viewer.who, *id, "contacts", &period, "console").await?;
    let r = &view.report;
    let by_hour = bars(&r.by_hour, |k| format!("{k:0>2}"));
    // "monday" as "Mon".
    let by_weekday = bars(&r.by_weekday, |k| {
        let mut letters = k.chars();
        letters
            .next()
            .map(|first| {
                first.to_ascii_uppercase().to_string() + &letters.take(2).collect::<String>()
            })
            .unwrap_or_default()
    });
    let csv = format!(
        "/console/helplines/{}/reports/contacts.csv?from={}&to={}",
        id, period.from, period.to
    );
    let body = html! {
        form method="get" class="panel" {
            label for="from" { "From" }
            input id="from" name="from" type="date" value=(period.from);
            label for="to" { "To (inclusive)" }
            input id="to" name="to" type="date" value=(period.to);
            button type="submit" { "Show" }
        }
        p { "Days on the helpline's clock (" (period.zone.name()) ")." }
        dl class="facts" id="figures" {
            dt { "Contacts" } dd { (r.total) }
            dt { "Answered" } dd { (r.answered) }
            dt { "Missed" } dd { (r.missed) " (of them " (r.voicemails) " voicemails, " (r.abandoned) " abandoned)" }
            dt { "Answer rate" } dd { (percent(r.answer_rate)) }
            dt { "Peer-match rate" } dd { (percent(r.peer_match_rate)) " of contacts that chose a topic" }
            dt { "Among those answered" } dd { (percent(r.answered_peer_match_rate)) }
            dt { "Wait" } dd { (minutes(r.wait_secs)) }
            dt { "Talk" } dd { (minutes(r.talk_secs)) }
        }
        h2 { "Contacts by hour of arrival" }
        p class="hint" { "Pale: all contacts; dark: answered." }
        (bar_chart("Contacts by hour of arrival", &by_hour))
        (figures_table("Contacts by hour", &by_hour))
        h2 { "Contacts by weekday" }
        (bar_chart("Contacts by weekday", &by_weekday))
        (figures_table("Contacts by weekday", &by_weekday))
        p { a href=(csv) download { "Download the contacts report (CSV)" } }
    };
    Ok(layout::page(
        &format!("Reports · {name}"),
        Some(&viewer),
        body,
    ))
}

async fn contacts_csv(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<HelplineId>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (_, period) = period_of(&state, &viewer, *id, &query).await?;
    let view = contacts_view(&state, *id, &period).await?;
    Ok(export(
        &state,
        &viewer.who,
        *id,
        "contacts",
        (period, Format::Csv),
        view,
        |v| v.report.to_csv(),
    )
    .await?)
}
