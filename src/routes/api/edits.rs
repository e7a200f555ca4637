//! Editing a resource as clients do: the body of a PUT or PATCH may carry back the
//! read-only fields a GET returned (ignored), and a PATCH is a JSON merge patch
//! (RFC 7396) over the current state.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Fields a GET returns that no edit can change.
pub const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// `body` without the read-only fields `extra` and [`READ_ONLY`] name.
pub fn without_read_only(mut body: Value, extra: &[&str]) -> Value {
    if let Value::Object(fields) = &mut body {
        for name in READ_ONLY.iter().chain(extra) {
            fields.remove(*name);
        }
    }
    body
}

/// Applies a JSON merge patch: objects merge key by key, `null` removes, anything else
/// replaces.
pub fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(changes) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(fields) = target {
        for (key, change) in changes {
            if change.is_null() {
                fields.remove(&key);
            } else {
                merge_patch(fields.entry(key).or_insert(Value::Null), change);
            }
        }
    }
}

/// `current` with `patch` applied, read back as `T` (a bad field is named).
pub fn patched<T: Serialize + DeserializeOwned>(current: &T, patch: Value) -> Result<T, ApiError> {
    let mut merged = serde_json::to_value(current).map_err(|e| ApiError::Internal(e.into()))?;
    merge_patch(&mut merged, without_read_only(patch, &[]));
    typed(merged)
}

/// `body` read as `T`, naming the field that does not fit.
pub fn typed<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        if path == "." {
            ApiError::InvalidBody(message)
        } else {
            ApiError::field(path, message)
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_merge_patch_merges_objects_removes_nulls_and_replaces_the_rest() {
        let mut doc = json!({"name": "A", "routing": {"ring_timeout_secs": 20, "ring_group_size": 1},
                             "languages": ["en"], "fallback_number": "+12025550100"});
        merge_patch(
            &mut doc,
            json!({"routing": {"ring_group_size": 3}, "languages": ["en", "cy"],
                   "fallback_number": null}),
        );
        assert_eq!(
            doc,
            json!({"name": "A", "routing": {"ring_timeout_secs": 20, "ring_group_size": 3},
                   "languages": ["en", "cy"]})
        );
    }

    #[test]
    fn read_only_fields_a_get_returned_are_dropped() {
        let body =
            json!({"id": 4, "created_at": "x", "updated_at": "y", "helplines": [1], "name": "B"});
        assert_eq!(
            without_read_only(body, &["helplines"]),
            json!({"name": "B"})
        );
    }
}
