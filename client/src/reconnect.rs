//! Reconnecting to the relay: the backoff between attempts (with jitter, so a restarted relay
//! is not hit by every client at once), the wait that counts down in the header and can be cut
//! short by "Reconnect now", and the words for why a connection closed. Split out of
//! [`crate::connection`], which runs the sessions.

use std::time::Duration;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_timers::future::sleep;
use leptos::prelude::*;
use shared::close;

use crate::connection::Status;

/// First reconnect delay; doubled after every failed attempt.
const BACKOFF_START_MS: u32 = 500;
/// Longest wait between two attempts.
const BACKOFF_CAP_MS: u32 = 10_000;

/// Delay before the next attempt: 0.5 s, 1 s, 2 s, … capped at 10 s, with ±20 % jitter so a
/// restarted relay is not hit by every client at once.
pub fn backoff_ms(failures: u32) -> u32 {
    let base = BACKOFF_START_MS.saturating_mul(1 << failures.min(8)).min(BACKOFF_CAP_MS);
    let jitter = 0.8 + 0.4 * js_sys::Math::random();
    (base as f64 * jitter) as u32
}

/// Sleeps `delay_ms`, counting down in `status.retry_in_secs`, or until the user asks to
/// reconnect now.
pub async fn wait_or_retry(delay_ms: u32, status: Status, retry_rx: &mut mpsc::UnboundedReceiver<()>) {
    let mut left = delay_ms;
    while left > 0 {
        status.retry_in_secs.set(Some(left.div_ceil(1000)));
        let step = left.min(1000);
        if let Either::Right(_) = select(sleep(Duration::from_millis(step as u64)), retry_rx.next()).await {
            break;
        }
        left -= step;
    }
    status.retry_in_secs.set(None);
}

pub fn describe_close(code: u16, reason: &str) -> String {
    let meaning = close::describe(code);
    if reason.is_empty() {
        format!("{meaning} (code {code})")
    } else {
        format!("{meaning} (code {code}): {reason}")
    }
}

