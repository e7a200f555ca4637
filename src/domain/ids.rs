//! Sets and maps keyed by database ids, hashed cheaply: routing looks up every volunteer
//! of a helpline in each round, and ids come from the database, not from callers, so
//! nobody can choose them to collide.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by a database id.
pub type ById<V> = HashMap<i32, V, BuildHasherDefault<IdHasher>>;

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

/// A set of database ids.
pub type IdSet = HashSet<i32, BuildHasherDefault<IdHasher>>;
