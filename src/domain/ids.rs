//! Database ids, one type per table that others refer to, so a volunteer's id cannot be
//! passed where a contact's belongs; and sets and maps keyed by them, hashed cheaply:
//! routing looks up every volunteer of a helpline in each round, and ids come from the
//! database, not from callers, so nobody can choose them to collide.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

/// Declares an id type: stored and sent as the integer it wraps.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            sea_orm::DeriveValueType,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    };
}

id_type!(
    /// A helpline's id.
    HelplineId
);
id_type!(
    /// A topic's id.
    TopicId
);
id_type!(
    /// A volunteer's id.
    VolunteerId
);
id_type!(
    /// A user's id: someone who signs in (an admin, a supervisor or a volunteer).
    UserId
);
id_type!(
    /// A contact's id: one call or text conversation.
    ContactId
);
id_type!(
    /// An offer's id: one volunteer asked to take one contact, in one round.
    OfferId
);

/// A map keyed by a database id.
pub type ById<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A set of database ids.
pub type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of an id.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i32(&mut self, id: i32) {
        self.0 = u64::from(id.cast_unsigned()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_written_and_read_as_the_bare_number() {
        assert_eq!(serde_json::to_string(&VolunteerId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<ContactId>("12").unwrap(),
            ContactId(12)
        );
        assert_eq!("42".parse::<HelplineId>(), Ok(HelplineId(42)));
        assert!("forty-two".parse::<HelplineId>().is_err());
        assert_eq!(format!("#{}", ContactId(5)), "#5");
        assert_eq!(format!("CA{:06}", ContactId(5)), "CA000005");
    }
}
