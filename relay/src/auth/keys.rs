//! Verifying room tokens: the keys the relay trusts and how a token's key is picked.
//!
//! A [`KeySet`] holds the shared HS256 key of `--auth-key-file` (which can also sign: share
//! links) and the public keys of `--auth-jwks-file`, each with its algorithm. A token is
//! checked against exactly the keys its header points at:
//!
//! - with a `kid`: the JWKS key of that id, and only if its algorithm is the token's `alg`
//!   (an HS256 token naming an RS256 key is refused: the classic algorithm confusion, where
//!   the public key would serve as an HMAC secret, cannot happen); an HS256 token whose
//!   `kid` no JWKS key has is checked with the key file's key;
//! - without one: the key file's key for HS256, and every JWKS key of the token's algorithm.
//!
//! `alg: none` is never accepted. `exp` is required (unless the relay allows links that
//! never expire), `nbf` and `iat` must not be in the future, all within the leeway.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::claims::{room_matches, Claims, Grant};
use super::mint::Signer;
use super::{unix_now, AuthError, KeyError};

/// Shortest shared key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// One key a token may be checked with.
pub struct VerifyingKey {
    /// The JWKS `kid`; `None` for the key file's key.
    pub kid: Option<String>,
    pub alg: Algorithm,
    key: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey({:?}, kid {:?})", self.alg, self.kid)
    }
}

impl VerifyingKey {
    pub fn new(kid: Option<String>, alg: Algorithm, key: DecodingKey) -> Self {
        VerifyingKey { kid, alg, key }
    }

    fn name(&self) -> String {
        self.kid.clone().unwrap_or_else(|| "from --auth-key-file".to_owned())
    }
}

/// How tokens are checked besides their signature.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
    /// When set, tokens must carry this `aud`.
    pub audience: Option<String>,
    /// When set, tokens must carry this `iss`.
    pub issuer: Option<String>,
    /// Tokens without `exp` are accepted (the relay mints links that never expire).
    pub allow_no_exp: bool,
}

/// The keys the relay trusts now.
#[derive(Default)]
pub struct KeySet {
    /// The key file's key: verifies HS256 tokens and signs the relay's own.
    shared: Option<(VerifyingKey, Signer)>,
    /// The JWKS file's keys.
    published: Vec<VerifyingKey>,
}

impl KeySet {
    pub fn new(shared_secret: Option<Vec<u8>>, published: Vec<VerifyingKey>) -> Result<KeySet, KeyError> {
        let shared = match shared_secret {
            None => None,
            Some(secret) => {
                let verifying = DecodingKey::from_secret(&secret).map_err(|e| KeyError::Signing(e.to_string()))?;
                Some((VerifyingKey::new(None, Algorithm::HS256, verifying), Signer::shared(&secret)?))
            }
        };
        Ok(KeySet { shared, published })
    }

    /// Reads a shared key file (surrounding whitespace ignored; at least [`MIN_KEY_BYTES`]).
    pub fn read_shared_secret(path: &Path) -> Result<Vec<u8>, KeyError> {
        let raw = std::fs::read(path).map_err(|e| KeyError::Read { path: path.display().to_string(), error: e.to_string() })?;
        let secret = String::from_utf8_lossy(&raw).trim().as_bytes().to_vec();
        if secret.len() < MIN_KEY_BYTES {
            return Err(KeyError::Invalid {
                path: path.display().to_string(),
                problem: format!("the key must be at least {MIN_KEY_BYTES} bytes, got {}", secret.len()),
            });
        }
        Ok(secret)
    }

    pub fn is_empty(&self) -> bool {
        self.shared.is_none() && self.published.is_empty()
    }

    /// The key that signs the relay's own tokens (share links), if it has one.
    pub fn signer(&self) -> Option<&Signer> {
        self.shared.as_ref().map(|(_, signer)| signer)
    }

    /// The `kid`s of the JWKS keys (for the log).
    pub fn published_ids(&self) -> Vec<String> {
        self.published.iter().map(VerifyingKey::name).collect()
    }

    /// Checks `token` for `room`; returns what it grants.
    pub fn verify(&self, token: &str, room: &str, rules: &Rules) -> Result<Grant, AuthError> {
        let header = header(token)?;
        let candidates = self.candidates(&header)?;
        let mut outcome = Err(AuthError::BadSignature);
        for key in candidates {
            outcome = check(token, key, rules);
            if outcome != Err(AuthError::BadSignature) {
                break;
            }
        }
        let claims = outcome?;
        if !room_matches(&claims.room, room) {
            return Err(AuthError::WrongRoom);
        }
        Ok(Grant { role: claims.role, id: claims.sub, name: None })
    }

    fn candidates(&self, header: &jsonwebtoken::Header) -> Result<Vec<&VerifyingKey>, AuthError> {
        let alg = header.alg;
        let shared = self.shared.as_ref().map(|(key, _)| key).filter(|key| key.alg == alg);
        if let Some(kid) = &header.kid {
            if let Some(key) = self.published.iter().find(|key| key.kid.as_deref() == Some(kid.as_str())) {
                if key.alg != alg {
                    return Err(AuthError::AlgorithmMismatch { alg: format!("{alg:?}"), kid: kid.clone(), expected: format!("{:?}", key.alg) });
                }
                return Ok(vec![key]);
            }
            return shared.map(|key| vec![key]).ok_or_else(|| AuthError::NoKey(format!("kid {kid:?}")));
        }
        let keys: Vec<&VerifyingKey> = shared.into_iter().chain(self.published.iter().filter(|key| key.alg == alg)).collect();
        if keys.is_empty() {
            return Err(AuthError::NoKey(format!("no {alg:?} key")));
        }
        Ok(keys)
    }
}

