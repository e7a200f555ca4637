//! What must never be stored in the clear: API tokens are hashed (SHA-256; they are long
//! random strings, so a slow password hash adds nothing); phone numbers are hashed with a
//! key (so a stolen database cannot be matched against a list of numbers) and sealed, as
//! are message bodies and notes, with authenticated encryption under keys derived from the
//! server's secret key.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit as _, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::domain::ids::UserId;
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

/// What the server keeps from prying eyes, all under keys from its secret key: keyed
/// hashes to match phone numbers (blocked callers, conflicts, returning callers) without
/// storing them, and authenticated encryption for what must be read back (callers' and
/// staff's numbers, message bodies, notes).
///
/// While a database moves to a new key (`peerline rotate-key`) the vault also holds the
/// previous one: it seals and hashes under the new key and reads under either.
#[derive(Clone)]
pub struct Vault {
    current: KeySet,
    previous: Option<KeySet>,
}

/// The keys derived from one secret key.
#[derive(Clone)]
struct KeySet {
    /// Names the key in every value sealed under it, without revealing anything.
    id: String,
    /// Keys the number hashes (HMAC-SHA-256).
    hash_key: SecretString,
    cipher: ChaCha20Poly1305,
    /// How numbers were sealed before values named their key: under a key derived with
    /// an HMAC label, with no key id. Read, never written.
    legacy_cipher: ChaCha20Poly1305,
}

/// Length of the key id at the start of a sealed value (`<id>.<nonce+ciphertext>`).
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;

impl KeySet {
    fn new(key: SecretString) -> Self {
        let secret = key.expose_secret().as_bytes();
        let id =
            URL_SAFE_NO_PAD.encode(derive_key(secret, b"peerline key id"))[..KEY_ID_LEN].to_owned();
        let legacy = hmac_sha256(secret, b"peerline number encryption");
        Self {
            id,
            cipher: ChaCha20Poly1305::new(&Key::from(derive_key(secret, b"peerline sealing"))),
            legacy_cipher: ChaCha20Poly1305::new(&Key::from(legacy)),
            hash_key: key,
        }
    }

    fn keyed_hash(&self, text: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac_sha256(
            self.hash_key.expose_secret().as_bytes(),
            text.as_bytes(),
        ))
    }

    fn open_with(cipher: &ChaCha20Poly1305, encoded: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// A 256-bit key for `purpose`, derived from the secret key with HKDF-SHA-256.
fn derive_key(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    let Ok(()) = Hkdf::<Sha256>::new(Some(b"peerline"), secret).expand(purpose, &mut okm) else {
        unreachable!("32 bytes is a valid HKDF-SHA-256 output length")
    };
    okm
}

impl Vault {
    pub fn new(key: SecretString) -> Self {
        Self {
            current: KeySet::new(key),
            previous: None,
        }
    }

    /// A vault that seals under `key` and still reads what was sealed under `previous`.
    pub fn rotating(key: SecretString, previous: SecretString) -> Self {
        Self {
            current: KeySet::new(key),
            previous: Some(KeySet::new(previous)),
        }
    }

    /// The vault of the previous key alone, if this one is rotating.
    pub fn previous(&self) -> Option<Vault> {
        self.previous.clone().map(|current| Vault {
            current,
            previous: None,
        })
    }

    fn key_sets(&self) -> impl Iterator<Item = &KeySet> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }

    pub fn hash(&self, number: &E164) -> String {
        self.current.keyed_hash(number.as_str())
    }

    /// Every hash `number` may be stored under: the current key's, and while a rotation
    /// runs, the previous key's. Lookups match any of them.
    pub fn hashes(&self, number: &E164) -> Vec<String> {
        self.key_sets()
            .map(|keys| keys.keyed_hash(number.as_str()))
            .collect()
    }

    /// Every hash a caller stored with `hash` (and, unless withheld or erased, their number
    /// sealed as `sealed`) may be found under while a rotation runs.
    /// Without a rotation the stored hash is the only one, and nothing is opened.
    pub fn caller_hashes(&self, sealed: Option<&str>, hash: &str) -> Vec<String> {
        let number = self
            .previous
            .as_ref()
            .and(sealed)
            .and_then(|sealed| self.open(sealed));
        match number {
            Some(number) => self.hashes(&number),
            None => vec![hash.to_owned()],
        }
    }

    /// A hash for a call whose number is withheld: unique to the call, so it matches no
    /// other caller.
    pub fn hash_withheld(&self, call_sid: &str) -> String {
        self.current.keyed_hash(&format!("withheld:{call_sid}"))
    }

    /// A hash for a text sender that is no phone number (an alphanumeric id, a short
    /// code): the same sender always hashes alike, and never like a number.
    pub fn hash_sender(&self, sender: &str) -> String {
        self.current.keyed_hash(&format!("sender:{sender}"))
    }

    /// A value that tells this key from any other without revealing it: stored beside the
    /// data, so that a server started with another key notices before it reads anything.
    pub fn key_check(&self) -> String {
        self.current.keyed_hash("peerline key check")
    }

    /// How a one-time sign-in secret (a texted code or a link's token) is stored: keyed,
    /// so that a copy of the database cannot be searched for the million possible codes,
    /// and bound to its owner, so that one person's code is nobody else's.
    pub fn hash_sign_in_secret(&self, user_id: UserId, secret: &str) -> String {
        self.current
            .keyed_hash(&format!("sign-in:{user_id}:{secret}"))
    }

    /// The anti-forgery token of a console session: derived from the session's stored
    /// hash, so it needs no storage of its own and no other site can know it.
    pub fn form_token(&self, session_hash: &str) -> String {
        self.current.keyed_hash(&format!("form:{session_hash}"))
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

    /// The number encrypted (see [`Vault::seal_text`]).
    pub fn seal(&self, number: &E164) -> String {
        self.seal_text(number.as_str())
    }

    /// `text` encrypted under the current key and a fresh random nonce, as
    /// `<key id>.<nonce || ciphertext in base64url>`.
    pub fn seal_text(&self, text: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let Ok(sealed) = self
            .current
            .cipher
            .encrypt(&Nonce::from(nonce), text.as_bytes())
        else {
            unreachable!("encrypting a buffer in memory cannot fail")
        };
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{}.{}", self.current.id, URL_SAFE_NO_PAD.encode(out))
    }

    /// The number sealed by [`Vault::seal`]; `None` when the value was tampered with or
    /// sealed under a key this vault does not hold.
    pub fn open(&self, sealed: &str) -> Option<E164> {
        E164::parse(&self.open_text(sealed)?).ok()
    }

    /// The text sealed by [`Vault::seal_text`] (or, before values named their key, by
    /// the legacy number sealing); `None` when tampered with or under another key.
    pub fn open_text(&self, sealed: &str) -> Option<String> {
        match sealed.split_once('.') {
            Some((id, encoded)) => {
                let keys = self.key_sets().find(|keys| keys.id == id)?;
                KeySet::open_with(&keys.cipher, encoded)
            }
            None => self
                .key_sets()
                .find_map(|keys| KeySet::open_with(&keys.legacy_cipher, sealed)),
        }
    }

    /// Whether `sealed` is sealed under the current key in the current form (nothing for
    /// a rotation to redo).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.split_once('.').is_some_and(|(id, encoded)| {
            id == self.current.id && KeySet::open_with(&self.current.cipher, encoded).is_some()
        })
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

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault([redacted])")
    }
}

