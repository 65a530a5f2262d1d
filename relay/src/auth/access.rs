//! The relay's one answer to "who may into this room": [`Access::authorize`] puts the
//! token keys and the webhook together, for WebSockets and HTTP requests alike.
//!
//! Order: a token the keys accept lets in at once; otherwise, with a webhook, the hook
//! decides (it sees the token, if any, and the cookie: a deployment's own session may not
//! be a JWT at all); otherwise the keys' refusal stands. With neither keys nor a webhook
//! the relay is open and everybody is an editor.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::keys::{KeySet, Rules};
use super::KeyError;
use super::reload::{KeyFiles, KeyStore};
use super::webhook::{Outcome, Webhook, WebhookError};
use super::claims::Credentials;
use super::{AuthError, Grant};

/// The webhook's settings.
#[derive(Debug, Clone)]
pub struct HookUse {
    pub url: String,
    pub timeout: Duration,
    pub cache_for: Duration,
}

/// Everything access depends on, from the command line.
#[derive(Debug, Clone, Default)]
pub struct AccessSettings {
    pub files: KeyFiles,
    pub rules: Rules,
    pub webhook: Option<HookUse>,
    /// Longest lifetime of a share link; `None`: links that never expire are allowed.
    pub link_max_ttl: Option<Duration>,
}

/// Why access cannot be set up (the relay does not start).
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

type Labels = Vec<(&'static str, &'static str)>;

pub struct Access {
    keys: Option<Arc<KeyStore>>,
    rules: Rules,
    webhook: Option<Webhook>,
    link_max_ttl: Option<Duration>,
    /// `relay_auth_webhook_answers{outcome}`: registered by the telemetry.
    webhook_answers: Family<Labels, Counter>,
}

impl Access {
    pub fn new(settings: AccessSettings) -> Result<Access, AccessError> {
        let keys = if settings.files.is_empty() { None } else { Some(Arc::new(KeyStore::load(settings.files)?)) };
        let webhook = settings.webhook.map(|hook| Webhook::new(&hook.url, hook.timeout, hook.cache_for)).transpose()?;
        let mut rules = settings.rules;
        rules.allow_no_exp = settings.link_max_ttl.is_none();
        Ok(Access { keys, rules, webhook, link_max_ttl: settings.link_max_ttl, webhook_answers: Family::default() })
    }

    /// A relay anybody may use (tests).
    pub fn open() -> Access {
        Access { keys: None, rules: Rules::default(), webhook: None, link_max_ttl: None, webhook_answers: Family::default() }
    }

    /// Neither keys nor a webhook: everybody is an editor.
    pub fn is_open(&self) -> bool {
        self.keys.is_none() && self.webhook.is_none()
    }

    /// The key store, for the reload task.
    pub fn key_store(&self) -> Option<Arc<KeyStore>> {
        self.keys.clone()
    }

    /// The keys in use now (`None` without key files).
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        self.keys.as_ref().map(|store| store.current())
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Longest lifetime of a share link; `None`: links that never expire are allowed.
    pub fn link_max_ttl(&self) -> Option<Duration> {
        self.link_max_ttl
    }

    /// The webhook's answers by outcome, for the telemetry to register.
    pub fn webhook_answers(&self) -> Family<Labels, Counter> {
        self.webhook_answers.clone()
    }

    /// What `credentials` grant in `room`.
    pub async fn authorize(&self, room: &str, credentials: &Credentials<'_>) -> Result<Grant, AuthError> {
        if self.is_open() {
            return Ok(Grant::open());
        }
        let by_token = match (self.keys(), credentials.token) {
            (Some(keys), Some(token)) => Some(keys.verify(token, room, &self.rules)),
            (Some(_), None) => Some(Err(AuthError::Missing)),
            (None, _) => None,
        };
        match (by_token, &self.webhook) {
            (Some(Ok(grant)), _) => Ok(grant),
            (_, Some(hook)) => {
                let (answer, outcome) = hook.ask(room, credentials).await;
                self.count(outcome);
                answer
            }
            (Some(refusal), None) => refusal,
            (None, None) => Err(AuthError::Missing),
        }
    }

    fn count(&self, outcome: Outcome) {
        self.webhook_answers.get_or_create(&vec![("outcome", outcome.as_str())]).inc();
    }
}
