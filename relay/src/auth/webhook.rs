//! The auth webhook (`--auth-webhook URL`): for deployments whose sign-in lives elsewhere,
//! the relay asks their service whether a request may into a room, the way Hocuspocus'
//! `onAuthenticate` or y-sweet's token endpoint are used.
//!
//! Request: `POST URL` with `{"room", "token", "cookie", "origin"}` (JSON; absent ones are
//! `null`). Answers:
//!
//! - `2xx` with `{"role": "editor"|"viewer", "name"?: "…", "id"?: "…"}`: let in, with that
//!   role; `name` and `id`, when given, are stamped into the person's presence;
//! - `401` or `403` (optionally `{"reason": "…"}`): refused (close codes 4401 / 4403);
//! - anything else (another status, a body that is not such JSON, no answer within
//!   `--auth-webhook-timeout-ms`, no connection): the relay **fails closed**, refusing with
//!   4502 and counting the failure (`relay_auth_webhook_answers{outcome="failed"}`).
//!
//! Plain HTTP/1.1 only: run the hook beside the relay, or behind a local proxy that speaks
//! TLS to it.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use super::cache::AnswerCache;
use super::claims::{Credentials, Grant, Role};
use super::AuthError;

/// Largest answer read from the hook.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Longest name or id kept from an answer (characters).
const MAX_FIELD: usize = 200;

/// A webhook URL the relay cannot use.
#[derive(Debug, thiserror::Error)]
#[error("--auth-webhook {url}: {problem}")]
pub struct WebhookError {
    url: String,
    problem: String,
}

/// How an authorisation through the hook went, for the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Refused,
    Failed,
    /// Answered from the cache, without asking.
    Cached,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Cached => "cached",
        }
    }
}

#[derive(Serialize)]
struct Question<'a> {
    room: &'a str,
    token: Option<&'a str>,
    cookie: Option<&'a str>,
    origin: Option<&'a str>,
}

#[derive(Deserialize)]
struct Answer {
    role: Role,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct RefusalBody {
    #[serde(default)]
    reason: Option<String>,
}

pub struct Webhook {
    url: Uri,
    timeout: Duration,
    client: Client<HttpConnector, Full<Bytes>>,
    cache: AnswerCache,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhook({})", self.url)
    }
}

impl Webhook {
    pub fn new(url: &str, timeout: Duration, cache_for: Duration) -> Result<Webhook, WebhookError> {
        let problem = |problem: &str| WebhookError { url: url.to_owned(), problem: problem.to_owned() };
        let parsed: Uri = url.parse().map_err(|_| problem("not a URL"))?;
        match parsed.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(problem("https is not supported: reach the hook over plain HTTP (beside the relay, or through a local proxy)")),
            _ => return Err(problem("must start with http://")),
        }
        if parsed.host().is_none() {
            return Err(problem("has no host"));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Ok(Webhook { url: parsed, timeout, client, cache: AnswerCache::new(cache_for) })
    }

    /// Asks the hook (or its cache) about `credentials` for `room`.
    pub async fn ask(&self, room: &str, credentials: &Credentials<'_>) -> (Result<Grant, AuthError>, Outcome) {
        let key = AnswerCache::key(room, credentials);
        if let Some(answer) = self.cache.get(&key) {
            return (answer, Outcome::Cached);
        }
        let question = Question { room, token: credentials.token, cookie: credentials.cookie, origin: credentials.origin };
        let answer = match tokio::time::timeout(self.timeout, self.call(&question)).await {
            Ok(answer) => answer,
            Err(_) => Err(AuthError::Unavailable(format!("no answer within {} ms", self.timeout.as_millis()))),
        };
        let outcome = match &answer {
            Ok(_) => Outcome::Allowed,
            Err(AuthError::Unavailable(why)) => {
                tracing::warn!(url = %self.url, room, why, "auth webhook failed; the request is refused (fail closed)");
                Outcome::Failed
            }
            Err(_) => Outcome::Refused,
        };
        self.cache.put(key, &answer);
        (answer, outcome)
    }

    async fn call(&self, question: &Question<'_>) -> Result<Grant, AuthError> {
        let unavailable = |why: String| AuthError::Unavailable(why);
        let body = serde_json::to_vec(question).map_err(|e| unavailable(e.to_string()))?;
        let request = Request::post(self.url.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unavailable(e.to_string()))?;
        let response = self.client.request(request).await.map_err(|e| unavailable(format!("{e}")))?;
        let status = response.status();
        let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| unavailable(format!("reading the answer: {e}")))?
            .to_bytes();
        if status.is_success() {
            let answer: Answer = serde_json::from_slice(&bytes)
                .map_err(|e| unavailable(format!("the answer is not {{\"role\": \"editor\"|\"viewer\", …}}: {e}")))?;
            return Ok(Grant { role: answer.role, id: bounded(answer.id), name: bounded(answer.name) });
        }
        let reason = serde_json::from_slice::<RefusalBody>(&bytes)
            .ok()
            .and_then(|body| body.reason)
            .and_then(|reason| bounded(Some(reason)))
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("refused").to_owned());
        match status {
            StatusCode::UNAUTHORIZED => Err(AuthError::Refused(reason)),
            StatusCode::FORBIDDEN => Err(AuthError::Forbidden(reason)),
            other => Err(unavailable(format!("HTTP {}", other.as_u16()))),
        }
    }
}

/// A name or id from the hook: without control characters, at most [`MAX_FIELD`]
/// characters, `None` when nothing is left.
fn bounded(text: Option<String>) -> Option<String> {
    let text: String = text?.chars().filter(|c| !c.is_control()).take(MAX_FIELD).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_are_accepted() {
        let t = Duration::from_secs(1);
        assert!(Webhook::new("http://127.0.0.1:9/auth", t, t).is_ok());
        assert!(Webhook::new("https://auth.example/hook", t, t).unwrap_err().to_string().contains("https"));
        assert!(Webhook::new("auth.example/hook", t, t).is_err());
        assert!(Webhook::new("not a url", t, t).is_err());
    }

    #[test]
    fn names_from_the_hook_are_bounded() {
        assert_eq!(bounded(Some(" Ada\u{7}\n ".into())), Some("Ada".into()));
        assert_eq!(bounded(Some("\n".into())), None);
        assert_eq!(bounded(Some("x".repeat(500))).map(|s| s.len()), Some(MAX_FIELD));
    }
}
