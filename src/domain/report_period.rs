//! A report's period: whole local days in the helpline's time zone, as UTC bounds, with
//! the stretches of constant UTC offset the database needs to turn instants into local
//! hours, weekdays and weeks, DST changes included.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone as _, Utc};

use super::timezone::TimeZone;
use super::validate::FieldError;

/// The longest period a report covers.
pub const MAX_REPORT_DAYS: i64 = 366;

/// Local days `from..=to` of a helpline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub zone: TimeZone,
    pub from: NaiveDate,
    /// The last day, inclusive.
    pub to: NaiveDate,
}

/// A stretch of the period during which the zone's UTC offset does not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetStretch {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds east of UTC.
    pub offset_secs: i64,
}

impl Period {
    pub fn new(zone: TimeZone, from: NaiveDate, to: NaiveDate) -> Result<Self, FieldError> {
        if to < from {
            return Err(FieldError::new("to", "must not be before 'from'"));
        }
        if (to - from).num_days() >= MAX_REPORT_DAYS {
            return Err(FieldError::new(
                "to",
                format!("a report covers at most {MAX_REPORT_DAYS} days"),
            ));
        }
        Ok(Self { zone, from, to })
    }

    /// The instant the first day begins.
    pub fn start(&self) -> DateTime<Utc> {
        self.zone.start_of_day(self.from)
    }

    /// The instant after the last day ends.
    pub fn end(&self) -> DateTime<Utc> {
        let next = self.to.succ_opt().unwrap_or(self.to);
        self.zone.start_of_day(next)
    }

    /// One local day.
    pub fn day(zone: TimeZone, day: NaiveDate) -> Self {
        Self {
            zone,
            from: day,
            to: day,
        }
    }

    /// Each local day of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.from.iter_days().take_while({
            let to = self.to;
            move |day| *day <= to
        })
    }

    /// The stretches of consecutive days of the period that are not in `kept`, in order.
    pub fn runs_without(&self, kept: &BTreeSet<NaiveDate>) -> Vec<Period> {
        let mut runs: Vec<Period> = Vec::new();
        for day in self.days().filter(|day| !kept.contains(day)) {
            match runs.last_mut() {
                Some(run) if run.to.succ_opt() == Some(day) => run.to = day,
                _ => runs.push(Self::day(self.zone, day)),
            }
        }
        runs
    }

    /// The period split where the zone's offset changes. Offsets are checked every
    /// quarter hour, the finest step any zone's clock changes by.
    pub fn offset_stretches(&self) -> Vec<OffsetStretch> {
        let tz = self.zone.tz();
        let offset_at = |at: DateTime<Utc>| {
            i64::from(
                tz.offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        };
        let (start, end) = (self.start(), self.end());
        let step = Duration::minutes(15);
        let mut stretches = Vec::new();
        let mut current = OffsetStretch {
            start,
            end,
            offset_secs: offset_at(start),
        };
        let mut at = start + step;
        while at < end {
            let offset = offset_at(at);
            if offset != current.offset_secs {
                current.end = at;
                stretches.push(current);
                current = OffsetStretch {
                    start: at,
                    end,
                    offset_secs: offset,
                };
            }
            at += step;
        }
        stretches.push(current);
        stretches
    }
}

/// The Monday that starts a week number counted by `local_week_index`.
pub fn week_start(index: i64) -> Option<NaiveDate> {
    // Week 0 starts on Monday 1969-12-29, the Monday before the Unix epoch.
    NaiveDate::from_ymd_opt(1969, 12, 29)?.checked_add_signed(Duration::weeks(index))
}

/// Local weekday names, Monday first, as the weekday numbers the queries return.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The value at percentile `p` (0 to 100, nearest rank) of a distribution given as
/// `(value, count)` pairs in ascending value order.
pub fn percentile(histogram: &[(i64, i64)], p: f64) -> Option<i64> {
    let total: i64 = histogram.iter().map(|(_, n)| *n).sum();
    if total <= 0 {
        return None;
    }
    let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (value, count) in histogram {
        seen += count;
        if seen >= rank {
            return Some(*value);
        }
    }
    histogram.last().map(|(v, _)| *v)
}

/// `part / whole`, rounded to four places; none when `whole` is zero.
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london(from: &str, to: &str) -> Period {
        Period::new(
            TimeZone::parse("Europe/London").unwrap(),
            from.parse().unwrap(),
            to.parse().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn the_days_not_kept_are_counted_in_runs_of_consecutive_days() {
        let march = london("2026-03-27", "2026-04-02");
        let kept: BTreeSet<NaiveDate> = ["2026-03-29", "2026-03-30", "2026-04-01"]
            .iter()
            .map(|d| d.parse().unwrap())
            .collect();
        let runs: Vec<(String, String)> = march
            .runs_without(&kept)
            .iter()
            .map(|p| (p.from.to_string(), p.to.to_string()))
            .collect();
        let run = |from: &str, to: &str| (from.to_owned(), to.to_owned());
        assert_eq!(
            runs,
            vec![
                run("2026-03-27", "2026-03-28"),
                run("2026-03-31", "2026-03-31"),
                run("2026-04-02", "2026-04-02")
            ]
        );
        assert_eq!(march.days().count(), 7);
        assert!(march.runs_without(&march.days().collect()).is_empty());
        assert_eq!(march.runs_without(&BTreeSet::new()), vec![march]);
    }

    #[test]
    fn a_period_splits_where_the_clocks_change() {
        let march = london("2026-03-28", "2026-03-30");
        assert_eq!(march.start().to_rfc3339(), "2026-03-28T00:00:00+00:00");
        assert_eq!(march.end().to_rfc3339(), "2026-03-30T23:00:00+00:00");
        let stretches = march.offset_stretches();
        assert_eq!(stretches.len(), 2);
        assert_eq!(stretches[0].end.to_rfc3339(), "2026-03-29T01:00:00+00:00");
        assert_eq!(
            (stretches[0].offset_secs, stretches[1].offset_secs),
            (0, 3600)
        );
        assert_eq!(
            london("2026-06-01", "2026-06-30").offset_stretches().len(),
            1
        );
    }

    #[test]
    fn periods_are_bounded_and_ordered() {
        let zone = TimeZone::parse("Europe/London").unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            Period::new(zone, day("2026-02-01"), day("2026-01-01"))
                .unwrap_err()
                .field,
            "to"
        );
        assert!(Period::new(zone, day("2026-01-01"), day("2026-12-31")).is_ok());
        assert!(Period::new(zone, day("2026-01-01"), day("2027-01-02")).is_err());
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let waits = [(5, 1), (10, 2), (30, 1), (120, 1)];
        assert_eq!(percentile(&waits, 50.0), Some(10));
        assert_eq!(percentile(&waits, 90.0), Some(120));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(ratio(1, 3), Some(0.3333));
        assert_eq!(ratio(1, 0), None);
    }

    #[test]
    fn week_zero_is_the_monday_before_the_epoch() {
        assert_eq!(week_start(0).unwrap().to_string(), "1969-12-29");
        // 2026-11-23 is a Monday.
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let index = (monday - week_start(0).unwrap()).num_weeks();
        assert_eq!(week_start(index), Some(monday));
    }
}
