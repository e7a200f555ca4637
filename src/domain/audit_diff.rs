//! What a change changed, for the audit log: each setting whose value differs, before and
//! after, with every phone number masked (`...47`), so the log tells where calls went
//! without becoming a list of numbers.

use serde_json::{Map, Value};

/// Masks a string that is a phone number in international form.
fn masked(value: &Value) -> Value {
    match value {
        Value::String(text)
            if text.starts_with('+')
                && text.len() > 4
                && text[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            Value::String(format!("...{}", &text[text.len() - 2..]))
        }
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), masked(v))).collect())
        }
        other => other.clone(),
    }
}

/// The fields of `before` and `after` (JSON objects) that differ, each as
/// `{"before": ..., "after": ...}`, nested objects compared field by field.
pub fn changes(before: &Value, after: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let (Some(old), Some(new)) = (before.as_object(), after.as_object()) else {
        return out;
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (was, is) = (
            old.get(key).unwrap_or(&Value::Null),
            new.get(key).unwrap_or(&Value::Null),
        );
        if was == is {
            continue;
        }
        if was.is_object() && is.is_object() {
            for (inner, change) in changes(was, is) {
                out.insert(format!("{key}.{inner}"), change);
            }
        } else {
            out.insert(
                key.clone(),
                serde_json::json!({ "before": masked(was), "after": masked(is) }),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_what_changed_is_kept_and_numbers_are_masked() {
        let before = json!({"name": "Ann", "phone": "+12025550111", "limits": {"max": 6, "rest": 15},
                            "helplines": [1]});
        let after = json!({"name": "Ann", "phone": "+12025550199", "limits": {"max": 4, "rest": 15},
                           "helplines": [1]});
        assert_eq!(
            Value::Object(changes(&before, &after)),
            json!({
                "phone": {"before": "...11", "after": "...99"},
                "limits.max": {"before": 6, "after": 4},
            })
        );
        assert!(changes(&before, &before).is_empty());
        let cleared = changes(
            &json!({"fallback_number": "+12025550188"}),
            &json!({"fallback_number": null}),
        );
        assert_eq!(
            Value::Object(cleared),
            json!({"fallback_number": {"before": "...88", "after": null}})
        );
    }
}
