//! When a quiet connection is closed, and with what reason.
//!
//! A connection that answers pings is alive, however long it stays silent: listeners that
//! never send (a pycrdt `Provider` after its sync, dashboards, bots, render workers,
//! recording clients) stay connected, as they do on the reference y-websocket server and
//! Hocuspocus, which also close only connections that stop answering pings. So by default a
//! connection is closed only after two ping intervals without any frame from it (a pong
//! counts).
//!
//! `--idle-timeout-secs` is an operator's opt-in on top of that: close connections that
//! answer pings but send no message for that long. It serves relays whose every client sends
//! presence (the editor and stock y-websocket clients renew theirs every 15 s), where such a
//! connection is a leftover (a stuck tab, a forgotten script) holding a seat under
//! `--max-conns-per-room` and `--max-conns-per-ip`. It cuts off silent listeners, so its
//! close reason says how to stay.

use std::time::Duration;

use shared::close;
use tokio::time::Instant;

use crate::close_reason::CloseReason;

/// What a connection has been heard sending, checked at every ping tick.
#[derive(Debug)]
pub struct Liveness {
    ping_every: Duration,
    idle_limit: Option<Duration>,
    last_heard: Instant,
    last_message: Instant,
}

impl Liveness {
    /// `idle_limit_secs` 0 means no idle limit (the default).
    pub fn new(ping_every: Duration, idle_limit_secs: u64) -> Liveness {
        let now = Instant::now();
        Liveness {
            ping_every,
            idle_limit: (idle_limit_secs > 0).then(|| Duration::from_secs(idle_limit_secs)),
            last_heard: now,
            last_message: now,
        }
    }

    /// Any frame arrived: a pong, a ping, a close, or a message.
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// A data message arrived (what the opt-in idle limit counts).
    pub fn message(&mut self) {
        self.last_message = self.last_heard;
    }

    /// At a ping tick: `Err` with the close reason if the connection should be closed.
    pub fn check(&self) -> Result<(), CloseReason> {
        if self.last_heard.elapsed() > self.ping_every * 2 {
            return Err(CloseReason::new(close::POLICY_VIOLATION, "no answer to pings"));
        }
        match self.idle_limit {
            Some(limit) if self.last_message.elapsed() > limit => Err(idle_close(limit)),
            _ => Ok(()),
        }
    }
}

/// The close for the opt-in idle limit: names the flag and how a client stays connected.
pub fn idle_close(limit: Duration) -> CloseReason {
    let reason = format!(
        "no message for {} s (relay's --idle-timeout-secs); send one (e.g. presence) more often to stay connected",
        limit.as_secs()
    );
    CloseReason::new(close::IDLE_TIMEOUT, reason)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    const PING: Duration = Duration::from_secs(25);

    #[tokio::test(start_paused = true)]
    async fn with_the_default_flags_a_connection_that_answers_pings_stays_a_day() {
        let cli = crate::cli::Cli::try_parse_from(["relay"]).expect("the defaults parse");
        let ping = cli.serve.config.ping_interval();
        let mut live = Liveness::new(ping, cli.serve.config.idle_timeout_secs);
        // A day of pongs and no message (the relay's old default closed it after 10 minutes).
        for _ in 0..(24 * 3600 / ping.as_secs()) {
            tokio::time::advance(ping).await;
            live.heard();
            assert_eq!(live.check(), Ok(()));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_answers_no_pings_is_closed_after_two_intervals() {
        let live = Liveness::new(PING, 0);
        tokio::time::advance(PING * 2).await;
        assert_eq!(live.check(), Ok(()), "two intervals are allowed");
        tokio::time::advance(Duration::from_millis(1)).await;
        let closed = live.check().unwrap_err();
        assert_eq!((closed.code, closed.reason.as_str()), (close::POLICY_VIOLATION, "no answer to pings"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_opt_in_idle_limit_counts_messages_not_pongs() {
        let mut live = Liveness::new(PING, 60);
        tokio::time::advance(Duration::from_secs(50)).await;
        live.heard();
        live.message();
        tokio::time::advance(Duration::from_secs(50)).await;
        live.heard();
        assert_eq!(live.check(), Ok(()), "a message 50 s ago");
        tokio::time::advance(Duration::from_secs(20)).await;
        live.heard();
        let closed = live.check().unwrap_err();
        assert_eq!(closed.code, close::IDLE_TIMEOUT);
        assert!(closed.reason.contains("--idle-timeout-secs") && closed.reason.contains("60 s"), "{}", closed.reason);
    }

    #[test]
    fn the_idle_reason_fits_a_close_frame_whole() {
        let reason = idle_close(Duration::from_secs(u64::MAX)).reason;
        assert!(reason.len() <= 123 && reason.ends_with("to stay connected"), "{} bytes: {reason}", reason.len());
    }
}
