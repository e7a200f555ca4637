//! Delivery statuses Twilio reports for a message. Callbacks arrive repeated and out of
//! order, so a status only ever moves forward.

/// How far along a status is; `None` for a status Twilio may add that we do not know.
fn rank(status: &str) -> Option<u8> {
    match status {
        "accepted" | "scheduled" | "queued" => Some(0),
        "sending" => Some(1),
        "sent" => Some(2),
        "delivered" | "undelivered" | "failed" | "read" | "canceled" => Some(3),
        _ => None,
    }
}

/// Whether a message now at `current` should move to `reported`.
pub fn advances(current: Option<&str>, reported: &str) -> bool {
    let Some(new) = rank(reported) else {
        return false;
    };
    match current.and_then(rank) {
        None => true,
        Some(old) => new > old,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_only_moves_forward() {
        assert!(advances(None, "queued"));
        assert!(advances(Some("queued"), "sent"));
        assert!(advances(Some("sent"), "delivered"));
        assert!(!advances(Some("delivered"), "sent"));
        assert!(!advances(Some("delivered"), "failed"));
        assert!(!advances(Some("sent"), "sent"));
        assert!(!advances(Some("sent"), "something-new"));
    }
}
