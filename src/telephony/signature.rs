//! Twilio's webhook signature (`X-Twilio-Signature`): HMAC-SHA1, keyed with the auth
//! token, over the requested URL followed by the sorted form parameters.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The signature Twilio sends for a request to `url` with these form parameters.
pub fn compute(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac_for(auth_token, url, params).finalize().into_bytes())
}

/// Whether `signature` is Twilio's for this request. Accepts the URL as given, without its
/// port and with the scheme's default port, because Twilio signs some requests each way.
/// A JSON body is covered through the URL's `bodySHA256` parameter instead of the form.
pub fn is_valid(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
    raw_body: &[u8],
    signature: &str,
) -> bool {
    let Ok(claimed) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let signed_params: &[(String, String)] = match body_sha256_of(url) {
        Some(expected) => {
            if !hex_eq(&Sha256::digest(raw_body), expected) {
                return false;
            }
            &[]
        }
        None => params,
    };
    // Every variant is checked, so the time taken does not reveal which one matched.
    url_variants(url)
        .iter()
        .map(|variant| {
            mac_for(auth_token, variant, signed_params)
                .verify_slice(&claimed)
                .is_ok()
        })
        .fold(false, |any, ok| any | ok)
}

fn mac_for(auth_token: &[u8], url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Byte order on the name, then on the value; a repeated name counts each distinct value once.
    sorted.sort();
    sorted.dedup();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The URL as given, with its port removed, and with the default port added.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_end = if authority.ends_with(']') {
        authority.len()
    } else {
        authority.rfind(':').unwrap_or(authority.len())
    };
    let host = &authority[..host_end];
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    if host_end < authority.len() {
        variants.push(format!("{scheme}://{host}{tail}"));
    } else {
        variants.push(format!("{scheme}://{host}:{default_port}{tail}"));
    }
    variants
}

fn body_sha256_of(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("bodySHA256="))
}

