//! Field checks shared by the settings types: each failure names the field.

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A non-blank text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// An integer within `min..=max`.
pub fn range(field: &str, value: i64, min: i64, max: i64) -> Result<(), FieldError> {
    if !(min..=max).contains(&value) {
        return Err(FieldError::new(
            field,
            format!("must be between {min} and {max}, got {value}"),
        ));
    }
    Ok(())
}

/// A language tag such as `en`, `cy` or `en-GB`.
pub fn language(field: &str, value: &str) -> Result<(), FieldError> {
    let mut parts = value.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("'{value}' is not a language tag like en or en-GB"),
        ))
    }
}

/// A non-empty list of distinct language tags.
pub fn languages(field: &str, values: &[String]) -> Result<(), FieldError> {
    if values.is_empty() {
        return Err(FieldError::new(field, "must name at least one language"));
    }
    for (i, value) in values.iter().enumerate() {
        language(&format!("{field}[{i}]"), value)?;
        if values[..i].contains(value) {
            return Err(FieldError::new(
                format!("{field}[{i}]"),
                format!("'{value}' is listed twice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        assert!(language("l", "en").is_ok());
        assert!(language("l", "en-GB").is_ok());
        assert!(language("l", "English").is_err());
        assert_eq!(
            languages("languages", &["en".into(), "en".into()])
                .unwrap_err()
                .field,
            "languages[1]"
        );
        assert!(languages("languages", &[]).is_err());
    }

    #[test]
    fn text_and_range() {
        assert!(text("name", "  ", 10).is_err());
        assert!(text("name", "abcdefghijk", 10).is_err());
        assert_eq!(
            range("ring_group_size", 11, 1, 10).unwrap_err().field,
            "ring_group_size"
        );
    }
}
