//! Charts drawn on the server as inline SVG: no script, readable without colour (every
//! chart has its figures in text beside it).

use maud::{Markup, html};

use crate::domain::rota::Interval;

/// The parts of `day` that `stretches` cover, as fractions of it from 0 to 1.
pub fn fractions(day: Interval, stretches: &[Interval]) -> Vec<(f64, f64)> {
    let length = day.duration().num_seconds() as f64;
    stretches
        .iter()
        .filter(|s| s.start < day.end && day.start < s.end)
        .map(|s| {
            let from = s.start.max(day.start) - day.start;
            let to = s.end.min(day.end) - day.start;
            (
                from.num_seconds() as f64 / length,
                to.num_seconds() as f64 / length,
            )
        })
        .collect()
}

const LABEL_WIDTH: f64 = 110.0;
const BAR_WIDTH: f64 = 480.0;
const ROW_HEIGHT: f64 = 18.0;

/// One row per day, midnight to midnight, with `gaps` drawn as red bands.
pub fn gap_bands(title: &str, days: &[(String, Interval)], gaps: &[Interval]) -> Markup {
    let height = ROW_HEIGHT * (days.len() as f64 + 1.0);
    let width = LABEL_WIDTH + BAR_WIDTH + 30.0;
    html! {
        svg class="bands" viewBox={ "0 0 " (width) " " (height) } role="img" aria-label=(title) {
            @for (hour, x) in [0, 6, 12, 18, 24].map(|h| (h, LABEL_WIDTH + BAR_WIDTH * f64::from(h) / 24.0)) {
                text x=(x) y="12" font-size="11" text-anchor="middle" fill="#4a5360" { (format!("{hour:02}:00")) }
            }
            @for (row, (label, day)) in days.iter().enumerate() {
                @let y = ROW_HEIGHT * (row as f64 + 1.0);
                text x="0" y=(y + 13.0) font-size="12" fill="#1b1f24" { (label) }
                rect x=(LABEL_WIDTH) y=(y + 3.0) width=(BAR_WIDTH) height=(ROW_HEIGHT - 6.0) fill="#dfe6ee" {}
                @for (from, to) in fractions(*day, gaps) {
                    rect class="gap" x=(LABEL_WIDTH + BAR_WIDTH * from) y=(y + 3.0)
                        width=(BAR_WIDTH * (to - from)) height=(ROW_HEIGHT - 6.0) fill="#b3261e" {}
                }
            }
        }
    }
}

/// One bar of a bar chart: its label, its total and the part of it answered.
pub struct Bar {
    pub label: String,
    pub total: i64,
    pub answered: i64,
}

const CHART_HEIGHT: f64 = 140.0;

/// Bars of contacts, the answered part darker; the tallest bar fills the chart.
pub fn bar_chart(title: &str, bars: &[Bar]) -> Markup {
    let tallest = bars.iter().map(|b| b.total).max().unwrap_or(0).max(1) as f64;
    let step = 24.0;
    let width = step * bars.len() as f64 + 10.0;
    let scale = |n: i64| CHART_HEIGHT * n as f64 / tallest;
    html! {
        svg class="bars" viewBox={ "0 0 " (width) " " (CHART_HEIGHT + 34.0) } role="img" aria-label=(title) {
            @for (i, bar) in bars.iter().enumerate() {
                @let x = 5.0 + step * i as f64;
                rect x=(x + 2.0) y=(10.0 + CHART_HEIGHT - scale(bar.total)) width=(step - 4.0) height=(scale(bar.total)) fill="#9fb8d6" {
                    title { (bar.label) ": " (bar.total) " contacts, " (bar.answered) " answered" }
                }
                rect class="answered" x=(x + 2.0) y=(10.0 + CHART_HEIGHT - scale(bar.answered)) width=(step - 4.0) height=(scale(bar.answered)) fill="#0b5cad" {}
                text x=(x + step / 2.0) y=(CHART_HEIGHT + 26.0) font-size="10" text-anchor="middle" fill="#1b1f24" { (bar.label) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_gap_is_cut_to_the_day_it_falls_in() {
        let day = Interval::new(at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z")).unwrap();
        let gaps = [
            Interval::new(at("2026-11-30T22:00:00Z"), at("2026-12-01T06:00:00Z")).unwrap(),
            Interval::new(at("2026-12-01T18:00:00Z"), at("2026-12-03T00:00:00Z")).unwrap(),
            Interval::new(at("2026-12-05T00:00:00Z"), at("2026-12-06T00:00:00Z")).unwrap(),
        ];
        assert_eq!(fractions(day, &gaps), vec![(0.0, 0.25), (0.75, 1.0)]);
        let svg = gap_bands("Gaps", &[("Tue 1".into(), day)], &gaps).into_string();
        assert_eq!(svg.matches("class=\"gap\"").count(), 2);
    }

    #[test]
    fn the_tallest_bar_fills_the_chart_and_the_others_are_to_scale() {
        let bars = [
            Bar {
                label: "Mon".into(),
                total: 10,
                answered: 5,
            },
            Bar {
                label: "Tue".into(),
                total: 5,
                answered: 0,
            },
        ];
        let svg = bar_chart("Contacts by weekday", &bars).into_string();
        assert!(svg.contains("height=\"140\""), "{svg}");
        assert!(svg.contains("height=\"70\""), "{svg}");
        assert!(svg.contains("Mon: 10 contacts, 5 answered"), "{svg}");
    }
}