/// The token's header; `alg: none` (which jsonwebtoken does not even parse) gets a reason
/// of its own.
fn header(token: &str) -> Result<jsonwebtoken::Header, AuthError> {
    if token.split('.').count() != 3 {
        return Err(AuthError::Malformed("a JWT has three parts".into()));
    }
    jsonwebtoken::decode_header(token).map_err(|error| match raw_alg(token) {
        Some(alg) if alg.parse::<Algorithm>().is_err() => AuthError::Algorithm(alg),
        _ => AuthError::Malformed(format!("header: {error}")),
    })
}

/// The `alg` of a header jsonwebtoken refused, read by hand for the reason.
fn raw_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let part = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let alg = value.get("alg")?.as_str()?;
    Some(alg.chars().take(16).collect())
}

fn check(token: &str, key: &VerifyingKey, rules: &Rules) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(key.alg);
    validation.leeway = rules.leeway_secs;
    validation.validate_nbf = true;
    let mut required = Vec::new();
    if !rules.allow_no_exp {
        required.push("exp");
    }
    validation.validate_aud = rules.audience.is_some();
    if let Some(audience) = &rules.audience {
        validation.set_audience(&[audience]);
        required.push("aud");
    }
    if let Some(issuer) = &rules.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    validation.set_required_spec_claims(&required);
    let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation).map_err(|error| refusal(error, key))?.claims;
    if claims.iat.is_some_and(|iat| iat > unix_now().saturating_add(rules.leeway_secs)) {
        return Err(AuthError::NotYetValid);
    }
    Ok(claims)
}

fn refusal(error: jsonwebtoken::errors::Error, key: &VerifyingKey) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience | ErrorKind::InvalidIssuer => AuthError::WrongAudience,
        ErrorKind::InvalidAlgorithm => AuthError::AlgorithmMismatch { alg: "?".into(), kid: key.name(), expected: format!("{:?}", key.alg) },
        ErrorKind::MissingRequiredClaim(claim) => AuthError::Malformed(format!("the {claim} claim is required")),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::Malformed(format!("the {claim} claim is not a number")),
        ErrorKind::Json(e) => AuthError::Malformed(format!("claims: {e}")),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => AuthError::Malformed("not base64url JSON".into()),
        // A signature that does not verify, or does not even parse as one for this key.
        _ => AuthError::BadSignature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::claims::Role;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> KeySet {
        KeySet::new(Some(SECRET.to_vec()), Vec::new()).unwrap()
    }

    fn claims(room: &str, role: Role, exp: i64) -> Claims {
        let now = unix_now() as i64;
        Claims { room: room.into(), role, exp: Some((now + exp) as u64), nbf: None, iat: Some(now as u64), sub: Some("ada".into()) }
    }

    fn rules() -> Rules {
        Rules { leeway_secs: 5, ..Rules::default() }
    }

    #[test]
    fn minted_tokens_verify_for_their_room_and_role() {
        let keys = keys();
        let token = keys.signer().unwrap().mint(&claims("a", Role::Viewer, 60)).unwrap();
        let grant = keys.verify(&token, "a", &rules()).unwrap();
        assert_eq!((grant.role, grant.id.as_deref()), (Role::Viewer, Some("ada")));
        assert_eq!(keys.verify(&token, "b", &rules()), Err(AuthError::WrongRoom));
    }

    #[test]
    fn time_claims_are_checked_within_the_leeway() {
        let keys = keys();
        let signer = keys.signer().unwrap();
        let expired = signer.mint(&claims("a", Role::Editor, -60)).unwrap();
        assert_eq!(keys.verify(&expired, "a", &rules()), Err(AuthError::Expired));
        let just_expired = signer.mint(&claims("a", Role::Editor, -2)).unwrap();
        assert!(keys.verify(&just_expired, "a", &rules()).is_ok(), "within the leeway");
        let mut later = claims("a", Role::Editor, 600);
        later.nbf = Some(unix_now() + 300);
        assert_eq!(keys.verify(&signer.mint(&later).unwrap(), "a", &rules()), Err(AuthError::NotYetValid));
        let mut future = claims("a", Role::Editor, 600);
        future.iat = Some(unix_now() + 300);
        assert_eq!(keys.verify(&signer.mint(&future).unwrap(), "a", &rules()), Err(AuthError::NotYetValid));
        let mut forever = claims("a", Role::Editor, 0);
        forever.exp = None;
        let forever = signer.mint(&forever).unwrap();
        assert!(matches!(keys.verify(&forever, "a", &rules()), Err(AuthError::Malformed(_))), "exp is required");
        assert!(keys.verify(&forever, "a", &Rules { allow_no_exp: true, ..rules() }).is_ok());
    }

    #[test]
    fn forged_garbled_and_unsigned_tokens_are_refused() {
        let keys = keys();
        let token = keys.signer().unwrap().mint(&claims("a", Role::Viewer, 60)).unwrap();
        let other = KeySet::new(Some(vec![7; 32]), Vec::new()).unwrap();
        assert_eq!(other.verify(&token, "a", &rules()), Err(AuthError::BadSignature));
        let (head, _) = token.rsplit_once('.').unwrap();
        let (_, body) = head.split_once('.').unwrap();
        let none = format!("{}.{body}.", base64_json(r#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(keys.verify(&none, "a", &rules()), Err(AuthError::Algorithm("none".into())));
        assert!(matches!(keys.verify("abc.def", "a", &rules()), Err(AuthError::Malformed(_))), "the old two-part format");
        assert!(matches!(keys.verify("x.y.z", "a", &rules()), Err(AuthError::Malformed(_))));
    }

    fn base64_json(json: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }
}