fn hex_eq(digest: &[u8], hex: &str) -> bool {
    let encoded: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    encoded.eq_ignore_ascii_case(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &[u8] = b"12345";
    const V0_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn v0_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    fn v2_params() -> Vec<(String, String)> {
        params(&[
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("CallStatus", "ringing"),
            ("Called", "+15005550006"),
            ("Caller", "+15551234567"),
            ("Direction", "inbound"),
            ("From", "+15551234567"),
            ("To", "+15005550006"),
        ])
    }

    #[test]
    fn v0_voice_request() {
        assert_eq!(
            compute(TOKEN, V0_URL, &v0_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            compute(TOKEN, with_port, &v0_params()),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        // Either signature is accepted for either form of the URL.
        for url in [V0_URL, with_port] {
            for sig in [
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
            ] {
                assert!(is_valid(TOKEN, url, &v0_params(), b"", sig), "{url} {sig}");
            }
        }
    }

    #[test]
    fn v1_sms_with_non_ascii_body() {
        let sid = "SM0123456789abcdef0123456789abcdef";
        let p = params(&[
            ("ToCountry", "US"),
            ("SmsMessageSid", sid),
            ("SmsSid", sid),
            ("MessageSid", sid),
            ("NumMedia", "0"),
            ("SmsStatus", "received"),
            ("Body", "Hello, I need to talk. é ✓"),
            ("To", "+15005550006"),
            ("NumSegments", "1"),
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("From", "+15551234567"),
            ("ApiVersion", "2010-04-01"),
        ]);
        let url = "https://helpline.example.org/twilio/sms/inbound";
        assert_eq!(compute(TOKEN, url, &p), "oGbEgJ5wojtU3rYns8lhJK8K/14=");
    }

    #[test]
    fn v2_query_string_and_ports() {
        let url = "https://helpline.example.org/twilio/voice/inbound?shift=42&lang=en";
        assert_eq!(
            compute(TOKEN, url, &v2_params()),
            "fzxOtYs9WSHe7m2MOPPejtFiXIE="
        );
        assert_eq!(
            compute(
                TOKEN,
                "https://helpline.example.org:443/twilio/voice/inbound?shift=42&lang=en",
                &v2_params()
            ),
            "+7v9tWd8mrTnChwHTH44q0TiQNU="
        );
        assert_eq!(compute(TOKEN, url, &[]), "glChSw+Uv4r0goOpDVwYNDQ61z4=");
        assert!(is_valid(
            TOKEN,
            url,
            &v2_params(),
            b"",
            "+7v9tWd8mrTnChwHTH44q0TiQNU="
        ));
    }

    #[test]
    fn v3_json_body_is_covered_by_its_hash() {
        let url = "https://helpline.example.org/twilio/json?bodySHA256=7be7ef15405a070759439234b1431f7e8435071ed72dc35fa03fcce0c70b7999";
        let body = br#"{"event":"test","value":1}"#;
        let sig = "kJhR8DMVaFluIvHSJEsoNuxDa1E=";
        assert_eq!(compute(TOKEN, url, &[]), sig);
        assert!(is_valid(TOKEN, url, &[], body, sig));
        assert!(!is_valid(
            TOKEN,
            url,
            &[],
            br#"{"event":"test","value":2}"#,
            sig
        ));
    }

    #[test]
    fn v4_repeated_names_sign_each_distinct_value_once() {
        let p = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(compute(TOKEN, V0_URL, &p), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn tampering_with_anything_signed_is_rejected() {
        let sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        let mut changed = v0_params();
        changed[2].1 = "9".to_owned();
        assert!(!is_valid(TOKEN, V0_URL, &changed, b"", sig));
        let mut added = v0_params();
        added.push(("Extra".to_owned(), "1".to_owned()));
        assert!(!is_valid(TOKEN, V0_URL, &added, b"", sig));
        assert!(!is_valid(
            TOKEN,
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &v0_params(),
            b"",
            sig
        ));
        assert!(!is_valid(b"54321", V0_URL, &v0_params(), b"", sig));
        assert!(!is_valid(TOKEN, V0_URL, &v0_params(), b"", "not base64!"));
        assert!(!is_valid(TOKEN, V0_URL, &v0_params(), b"", ""));
    }

    #[test]
    fn url_variants_toggle_the_default_port() {
        assert_eq!(
            url_variants("http://example.org:8080/a?b=1"),
            vec!["http://example.org:8080/a?b=1", "http://example.org/a?b=1"]
        );
        assert_eq!(
            url_variants("http://example.org/a"),
            vec!["http://example.org/a", "http://example.org:80/a"]
        );
    }

    /// Random text drawn from characters that are special in URLs, forms, XML or UTF-8.
    fn random_text(rng: &mut rand::rngs::StdRng, max: usize) -> String {
        use rand::Rng;
        const POOL: &[char] = &[
            'a', 'Z', '0', ' ', '&', '=', '+', '%', '?', '#', '/', '<', '"', '\'', 'é', '—', '✓',
            '😀', '中', '\n', '\u{7}',
        ];
        let len = rng.random_range(0..max);
        (0..len)
            .map(|_| POOL[rng.random_range(0..POOL.len())])
            .collect()
    }

    #[test]
    fn any_request_verifies_exactly_as_signed_after_a_trip_through_a_form_body() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(20_261_122);
        for _ in 0..500 {
            let url = format!(
                "https://peerline.example/twilio/voice?x={}",
                rng.random::<u16>()
            );
            let params: Vec<(String, String)> = (0..rng.random_range(1..8))
                .map(|i| {
                    (
                        format!("P{i}{}", random_text(&mut rng, 6)),
                        random_text(&mut rng, 30),
                    )
                })
                .collect();
            let signature = compute(TOKEN, &url, &params);
            // Twilio's form body, as the webhook extractor reads it back.
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            let parsed: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
            assert!(
                is_valid(TOKEN, &url, &parsed, body.as_bytes(), &signature),
                "{params:?}"
            );

            let mut changed = parsed.clone();
            changed[0].1.push('x');
            assert!(
                !is_valid(TOKEN, &url, &changed, b"", &signature),
                "a changed value"
            );
            let mut added = parsed.clone();
            added.push(("Extra".into(), "1".into()));
            assert!(
                !is_valid(TOKEN, &url, &added, b"", &signature),
                "an added parameter"
            );
            let moved = format!("{url}1");
            assert!(
                !is_valid(TOKEN, &moved, &parsed, b"", &signature),
                "another URL"
            );
            assert!(!is_valid(b"other-token", &url, &parsed, b"", &signature));
            let forged = random_text(&mut rng, 40);
            assert!(!is_valid(TOKEN, &url, &parsed, b"", &forged), "{forged:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_as_a_form_body_parse_without_panicking_and_never_verify() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let body: Vec<u8> = (0..rng.random_range(0..200))
                .map(|_| rng.random())
                .collect();
            let params: Vec<(String, String)> =
                form_urlencoded::parse(&body).into_owned().collect();
            let signature = STANDARD.encode(rng.random::<[u8; 20]>());
            assert!(!is_valid(TOKEN, V0_URL, &params, &body, &signature));
        }
    }
}
