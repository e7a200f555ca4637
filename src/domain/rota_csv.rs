//! A helpline's weekly rota as CSV, one shift a line, for coordinators who plan in a
//! spreadsheet: `volunteer_id,volunteer,weekday,start,end,channels,valid_from,valid_until`.
//! Importing a file makes each volunteer it names have exactly the shifts it lists for
//! them; volunteers it does not name keep theirs. Every line's errors are found before
//! anything changes, and nothing changes while any line has one.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use super::calendar::{LocalTime, Weekday};
use super::csv_export::Text;
use super::ids::VolunteerId;
use super::rota::{ShiftChannels, WeeklyShift};

/// The columns, in the order an export writes them.
pub const COLUMNS: [&str; 8] = [
    "volunteer_id",
    "volunteer",
    "weekday",
    "start",
    "end",
    "channels",
    "valid_from",
    "valid_until",
];

/// A line of the file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// The line of the file (the header is line 1).
    pub line: u64,
    /// The column at fault, when it is one column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

impl LineError {
    fn new(line: u64, column: Option<&str>, message: impl ToString) -> Self {
        Self {
            line,
            column: column.map(str::to_owned),
            message: message.to_string(),
        }
    }
}

/// Who a line is about, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VolunteerRef {
    id: Option<VolunteerId>,
    name: Option<String>,
}

/// A line read into a shift.
#[derive(Debug, Clone)]
struct ShiftLine {
    line: u64,
    volunteer: VolunteerRef,
    shift: WeeklyShift,
}

/// A volunteer of the helpline, as the file may name them.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    pub id: VolunteerId,
    pub name: &'a str,
}

/// A weekly shift already on the rota.
#[derive(Debug, Clone)]
pub struct Held {
    pub shift_id: i32,
    pub volunteer_id: VolunteerId,
    pub shift: WeeklyShift,
}

/// A shift the file adds.
#[derive(Debug, Clone)]
pub struct Added {
    pub line: u64,
    pub volunteer_id: VolunteerId,
    pub shift: WeeklyShift,
}

/// What importing a file would do.
#[derive(Debug, Clone, Default)]
pub struct RotaChanges {
    pub added: Vec<Added>,
    pub removed: Vec<Held>,
    pub unchanged: usize,
    pub errors: Vec<LineError>,
}

/// A name as exported: a leading `'` that guarded a formula character is taken off.
fn unguarded(name: &str) -> &str {
    match name.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => name,
    }
}

/// Reads `text` into shift lines and the errors of the lines that could not be read.
fn read_lines(text: &str) -> (Vec<ShiftLine>, Vec<LineError>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_ascii_lowercase()).collect(),
        Err(e) => return (Vec::new(), vec![LineError::new(1, None, e)]),
    };
    for (i, column) in header.iter().enumerate() {
        if !COLUMNS.contains(&column.as_str()) {
            let message = format!("unknown column; the columns are {}", COLUMNS.join(","));
            errors.push(LineError::new(1, Some(column), message));
        } else if header[..i].contains(column) {
            errors.push(LineError::new(1, Some(column), "the column is named twice"));
        }
    }
    let position = |name: &str| header.iter().position(|c| c == name);
    for required in ["weekday", "start", "end"] {
        if position(required).is_none() {
            errors.push(LineError::new(1, Some(required), "the column is missing"));
        }
    }
    if position("volunteer_id").is_none() && position("volunteer").is_none() {
        let message = "name the volunteer by a volunteer_id or a volunteer column";
        errors.push(LineError::new(1, None, message));
    }
    if !errors.is_empty() {
        return (Vec::new(), errors);
    }
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(LineError::new(line, None, e));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != header.len() {
            let message = format!(
                "has {} fields where the header has {}",
                record.len(),
                header.len()
            );
            errors.push(LineError::new(line, None, message));
            continue;
        }
        let field = |name: &str| {
            position(name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        match read_line(line, &field) {
            Ok(read) => lines.push(read),
            Err(error) => errors.push(error),
        }
    }
    (lines, errors)
}

