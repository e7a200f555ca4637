//! CSV exports: rows serialised by the `csv` crate (quoting as needed), and text that a
//! person typed guarded so that a spreadsheet never runs it as a formula.

use serde::{Serialize, Serializer};

/// Text from people (names, topic keys): a leading `=`, `+`, `-` or `@` is prefixed with
/// `'`, so spreadsheets show it instead of running it.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a>(pub &'a str);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.starts_with(['=', '+', '-', '@']) {
            serializer.serialize_str(&format!("'{}", self.0))
        } else {
            serializer.serialize_str(self.0)
        }
    }
}

/// `header`, then one line per row. Fails only on a row that is not a flat record.
pub fn to_csv<R: Serialize>(
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.serialize(row)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_needed_and_never_formulas() {
        #[derive(Serialize)]
        struct Row<'a> {
            name: Text<'a>,
            count: i64,
            rate: Option<f64>,
        }
        let rows = [
            ("Ann", 1),
            ("Smith, Ann", 2),
            ("say \"hi\"", 3),
            ("=HYPERLINK(1)", 4),
            ("-1", 5),
        ]
        .map(|(name, count)| Row {
            name: Text(name),
            count,
            rate: None,
        });
        assert_eq!(
            to_csv(&["name", "count", "rate"], rows).unwrap(),
            "name,count,rate\nAnn,1,\n\"Smith, Ann\",2,\n\"say \"\"hi\"\"\",3,\n'=HYPERLINK(1),4,\n'-1,5,\n"
        );
        assert_eq!(to_csv::<Row>(&["name"], []).unwrap(), "name\n");
    }
}
