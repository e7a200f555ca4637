//! Hashing of what must never be stored in the clear: API tokens (SHA-256; they are
//! long random strings, so a slow password hash adds nothing) and phone numbers (HMAC
//! keyed with the server's secret key, so a stolen database cannot be matched against a
//! list of numbers).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit as _, Nonce};
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

/// A six-digit sign-in code, as texted.
pub fn generate_sign_in_code() -> String {
    format!("{:06}", rand::random_range(0..1_000_000u32))
}

/// A new random server secret key (used when `PEERLINE_SECRET_KEY` is unset).
pub fn generate_secret_key() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes).into()
}

/// The hint stored for a caller who withheld their number.
pub const WITHHELD_HINT: &str = "withheld";

/// A caller as stored on a contact.
pub struct CallerIdentity {
    pub hash: String,
    pub hint: String,
    pub sealed: Option<String>,
}

/// Phone numbers at rest: a keyed hash to match them (blocked callers, conflicts,
/// returning callers) and authenticated encryption to reveal one when a supervisor must.
/// Both keys derive from the server's secret key.
#[derive(Clone)]
pub struct NumberHasher {
    hash_key: SecretString,
    cipher: ChaCha20Poly1305,
}

impl NumberHasher {
    pub fn new(key: SecretString) -> Self {
        let derived = hmac_sha256(
            key.expose_secret().as_bytes(),
            b"peerline number encryption",
        );
        Self {
            hash_key: key,
            cipher: ChaCha20Poly1305::new(&Key::from(derived)),
        }
    }

    pub fn hash(&self, number: &E164) -> String {
        self.keyed_hash(number.as_str())
    }

    fn keyed_hash(&self, text: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac_sha256(
            self.hash_key.expose_secret().as_bytes(),
            text.as_bytes(),
        ))
    }

    /// A hash for a call whose number is withheld: unique to the call, so it matches no
    /// other caller.
    pub fn hash_withheld(&self, call_sid: &str) -> String {
        self.keyed_hash(&format!("withheld:{call_sid}"))
    }

    /// A hash for a text sender that is no phone number (an alphanumeric id, a short
    /// code): the same sender always hashes alike, and never like a number.
    pub fn hash_sender(&self, sender: &str) -> String {
        self.keyed_hash(&format!("sender:{sender}"))
    }

    /// A value that tells this key from any other without revealing it: stored beside the
    /// data, so that a server started with another key notices before it reads anything.
    pub fn key_check(&self) -> String {
        self.keyed_hash("peerline key check")
    }

    /// How a one-time sign-in secret (a texted code or a link's token) is stored: keyed,
    /// so that a copy of the database cannot be searched for the million possible codes,
    /// and bound to its owner, so that one person's code is nobody else's.
    pub fn hash_sign_in_secret(&self, user_id: i32, secret: &str) -> String {
        self.keyed_hash(&format!("sign-in:{user_id}:{secret}"))
    }

    /// The anti-forgery token of a console session: derived from the session's stored
    /// hash, so it needs no storage of its own and no other site can know it.
    pub fn form_token(&self, session_hash: &str) -> String {
        self.keyed_hash(&format!("form:{session_hash}"))
    }

    /// How a call's caller is kept: a keyed hash, a two-digit hint and the sealed number;
    /// a withheld number matches nothing, so each such call gets its own hash.
    pub fn caller_identity(&self, caller: Option<&E164>, call_sid: &str) -> CallerIdentity {
        match caller {
            Some(number) => CallerIdentity {
                hash: self.hash(number),
                hint: number.masked(),
                sealed: Some(self.seal(number)),
            },
            None => CallerIdentity {
                hash: self.hash_withheld(call_sid),
                hint: WITHHELD_HINT.to_owned(),
                sealed: None,
            },
        }
    }

    /// The number encrypted under a fresh random nonce, as `nonce || ciphertext` in base64url.
    pub fn seal(&self, number: &E164) -> String {
        self.seal_text(number.as_str())
    }

    /// Any text encrypted as [`NumberHasher::seal`] encrypts numbers.
    pub fn seal_text(&self, text: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let Ok(sealed) = self.cipher.encrypt(&Nonce::from(nonce), text.as_bytes()) else {
            unreachable!("encrypting a buffer in memory cannot fail")
        };
        let mut out = nonce.to_vec();
        out.extend(sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The number sealed by [`NumberHasher::seal`] under the same key; `None` when the
    /// value was tampered with or sealed under another key.
    pub fn open(&self, sealed: &str) -> Option<E164> {
        E164::parse(&self.open_text(sealed)?).ok()
    }

    /// The text sealed by [`NumberHasher::seal_text`]; `None` when tampered with.
    pub fn open_text(&self, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
        String::from_utf8(plain).ok()
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl std::fmt::Debug for NumberHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NumberHasher([redacted])")
    }
}

/// What to do about the key a server was started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    /// It is the key the stored data was sealed under.
    Matches,
    /// Nothing says otherwise (no check value yet, and no sealed data it fails to open):
    /// record its check value.
    Record,
    /// The stored data was sealed under another key: starting would lose every block,
    /// conflict and revealable number.
    Refuse,
}

/// Judges the key from its check value, the stored one if any, and whether it opens a
/// sample of the sealed data (`None` when nothing is sealed yet).
pub fn judge_key(current: &str, stored: Option<&str>, opens_sample: Option<bool>) -> KeyVerdict {
    match (stored, opens_sample) {
        (Some(stored), _) if constant_time_eq(stored, current) => KeyVerdict::Matches,
        (Some(_), _) | (None, Some(false)) => KeyVerdict::Refuse,
        (None, _) => KeyVerdict::Record,
    }
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |differ, (x, y)| differ | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_when_the_data_says_it_is_another() {
        let key = NumberHasher::new("k1".to_owned().into()).key_check();
        let other = NumberHasher::new("k2".to_owned().into()).key_check();
        assert_ne!(key, other);
        assert_eq!(
            judge_key(&key, Some(&key), Some(false)),
            KeyVerdict::Matches
        );
        assert_eq!(
            judge_key(&key, Some(&other), Some(true)),
            KeyVerdict::Refuse
        );
        // Before check values were kept: the sealed data decides.
        assert_eq!(judge_key(&key, None, Some(false)), KeyVerdict::Refuse);
        assert_eq!(judge_key(&key, None, Some(true)), KeyVerdict::Record);
        assert_eq!(judge_key(&key, None, None), KeyVerdict::Record);
    }

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

    #[test]
    fn sealed_numbers_open_only_under_the_same_key() {
        let n = E164::parse("+12025550143").unwrap();
        let vault = NumberHasher::new("k1".to_owned().into());
        let sealed = vault.seal(&n);
        assert!(!sealed.contains("2025550143"));
        assert_ne!(sealed, vault.seal(&n), "a fresh nonce each time");
        assert_eq!(vault.open(&sealed), Some(n));
        assert_eq!(
            NumberHasher::new("k2".to_owned().into()).open(&sealed),
            None
        );
        let mut tampered = sealed.into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(vault.open(&String::from_utf8(tampered).unwrap()), None);
    }
}