/// One line's fields into a shift line, or the first field at fault.
fn read_line<'r>(
    line: u64,
    field: &dyn Fn(&str) -> Option<&'r str>,
) -> Result<ShiftLine, LineError> {
    let fail = |column: &str, message: String| LineError::new(line, Some(column), message);
    let id = field("volunteer_id")
        .map(|raw| {
            raw.parse::<VolunteerId>()
                .map_err(|_| fail("volunteer_id", format!("'{raw}' is not a volunteer id")))
        })
        .transpose()?;
    let name = field("volunteer").map(|n| unguarded(n).to_owned());
    if id.is_none() && name.is_none() {
        let message = "name the volunteer, by volunteer_id or volunteer".to_owned();
        return Err(fail("volunteer", message));
    }
    let weekday = field("weekday").unwrap_or_default();
    let weekday = Weekday::parse(&weekday.to_ascii_lowercase()).map_err(|_| {
        fail(
            "weekday",
            format!("'{weekday}' is not a weekday (monday to sunday)"),
        )
    })?;
    let time = |column: &str| {
        let raw = field(column).unwrap_or_default();
        LocalTime::parse(raw).map_err(|e| fail(column, e.to_string()))
    };
    let (start, end) = (time("start")?, time("end")?);
    let channels = match field("channels") {
        None => ShiftChannels::Both,
        Some(raw) => ShiftChannels::parse(&raw.to_ascii_lowercase())
            .ok_or_else(|| fail("channels", format!("'{raw}' is not voice, sms or both")))?,
    };
    let date = |column: &str| {
        field(column)
            .map(|raw| {
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| fail(column, format!("'{raw}' is not a date (YYYY-MM-DD)")))
            })
            .transpose()
    };
    let (valid_from, valid_until) = (date("valid_from")?, date("valid_until")?);
    let shift = WeeklyShift::new(weekday, start, end, channels, valid_from, valid_until)
        .map_err(|e| LineError::new(line, None, e))?;
    Ok(ShiftLine {
        line,
        volunteer: VolunteerRef { id, name },
        shift,
    })
}

/// The helpline's members, looked up by id and by name.
struct Directory<'a> {
    by_id: HashMap<VolunteerId, &'a str>,
    by_name: HashMap<&'a str, Vec<VolunteerId>>,
}

impl<'a> Directory<'a> {
    fn new(members: &[Member<'a>]) -> Self {
        let mut by_name: HashMap<&str, Vec<VolunteerId>> = HashMap::new();
        for m in members {
            by_name.entry(m.name).or_default().push(m.id);
        }
        Self {
            by_id: members.iter().map(|m| (m.id, m.name)).collect(),
            by_name,
        }
    }

    /// The member a line names, or why it names none.
    fn resolve(&self, volunteer: &VolunteerRef) -> Result<VolunteerId, String> {
        if let Some(id) = volunteer.id {
            let name = self
                .by_id
                .get(&id)
                .ok_or_else(|| format!("volunteer {id} does not serve this helpline"))?;
            return match &volunteer.name {
                Some(written) if written != name => {
                    Err(format!("volunteer {id} is {name}, not {written}"))
                }
                _ => Ok(id),
            };
        }
        let name = volunteer.name.as_deref().unwrap_or_default();
        match self
            .by_name
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            [id] => Ok(*id),
            [] => Err(format!("no volunteer of this helpline is called {name}")),
            named => Err(format!(
                "{} volunteers are called {name}: give the volunteer_id",
                named.len()
            )),
        }
    }
}

/// A file read into shift lines, before it is matched against the rota: reading needs
/// nothing from the database.
pub struct RotaFile {
    lines: Vec<ShiftLine>,
    errors: Vec<LineError>,
}

/// Reads `text`, keeping every line's error.
pub fn read(text: &str) -> RotaFile {
    let (lines, errors) = read_lines(text);
    RotaFile { lines, errors }
}