/// What to do about the keys a server was started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    /// The current key is the one the stored data was sealed under.
    Matches,
    /// The data was sealed under the previous key and is moving to the current one.
    Rotating,
    /// Nothing says otherwise (no check value yet, and no sealed data it fails to open):
    /// record the current key's check value.
    Record,
    /// No check value yet, and the sealed data opens under the previous key alone:
    /// record its check value (the data is to move).
    RecordPrevious,
    /// The stored data was sealed under another key: starting would lose every block,
    /// conflict and revealable number.
    Refuse,
}

/// The check values of a server's keys (see [`Vault::key_check`]).
pub struct KeyChecks {
    pub current: String,
    pub previous: Option<String>,
}

/// Which of a server's keys open a sample of the sealed data.
#[derive(Debug, Clone, Copy)]
pub struct SampleOpens {
    pub current: bool,
    pub previous: bool,
}

/// Judges the keys from their check values, the stored one if any, and which of them
/// open a sample of the sealed data (`None` when nothing is sealed yet).
pub fn judge_key(
    checks: &KeyChecks,
    stored: Option<&str>,
    sample: Option<SampleOpens>,
) -> KeyVerdict {
    let is = |check: &str| stored.is_some_and(|stored| constant_time_eq(stored, check));
    if is(&checks.current) {
        return KeyVerdict::Matches;
    }
    if checks.previous.as_deref().is_some_and(is) {
        return KeyVerdict::Rotating;
    }
    match (stored, sample) {
        (Some(_), _) => KeyVerdict::Refuse,
        (None, None) => KeyVerdict::Record,
        (None, Some(opens)) if opens.current => KeyVerdict::Record,
        (None, Some(opens)) if opens.previous => KeyVerdict::RecordPrevious,
        (None, Some(_)) => KeyVerdict::Refuse,
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

    fn checks(current: &str, previous: Option<&str>) -> KeyChecks {
        let check = |key: &str| Vault::new(key.to_owned().into()).key_check();
        KeyChecks {
            current: check(current),
            previous: previous.map(check),
        }
    }

    const NEITHER: SampleOpens = SampleOpens {
        current: false,
        previous: false,
    };

    #[test]
    fn a_key_is_refused_when_the_data_says_it_is_another() {
        let one = checks("k1", None);
        let (key, other) = (one.current.clone(), checks("k2", None).current);
        assert_ne!(key, other);
        assert_eq!(judge_key(&one, Some(&key), None), KeyVerdict::Matches);
        assert_eq!(judge_key(&one, Some(&other), None), KeyVerdict::Refuse);
        // Before check values were kept: the sealed data decides.
        assert_eq!(judge_key(&one, None, Some(NEITHER)), KeyVerdict::Refuse);
        let opens = SampleOpens {
            current: true,
            previous: false,
        };
        assert_eq!(judge_key(&one, None, Some(opens)), KeyVerdict::Record);
        assert_eq!(judge_key(&one, None, None), KeyVerdict::Record);
    }

    #[test]
    fn a_previous_key_that_sealed_the_data_lets_a_new_key_start_rotating() {
        let moving = checks("new", Some("old"));
        let old = checks("old", None).current;
        assert_eq!(judge_key(&moving, Some(&old), None), KeyVerdict::Rotating);
        // Once the data has moved, the new key matches.
        assert_eq!(
            judge_key(&moving, Some(&moving.current), None),
            KeyVerdict::Matches
        );
        // A third key is refused, previous or not.
        let third = checks("third", None).current;
        assert_eq!(judge_key(&moving, Some(&third), None), KeyVerdict::Refuse);
        let under_old = SampleOpens {
            current: false,
            previous: true,
        };
        assert_eq!(
            judge_key(&moving, None, Some(under_old)),
            KeyVerdict::RecordPrevious
        );
        assert_eq!(judge_key(&moving, None, Some(NEITHER)), KeyVerdict::Refuse);
    }

    #[test]
    fn a_rotating_vault_reads_both_keys_and_writes_the_new_one() {
        let n = E164::parse("+12025550143").unwrap();
        let old = Vault::new("old".to_owned().into());
        let moving = Vault::rotating("new".to_owned().into(), "old".to_owned().into());
        let under_old = old.seal_text("my words");
        assert_eq!(moving.open_text(&under_old).as_deref(), Some("my words"));
        assert!(!moving.is_current(&under_old));
        let under_new = moving.seal_text("my words");
        assert!(moving.is_current(&under_new));
        assert_eq!(
            old.open_text(&under_new),
            None,
            "the old key alone cannot read it"
        );
        // A number stored under either hash is found.
        assert_eq!(moving.hashes(&n), vec![moving.hash(&n), old.hash(&n)]);
        // A caller's stored hash is matched under both, and only then is their number opened.
        let sealed = moving.seal(&n);
        assert_eq!(
            moving.caller_hashes(Some(&sealed), "stored"),
            moving.hashes(&n)
        );
        assert_eq!(
            old.caller_hashes(Some(&old.seal(&n)), "stored"),
            vec!["stored"]
        );
        assert_eq!(
            moving.previous().map(|p| p.key_check()),
            Some(old.key_check())
        );
    }

    #[test]
    fn numbers_sealed_before_values_named_their_key_still_open() {
        use chacha20poly1305::aead::Aead;
        let n = E164::parse("+12025550143").unwrap();
        // As earlier versions sealed: a key from an HMAC label, no key id.
        let legacy = hmac_sha256(b"k1", b"peerline number encryption");
        let cipher = ChaCha20Poly1305::new(&Key::from(legacy));
        let nonce = [7u8; 12];
        let mut sealed = nonce.to_vec();
        sealed.extend(
            cipher
                .encrypt(&Nonce::from(nonce), n.as_str().as_bytes())
                .unwrap(),
        );
        let sealed = URL_SAFE_NO_PAD.encode(sealed);
        let vault = Vault::new("k1".to_owned().into());
        assert_eq!(vault.open(&sealed), Some(n));
        assert!(!vault.is_current(&sealed), "a rotation seals it again");
        assert_eq!(Vault::new("k2".to_owned().into()).open(&sealed), None);
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
        let one = Vault::new("k1".to_owned().into());
        let two = Vault::new("k2".to_owned().into());
        assert_eq!(one.hash(&n), one.hash(&n));
        assert_ne!(one.hash(&n), two.hash(&n));
        assert!(!one.hash(&n).contains("2025550143"));
    }

    #[test]
    fn sealed_numbers_open_only_under_the_same_key() {
        let n = E164::parse("+12025550143").unwrap();
        let vault = Vault::new("k1".to_owned().into());
        let sealed = vault.seal(&n);
        assert!(!sealed.contains("2025550143"));
        assert_ne!(sealed, vault.seal(&n), "a fresh nonce each time");
        assert_eq!(vault.open(&sealed), Some(n));
        assert_eq!(Vault::new("k2".to_owned().into()).open(&sealed), None);
        let mut tampered = sealed.into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(vault.open(&String::from_utf8(tampered).unwrap()), None);
    }
}
