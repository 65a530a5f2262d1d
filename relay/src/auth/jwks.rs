//! Reading a JWKS file (RFC 7517: `{"keys": [...]}`), the form identity providers publish
//! their public keys in, into the keys tokens are checked with.
//!
//! Each key's algorithm is its `alg` when it has one, else the usual one for its type:
//! `OKP`/Ed25519 → EdDSA, `EC` P-256 → ES256, P-384 → ES384, `RSA` → RS256, `oct` → HS256
//! (a shared secret of at least 32 bytes, for deployments that rotate HMAC keys by `kid`).
//! A key the relay cannot use (an encryption key, an unknown type or curve, an algorithm
//! that does not fit its type) is skipped with a warning, as providers' sets often hold
//! such keys; a file with no usable key, or two keys with one `kid`, is an error.

use std::collections::HashSet;
use std::path::Path;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::keys::{VerifyingKey, MIN_KEY_BYTES};
use super::KeyError;

/// Reads and parses the JWKS file at `path`.
pub fn read(path: &Path) -> Result<Vec<VerifyingKey>, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| KeyError::Read { path: path.display().to_string(), error: e.to_string() })?;
    let (keys, skipped) = parse(&text).map_err(|problem| KeyError::Invalid { path: path.display().to_string(), problem })?;
    for why in skipped {
        tracing::warn!(file = %path.display(), "JWKS key skipped: {why}");
    }
    Ok(keys)
}

/// The usable keys of a JWKS document, and why each other key was skipped.
pub fn parse(text: &str) -> Result<(Vec<VerifyingKey>, Vec<String>), String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let entries = document.get("keys").and_then(Value::as_array).ok_or("no \"keys\" array")?;
    let (mut keys, mut skipped, mut ids) = (Vec::new(), Vec::new(), HashSet::new());
    for (index, entry) in entries.iter().enumerate() {
        let kid = entry.get("kid").and_then(Value::as_str).map(str::to_owned);
        let label = kid.clone().map_or_else(|| format!("key #{index}"), |kid| format!("key {kid:?}"));
        match key(entry) {
            Ok(Some((alg, decoding))) => {
                if let Some(kid) = &kid {
                    if !ids.insert(kid.clone()) {
                        return Err(format!("two keys have the kid {kid:?}"));
                    }
                }
                keys.push(VerifyingKey::new(kid, alg, decoding));
            }
            Ok(None) => skipped.push(format!("{label}: an encryption key")),
            Err(why) => skipped.push(format!("{label}: {why}")),
        }
    }
    if keys.is_empty() {
        return Err(format!("no usable key ({})", if skipped.is_empty() { "the set is empty".to_owned() } else { skipped.join("; ") }));
    }
    Ok((keys, skipped))
}

/// One entry: its algorithm and key, `None` for an encryption key.
fn key(entry: &Value) -> Result<Option<(Algorithm, DecodingKey)>, String> {
    if entry.get("use").and_then(Value::as_str) == Some("enc") {
        return Ok(None);
    }
    let kty = entry.get("kty").and_then(Value::as_str).ok_or("no kty")?;
    let curve = entry.get("crv").and_then(Value::as_str);
    let alg = match entry.get("alg").and_then(Value::as_str) {
        Some(alg) => alg.parse::<Algorithm>().map_err(|_| format!("algorithm {alg:?} is not supported"))?,
        None => match (kty, curve) {
            ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
            ("EC", Some("P-256")) => Algorithm::ES256,
            ("EC", Some("P-384")) => Algorithm::ES384,
            ("RSA", _) => Algorithm::RS256,
            ("oct", _) => Algorithm::HS256,
            _ => return Err(format!("key type {kty:?} {} is not supported", curve.unwrap_or(""))),
        },
    };
    let fits = match alg {
        Algorithm::EdDSA => kty == "OKP" && curve == Some("Ed25519"),
        Algorithm::ES256 => kty == "EC" && curve == Some("P-256"),
        Algorithm::ES384 => kty == "EC" && curve == Some("P-384"),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => kty == "oct",
        _ => kty == "RSA",
    };
    if !fits {
        return Err(format!("algorithm {alg:?} does not fit a {kty} {} key", curve.unwrap_or("")));
    }
    if kty == "oct" {
        let secret = entry.get("k").and_then(Value::as_str).ok_or("no k")?;
        let bytes = base64_len(secret).ok_or("k is not base64url")?;
        if bytes < MIN_KEY_BYTES {
            return Err(format!("a shared key must be at least {MIN_KEY_BYTES} bytes, got {bytes}"));
        }
    }
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| format!("not a JWK: {e}"))?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable: {e}"))?;
    Ok(Some((alg, decoding)))
}

fn base64_len(text: &str) -> Option<usize> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok().map(|b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8037's Ed25519 example key, and an RSA key's public half (RFC 7517 appendix A.1).
    const ED: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    const RSA: &str = r#"{"kty":"RSA","kid":"rsa","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}"#;

    #[test]
    fn keys_get_their_types_algorithm_and_keep_their_ids() {
        let (keys, skipped) = parse(&format!(r#"{{"keys":[{ED},{RSA}]}}"#)).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        let found: Vec<(Option<&str>, Algorithm)> = keys.iter().map(|k| (k.kid.as_deref(), k.alg)).collect();
        assert_eq!(found, [(Some("ed"), Algorithm::EdDSA), (Some("rsa"), Algorithm::RS256)]);
    }

    #[test]
    fn unusable_keys_are_skipped_and_an_empty_set_refused() {
        let enc = RSA.replace("\"kid\":\"rsa\"", "\"kid\":\"enc\",\"use\":\"enc\"");
        let wrong = ED.replace("\"kid\":\"ed\"", "\"kid\":\"wrong\",\"alg\":\"RS256\"");
        let short = r#"{"kty":"oct","kid":"short","k":"c2hvcnQ"}"#;
        let (keys, skipped) = parse(&format!(r#"{{"keys":[{ED},{enc},{wrong},{short}]}}"#)).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(parse(r#"{"keys":[]}"#).is_err());
        assert!(parse("[]").is_err());
        assert!(parse(&format!(r#"{{"keys":[{ED},{ED}]}}"#)).unwrap_err().contains("two keys"));
    }
}