impl RotaFile {
    /// What importing the file would change, given the helpline's `members` and the
    /// weekly shifts they `hold`.
    pub fn changes(self, members: &[Member<'_>], hold: &[Held]) -> RotaChanges {
        let RotaFile { lines, mut errors } = self;
        let directory = Directory::new(members);
        let mut wanted: HashMap<VolunteerId, Vec<ShiftLine>> = HashMap::new();
        for line in lines {
            let id = match directory.resolve(&line.volunteer) {
                Ok(id) => id,
                Err(message) => {
                    let column = if line.volunteer.id.is_some() {
                        "volunteer_id"
                    } else {
                        "volunteer"
                    };
                    errors.push(LineError::new(line.line, Some(column), message));
                    continue;
                }
            };
            let theirs = wanted.entry(id).or_default();
            if let Some(same) = theirs.iter().find(|s| s.shift == line.shift) {
                let message = format!("the same shift as line {}", same.line);
                errors.push(LineError::new(line.line, None, message));
                continue;
            }
            theirs.push(line);
        }
        errors.sort_by_key(|e| e.line);
        let mut held_by: HashMap<VolunteerId, Vec<&Held>> = HashMap::new();
        for held in hold {
            held_by.entry(held.volunteer_id).or_default().push(held);
        }
        let mut result = RotaChanges {
            errors,
            ..RotaChanges::default()
        };
        let named: BTreeSet<VolunteerId> = wanted.keys().copied().collect();
        for id in named {
            let mut lines = wanted.remove(&id).unwrap_or_default();
            for held in held_by.remove(&id).unwrap_or_default() {
                match lines.iter().position(|l| l.shift == held.shift) {
                    Some(kept) => {
                        lines.remove(kept);
                        result.unchanged += 1;
                    }
                    None => result.removed.push(held.clone()),
                }
            }
            result.added.extend(lines.into_iter().map(|l| Added {
                line: l.line,
                volunteer_id: id,
                shift: l.shift,
            }));
        }
        result.added.sort_by_key(|a| a.line);
        result
    }
}

/// One line of an export.
#[derive(Serialize)]
pub struct ExportLine<'a> {
    volunteer_id: VolunteerId,
    volunteer: Text<'a>,
    weekday: &'static str,
    start: String,
    end: String,
    channels: &'static str,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

/// The rota as CSV: each member's shifts, by name, weekday and start.
pub fn export(members: &[Member<'_>], hold: &[Held]) -> Result<String, csv::Error> {
    let names: HashMap<VolunteerId, &str> = members.iter().map(|m| (m.id, m.name)).collect();
    let mut lines: Vec<ExportLine<'_>> = Vec::new();
    let mut ordered: Vec<&Held> = hold
        .iter()
        .filter(|h| names.contains_key(&h.volunteer_id))
        .collect();
    ordered.sort_by_key(|h| {
        (
            names.get(&h.volunteer_id).copied(),
            h.volunteer_id,
            h.shift.weekday(),
            h.shift.start(),
        )
    });
    for held in ordered {
        let shift = &held.shift;
        lines.push(ExportLine {
            volunteer_id: held.volunteer_id,
            volunteer: Text(names.get(&held.volunteer_id).copied().unwrap_or_default()),
            weekday: shift.weekday().as_str(),
            start: shift.start().to_string(),
            end: shift.end().to_string(),
            channels: shift.channels().as_str(),
            valid_from: shift.valid_from(),
            valid_until: shift.valid_until(),
        });
    }
    super::csv_export::to_csv(&COLUMNS, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(day: Weekday, start: &str, end: &str) -> WeeklyShift {
        let t = |s| LocalTime::parse(s).unwrap();
        WeeklyShift::new(day, t(start), t(end), ShiftChannels::Both, None, None).unwrap()
    }

    fn members() -> Vec<Member<'static>> {
        vec![
            Member {
                id: VolunteerId(1),
                name: "Ada",
            },
            Member {
                id: VolunteerId(2),
                name: "Ben",
            },
            Member {
                id: VolunteerId(3),
                name: "Ben",
            },
            Member {
                id: VolunteerId(4),
                name: "=Eve",
            },
        ]
    }

    #[test]
    fn an_export_reads_back_as_no_change() {
        let hold = vec![
            Held {
                shift_id: 10,
                volunteer_id: VolunteerId(1),
                shift: shift(Weekday::Tuesday, "19:00", "22:00"),
            },
            Held {
                shift_id: 11,
                volunteer_id: VolunteerId(4),
                shift: WeeklyShift::new(
                    Weekday::Saturday,
                    LocalTime::parse("22:00").unwrap(),
                    LocalTime::parse("02:00").unwrap(),
                    ShiftChannels::Sms,
                    NaiveDate::from_ymd_opt(2027, 1, 1),
                    None,
                )
                .unwrap(),
            },
        ];
        let text = export(&members(), &hold).unwrap();
        assert_eq!(
            text,
            "volunteer_id,volunteer,weekday,start,end,channels,valid_from,valid_until\n\
             4,'=Eve,saturday,22:00,02:00,sms,2027-01-01,\n\
             1,Ada,tuesday,19:00,22:00,both,,\n"
        );
        let read_back = read(&text).changes(&members(), &hold);
        assert!(read_back.errors.is_empty(), "{:?}", read_back.errors);
        assert_eq!(read_back.unchanged, 2);
        assert!(read_back.added.is_empty() && read_back.removed.is_empty());
    }

    #[test]
    fn a_named_volunteer_gets_exactly_the_files_shifts_and_others_keep_theirs() {
        let hold = vec![
            Held {
                shift_id: 10,
                volunteer_id: VolunteerId(1),
                shift: shift(Weekday::Tuesday, "19:00", "22:00"),
            },
            Held {
                shift_id: 11,
                volunteer_id: VolunteerId(1),
                shift: shift(Weekday::Friday, "19:00", "22:00"),
            },
            Held {
                shift_id: 12,
                volunteer_id: VolunteerId(2),
                shift: shift(Weekday::Monday, "09:00", "12:00"),
            },
        ];
        let text = "volunteer,weekday,start,end\nAda,Tuesday,19:00,22:00\nAda,sunday,10:00,14:00\n";
        let found = read(text).changes(&members(), &hold);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(found.unchanged, 1);
        assert_eq!(found.removed.len(), 1);
        assert_eq!(found.removed[0].shift_id, 11);
        assert_eq!(found.added.len(), 1);
        assert_eq!(found.added[0].line, 3);
        assert_eq!(
            found.added[0].shift,
            shift(Weekday::Sunday, "10:00", "14:00")
        );
    }

    #[test]
    fn every_bad_line_is_named_with_its_column() {
        let text = "volunteer_id,volunteer,weekday,start,end,channels\n\
                    ,Ada,tusday,19:00,22:00,\n\
                    ,Ben,monday,09:00,12:00,\n\
                    9,,monday,09:00,12:00,\n\
                    1,Ben,monday,09:00,12:00,\n\
                    1,,monday,25:00,12:00,\n\
                    1,,monday,09:00,09:00,\n\
                    1,,monday,09:00,12:00,fax\n\
                    1,,monday,09:00\n\
                    1,,monday,09:00,12:00,both\n\
                    1,,monday,09:00,12:00,both\n";
        let found = read(text).changes(&members(), &[]);
        let said: Vec<(u64, Option<&str>)> = found
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        assert_eq!(
            said,
            vec![
                (2, Some("weekday")),
                (3, Some("volunteer")),
                (4, Some("volunteer_id")),
                (5, Some("volunteer_id")),
                (6, Some("start")),
                (7, None),
                (8, Some("channels")),
                (9, None),
                (11, None),
            ],
            "{:?}",
            found.errors
        );
        assert_eq!(
            found.errors[1].message,
            "2 volunteers are called Ben: give the volunteer_id"
        );
        assert_eq!(found.errors[8].message, "the same shift as line 10");
        assert_eq!(found.added.len(), 1);
    }

    #[test]
    fn a_header_without_the_needed_columns_is_refused_at_line_one() {
        let found = read("who,weekday,start\nAda,monday,09:00\n").changes(&members(), &[]);
        let said: Vec<_> = found
            .errors
            .iter()
            .map(|e| (e.line, e.column.clone()))
            .collect();
        assert_eq!(
            said,
            vec![
                (1, Some("who".to_owned())),
                (1, Some("end".to_owned())),
                (1, None),
            ]
        );
    }
}
