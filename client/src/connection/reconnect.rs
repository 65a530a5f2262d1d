//! Reconnecting to the relay: the loop that runs one session after another ([`run`]), the
//! backoff between attempts (with jitter, so a restarted relay is not hit by every client at
//! once), the wait that counts down in the header and can be cut short by "Reconnect now",
//! and the words for why a connection closed.

use std::time::Duration;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_timers::future::sleep;
use leptos::prelude::*;
use shared::close;

use super::session::{self, Live, SESSION_OBSERVER};
use super::status::{ConnectionState, Status};
use crate::deletion::{self, Deletion, LocalCopy};

/// Runs sessions for as long as the page is open, with backoff between them; `retry_rx`
/// cuts a wait short ("Reconnect now"). Stops for good once the room was deleted.
pub(super) async fn run(mut live: Live, mut retry_rx: mpsc::UnboundedReceiver<()>, deletion: Deletion) {
    let status = live.status;
    let mut failures: u32 = 0;
    loop {
        if deletion.is_deleted() {
            // Learned from another tab (this one was offline): stop here too.
            status.state.set(ConnectionState::Offline);
            status.retry_in_secs.set(None);
            status.problem.set(Some(describe_close(close::ROOM_UNAVAILABLE, deletion::DELETED_REASON)));
            return;
        }
        status.state.set(ConnectionState::Connecting);
        status.retry_in_secs.set(None);
        // States sent while offline: only the latest matters.
        while let Ok(state) = live.presence_rx.try_recv() {
            live.presence.set_state(state);
        }
        let end = session::run(&mut live).await;
        live.meter.attach(None);
        let _ = live.doc.unobserve_update_v1(SESSION_OBSERVER);
        live.presence.forget_peers();
        status.peers.set(Vec::new());
        status.state.set(ConnectionState::Offline);

        let reconnect = match &end.close {
            Some((code, reason)) => {
                let normal = *code == close::NORMAL || *code == close::GOING_AWAY;
                let problem = if end.opened {
                    describe_close(*code, reason)
                } else {
                    format!("cannot reach the relay (code {code})")
                };
                status.problem.set((!normal || !reason.is_empty() || !end.opened).then_some(problem));
                if deletion::after_close(*code, reason) == LocalCopy::Discard {
                    deletion.learn();
                }
                *code == close::NORMAL || close::should_reconnect(*code)
            }
            None => {
                status.problem.set(Some(end.error.unwrap_or_else(|| "connection lost".to_owned())));
                true
            }
        };
        failures = if end.synced { 0 } else { failures.saturating_add(1) };

        if deletion.is_deleted() {
            return; // for good: see `deletion/`
        }
        if reconnect {
            let delay = backoff_ms(failures);
            leptos::logging::log!("relay connection ended; reconnecting in {delay} ms");
            wait_or_retry(delay, status, &mut retry_rx).await;
        } else {
            // Retrying would fail the same way: wait for the user's "Reconnect".
            if retry_rx.next().await.is_none() {
                return;
            }
        }
        // Several clicks while waiting count as one.
        while retry_rx.try_recv().is_ok() {}
    }
}

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

