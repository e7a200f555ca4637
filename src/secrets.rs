//! Hashing of what must never be stored in the clear: API tokens (SHA-256; they are
//! long random strings, so a slow password hash adds nothing) and phone numbers (HMAC
//! keyed with the server's secret key, so a stolen database cannot be matched against a
//! list of numbers).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::domain::phone::E164;

const TOKEN_PREFIX: &str = "pl_";

/// A new random API token, as shown once to its owner.
pub fn generate_token() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)).into()
}

/// The stored form of an API token.
pub fn hash_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A new random server secret key (used when `PEERLINE_SECRET_KEY` is unset).
pub fn generate_secret_key() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes).into()
}

/// Keyed hashing of phone numbers.
#[derive(Clone)]
pub struct NumberHasher {
    key: SecretString,
}

impl NumberHasher {
    pub fn new(key: SecretString) -> Self {
        Self { key }
    }

    pub fn hash(&self, number: &E164) -> String {
        // HMAC accepts keys of any length.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.expose_secret().as_bytes())
        else {
            unreachable!("HMAC takes keys of any length")
        };
        mac.update(number.as_str().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for NumberHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NumberHasher([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let (a, b) = (generate_token(), generate_token());
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().starts_with("pl_"));
        assert_eq!(hash_token(a.expose_secret()), hash_token(a.expose_secret()));
        assert_ne!(hash_token(a.expose_secret()), a.expose_secret());
    }

    #[test]
    fn number_hash_depends_on_the_key() {
        let n = E164::parse("+12025550143").unwrap();
        let one = NumberHasher::new("k1".to_owned().into());
        let two = NumberHasher::new("k2".to_owned().into());
        assert_eq!(one.hash(&n), one.hash(&n));
        assert_ne!(one.hash(&n), two.hash(&n));
        assert!(!one.hash(&n).contains("2025550143"));
    }
}
