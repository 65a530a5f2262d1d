//! The auth webhook's answers, kept for `--auth-webhook-cache-secs` so a page that
//! reconnects, or opens a room's blobs and restore points, does not ask the hook every time.
//!
//! Keyed by a SHA-256 of what was asked (room, token, cookie, origin), so the cache holds no
//! credential itself. Grants and refusals are kept; failures (timeouts, errors) never are,
//! so the next request asks again. At most [`MAX_ENTRIES`]: when full, expired answers go
//! first, and if none has expired the cache starts over.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use super::claims::{Credentials, Grant};
use super::AuthError;

/// Most answers kept.
pub const MAX_ENTRIES: usize = 10_000;

pub type Key = [u8; 32];

/// An answer and when it was given.
type Kept = (Instant, Result<Grant, AuthError>);

pub struct AnswerCache {
    ttl: Duration,
    entries: Mutex<HashMap<Key, Kept>>,
}

impl AnswerCache {
    pub fn new(ttl: Duration) -> AnswerCache {
        AnswerCache { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The key of one question.
    pub fn key(room: &str, credentials: &Credentials<'_>) -> Key {
        let mut hash = Sha256::new();
        for part in [Some(room), credentials.token, credentials.cookie, credentials.origin] {
            // Length-prefixed (absent ≠ empty), so no two questions share a key.
            match part {
                Some(text) => {
                    hash.update((text.len() as u64 + 1).to_le_bytes());
                    hash.update(text.as_bytes());
                }
                None => hash.update(0u64.to_le_bytes()),
            }
        }
        hash.finalize().into()
    }

    pub fn get(&self, key: &Key) -> Option<Result<Grant, AuthError>> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.entries.lock();
        match entries.get(key) {
            Some((until, answer)) if *until > Instant::now() => Some(answer.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps an answer (not a failure: see the module's doc).
    pub fn put(&self, key: Key, answer: &Result<Grant, AuthError>) {
        if self.ttl.is_zero() || matches!(answer, Err(AuthError::Unavailable(_))) {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (until, _)| *until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (now + self.ttl, answer.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::claims::Role;

    fn asked<'a>(token: Option<&'a str>, cookie: Option<&'a str>) -> Credentials<'a> {
        Credentials { token, cookie, origin: None }
    }

    #[test]
    fn answers_are_kept_for_their_time_and_failures_never() {
        let cache = AnswerCache::new(Duration::from_millis(200));
        let key = AnswerCache::key("r", &asked(Some("t"), None));
        cache.put(key, &Ok(Grant::role(Role::Viewer)));
        assert_eq!(cache.get(&key), Some(Ok(Grant::role(Role::Viewer))));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(cache.get(&key), None, "expired");
        cache.put(key, &Err(AuthError::Unavailable("timeout".into())));
        assert_eq!(cache.get(&key), None, "failures are not kept");
        cache.put(key, &Err(AuthError::Refused("no".into())));
        assert!(matches!(cache.get(&key), Some(Err(AuthError::Refused(_)))), "refusals are");
    }

    #[test]
    fn questions_differ_by_every_part() {
        let keys = [
            AnswerCache::key("r", &asked(Some("t"), None)),
            AnswerCache::key("r", &asked(None, Some("t"))),
            AnswerCache::key("r", &asked(Some(""), None)),
            AnswerCache::key("s", &asked(Some("t"), None)),
            AnswerCache::key("r", &Credentials { token: Some("t"), cookie: None, origin: Some("o") }),
        ];
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
    }

    #[test]
    fn a_zero_time_keeps_nothing() {
        let cache = AnswerCache::new(Duration::ZERO);
        let key = AnswerCache::key("r", &asked(Some("t"), None));
        cache.put(key, &Ok(Grant::open()));
        assert_eq!(cache.get(&key), None);
    }
}
