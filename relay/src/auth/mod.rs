//! Who may join which room, as editor or viewer, and who they are.
//!
//! Three ways in, put together by [`Access`] (`access.rs`):
//!
//! - **Room tokens** are standard JWTs ([`claims`]): HS256 with the shared key of
//!   `--auth-key-file`, or EdDSA / ES256 / RS256 (and the rest of their families) with the
//!   public keys of a JWKS file (`--auth-jwks-file`), picked by the token's `kid`
//!   ([`keys`], [`jwks`]). Both files are read again on SIGHUP or when they change
//!   ([`reload`]), so keys rotate without a restart.
//! - **The auth webhook** (`--auth-webhook URL`, [`webhook`]): the relay asks the
//!   deployment's own service about a request's token or cookie; answers are cached for a
//!   while ([`cache`]); a hook that fails refuses the connection (fail closed).
//! - **An open relay** (neither): everybody is an editor.
//!
//! The relay also mints tokens ([`mint`]): `relay token` on the command line (HS256, or a
//! given private key), and share links (`POST {base}/api/rooms/{room}/share`, HS256 with the
//! key file's key).
//!
//! The format before JWTs (`base64(claims).base64(HMAC)`) is gone: such a token has two
//! parts instead of three and is refused as malformed (4401).

mod access;
mod cache;
pub mod claims;
pub mod jwks;
pub mod keys;
pub mod mint;
pub mod reload;
pub mod webhook;

use std::time::{SystemTime, UNIX_EPOCH};

use shared::close;

pub use access::{Access, AccessError, AccessSettings, HookUse};
pub use claims::{Claims, Credentials, Grant, Role};
pub use jsonwebtoken::Algorithm;
pub use keys::MIN_KEY_BYTES;
pub use mint::Signer;

/// A key file or JWKS file the relay cannot use.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading {path}: {error}")]
    Read { path: String, error: String },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: String },
    #[error("signing: {0}")]
    Signing(String),
}

/// Why a request is not let in. Each maps to one close code (and one HTTP status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("a token is required")]
    Missing,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("token algorithm {0} is not accepted")]
    Algorithm(String),
    #[error("no key for this token: {0}")]
    NoKey(String),
    #[error("token algorithm {alg} does not match key {kid} ({expected})")]
    AlgorithmMismatch { alg: String, kid: String, expected: String },
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("token is for another audience or issuer")]
    WrongAudience,
    #[error("token is for another room")]
    WrongRoom,
    /// The auth webhook said no (HTTP 401).
    #[error("refused by the auth service: {0}")]
    Refused(String),
    /// The auth webhook said no (HTTP 403).
    #[error("not allowed by the auth service: {0}")]
    Forbidden(String),
    /// The auth webhook did not answer in time, failed, or answered nonsense.
    #[error("auth service unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// The WebSocket close code a connection refused for this reason gets.
    pub fn close_code(&self) -> u16 {
        match self {
            AuthError::WrongRoom | AuthError::Forbidden(_) => close::FORBIDDEN,
            AuthError::Unavailable(_) => close::AUTH_UNAVAILABLE,
            _ => close::UNAUTHORIZED,
        }
    }

    /// The HTTP status a request refused for this reason gets.
    pub fn http_status(&self) -> u16 {
        match self.close_code() {
            close::FORBIDDEN => 403,
            close::AUTH_UNAVAILABLE => 503,
            _ => 401,
        }
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The subprotocol prefix that carries a token (browsers cannot set headers on a WebSocket).
pub const SUBPROTOCOL_PREFIX: &str = "token.";
