//! One WebSocket connection from its upgrade to its close.
//!
//! A single task per connection (a small footprint for idle connections) does three things
//! in one `select!`: writes the frames the room queued for it, reads the client's frames
//! and hands them to the room, and pings. It stops when the client leaves, when the room or
//! the relay asks it to, when the client breaks a limit (message rate; idle time, if the
//! operator set one), or when it has not even answered pings for two intervals (`liveness`);
//! every stop but the client's own sends a close code and a reason.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use shared::close;
use shared::protocol;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::admission::Admission;
use crate::auth::{Grant, Role};
use crate::handshake::WebSocket;
use crate::shared_socket::{Locked, SharedSocket};
use crate::state::AppState;

type WsError = tokio_tungstenite::tungstenite::Error;
use crate::close_reason::CloseReason;
use crate::liveness::Liveness;
use crate::outbound::{self, Work};
use crate::room::{JoinError, Member, Room};

/// What the upgrade handler learned about a connection before it joins.
pub struct Joining {
    pub room: String,
    pub wants_acks: bool,
    /// `?access=1`: tell the client what it may do before anything else (`MSG_ACCESS`).
    pub wants_access: bool,
    pub admission: Admission,
}

/// Serves one connection until it closes.
///
/// This future lives as long as its connection, idle or not, so its size is memory per
/// connection (BENCHMARKS.md, idle capacity). Two things keep it small: the futures it awaits
/// only now and then (joining, writing, closing) are boxed, so they take memory only while
/// they run; and it is an `async move` block over the arguments rather than an `async fn`,
/// which would keep the socket and `joining` twice (as arguments and as the locals they move
/// into). 2,496 bytes at first; 1,624 with the boxing; see the benchmark for now.
// Deliberately not an `async fn`: see above (its arguments would be kept twice).
#[allow(clippy::manual_async_fn)]
pub fn serve(socket: WebSocket, mut joining: Joining, app: Arc<AppState>) -> impl std::future::Future<Output = ()> + Send {
    // The only strong reference, held by the future: the socket closes when it ends, whatever
    // a room still holds (its outbox keeps a weak one, for direct writes). Made out here so
    // that the future does not keep a slot for the socket itself besides (1 KiB more per
    // idle connection when it was made inside).
    let shared = Arc::new(SharedSocket::new(socket, app.clone()));
    async move {
        let mut socket = shared.locked();
        // Use `joining` whole, so the block captures it whole: a `move` block captures only
        // the fields it uses, and the address slot in `joining.admission`, which counts this
        // connection against its address, must live as long as the connection.
        let joining = &mut joining;
        let room_name = &joining.room;
        if let Some(reason) = joining.admission.refusal.take() {
            tracing::info!(room = %room_name, ip = %joining.admission.ip, code = reason.code, reason = %reason.reason, "connection refused");
            app.instruments.closed(reason.code, true);
            Box::pin(send_close(&mut socket, reason)).await;
            return;
        }
        let grant = &joining.admission.grant;
        let role = grant.role;
        let conn = app.next_conn_id();
        // One signal for both ways a connection is told to go: its kick (the room's) and the
        // relay's shutdown; the loop below polls it on every wake-up.
        let kick = outbound::Kick::until(app.lifecycle.stop_signal_child());
        // On a one-worker runtime the rooms write to this socket themselves when nothing is
        // queued (no wake-up of this task per frame); with several workers, this task writes,
        // so that a broadcast's sends spread over them (see `outbound`).
        let direct = app.direct_writes.then(|| Arc::downgrade(&shared) as std::sync::Weak<dyn outbound::DirectWrite>);
        let (outbox, inbox) = outbound::channel_with(app.config.outbound_queue as usize, kick, direct);
        if joining.wants_access {
            // Ahead of the room's SyncStep1: a viewer's page knows before it could answer.
            outbox.offer_control(Bytes::from(protocol::access(&access_json(grant))));
        }
        let member = Member::new(outbox, joining.wants_acks, role).with_identity(grant.id.clone(), grant.name.clone());
        let joined = std::time::Instant::now();
        let room = match Box::pin(join(&app, room_name, conn, member)).await {
            Ok(room) => room,
            Err(reason) => {
                tracing::warn!(room = %room_name, conn, reason = %reason.reason, "join refused");
                app.instruments.closed(reason.code, true);
                Box::pin(send_close(&mut socket, reason)).await;
                return;
            }
        };
        app.instruments.join.observe(joined.elapsed().as_secs_f64());
        tracing::debug!(room = %room_name, conn, role = ?role, "joined");
        let counters = &app.counters;
        counters.connections_open.fetch_add(1, Relaxed);
        counters.connections_total.fetch_add(1, Relaxed);
        let _open = on_drop(|| {
            counters.connections_open.fetch_sub(1, Relaxed);
        });

        let limiter = rate_limiter(app.config.message_rate, app.config.message_burst);
        let ping_every = app.config.ping_interval();
        let mut ping = interval_at(Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut liveness = Liveness::new(ping_every, app.config.idle_timeout_secs);
        let write_timeout = ping_every * 2;

        // Made once, not per wake-up: a fresh one would register with the signal each time.
        let told_to_go = inbox.kick.requested();
        tokio::pin!(told_to_go);
        let reason = loop {
            tokio::select! {
                biased;
                _ = &mut told_to_go => {
                    break inbox.kick.reason().unwrap_or_else(|| CloseReason::new(close::GOING_AWAY, "relay shutting down"));
                }
                work = inbox.next() => {
                    let written = match work {
                        Work::Frame(frame) => Box::pin(write_queued(&mut socket, &inbox, frame, &app, write_timeout)).await,
                        Work::Flush => Box::pin(within_write_limit(write_timeout, socket.flush())).await,
                    };
                    if let Err(reason) = written {
                        break reason;
                    }
                    inbox.written();
                }
                incoming = socket.next() => {
                    liveness.heard();
                    match incoming {
                        Some(Ok(WsMessage::Binary(frame))) => {
                            liveness.message();
                            counters.frame_in(frame.len());
                            if limiter.check().is_err() {
                                break CloseReason::new(close::RATE_LIMITED, "too many messages: slow down and reconnect");
                            }
                            if role == Role::Viewer && carries_change(&frame) {
                                counters.viewer_writes_refused.fetch_add(1, Relaxed);
                            }
                            // Panics inside yrs are contained where they can happen; this is
                            // the last line: whatever happens, the connection leaves cleanly.
                            let started = std::time::Instant::now();
                            let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| room.handle_frame(conn, frame)))
                                .unwrap_or_else(|_| Err(CloseReason::new(close::INTERNAL_ERROR, "the relay could not handle that message")));
                            app.telemetry.record_handling(started.elapsed());
                            if let Err(reason) = handled {
                                if reason.code == close::INVALID_PAYLOAD {
                                    counters.closed_for_bad_input.fetch_add(1, Relaxed);
                                }
                                break reason;
                            }
                        }
                        Some(Ok(WsMessage::Text(_))) => {
                            break CloseReason::new(close::UNSUPPORTED_DATA, "binary frames only");
                        }
                        // (tungstenite never yields raw frames when reading.)
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {}
                        Some(Ok(WsMessage::Close(frame))) => {
                            // The client's own code (1005: it sent none).
                            app.instruments.closed(frame.map_or(1005, |f| u16::from(f.code)), false);
                            room.leave(conn);
                            tracing::debug!(room = %room_name, conn, "left");
                            return;
                        }
                        None => {
                            // Gone without a close frame: 1006, as browsers report it.
                            app.instruments.closed(1006, false);
                            room.leave(conn);
                            tracing::debug!(room = %room_name, conn, "left");
                            return;
                        }
                        Some(Err(error)) => {
                            let text = error.to_string();
                            let code = if text.contains("too long") || text.contains("too big") {
                                close::MESSAGE_TOO_BIG
                            } else {
                                close::POLICY_VIOLATION
                            };
                            break CloseReason::new(code, text);
                        }
                    }
                }
                _ = ping.tick() => {
                    if let Err(reason) = liveness.check() {
                        break reason;
                    }
                    if let Err(reason) = Box::pin(write(&mut socket, WsMessage::Ping(Bytes::new()), write_timeout)).await {
                        break reason;
                    }
                }
            }
        };
        room.leave(conn);
        app.instruments.closed(reason.code, true);
        if reason.code != close::NORMAL && reason.code != close::GOING_AWAY {
            tracing::info!(room = %room_name, conn, code = reason.code, reason = %reason.reason, "connection closed");
        }
        Box::pin(send_close(&mut socket, reason)).await;
    }
}

/// The `MSG_ACCESS` payload: the role, and who the relay knows this is.
fn access_json(grant: &Grant) -> String {
    let mut json = serde_json::json!({ "role": grant.role.as_str() });
    if let Some(id) = &grant.id {
        json["id"] = id.as_str().into();
    }
    if let Some(name) = &grant.name {
        json["name"] = name.as_str().into();
    }
    json.to_string()
}

/// Whether a frame holds a change to the document (counted for viewers, whose changes the
/// room refuses).
fn carries_change(frame: &[u8]) -> bool {
    protocol::decode_frame(frame).is_ok_and(|messages| messages.iter().any(protocol::is_change))
}

fn rate_limiter(per_second: u32, burst: u32) -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
}

/// Opens the room and joins it, retrying when the room was evicted in between.
async fn join(app: &AppState, room_name: &str, conn: u64, member: Member) -> Result<Arc<Room>, CloseReason> {
    for _ in 0..8 {
        let room = app.rooms.open(room_name).await.map_err(|error| {
            CloseReason::new(error.close_code(), format!("room unavailable: {error}"))
        })?;
        match room.join(conn, member.clone(), app.config.max_conns_per_room) {
            Ok(()) => return Ok(room),
            Err(JoinError::Evicted) => continue,
            Err(JoinError::Full) => {
                return Err(CloseReason::new(close::TRY_AGAIN_LATER, "room is full"));
            }
        }
    }
    Err(CloseReason::new(close::INTERNAL_ERROR, "room kept being reloaded; try again"))
}

/// Frames written per flush, at most: enough to turn a burst (a presence storm, a catch-up)
/// into a few large writes instead of one system call per frame, small enough that the
/// other arms of the connection's `select!` are not starved.
const FRAMES_PER_FLUSH: usize = 64;
const BYTES_PER_FLUSH: usize = 256 * 1024;

/// Writes `first` and whatever else is already queued (up to the limits above) with one
/// flush. Large frames go alone, under the relay's send budget.
async fn write_queued(socket: &mut Locked<'_>, inbox: &outbound::Inbox, first: Bytes, app: &AppState, limit: Duration) -> Result<(), CloseReason> {
    let counters = &app.counters;
    if first.len() > BYTES_PER_FLUSH {
        let _permit = app.admit_send(first.len()).await;
        let len = first.len();
        within_write_limit(limit, send_large(socket, first)).await?;
        counters.frame_out(len);
        return Ok(());
    }
    let batch = async {
        let (mut frames, mut bytes) = (1, first.len());
        socket.feed(WsMessage::Binary(first)).await?;
        counters.frame_out(bytes);
        while frames < FRAMES_PER_FLUSH && bytes < BYTES_PER_FLUSH {
            let Some(next) = inbox.try_next() else { break };
            let len = next.len();
            if len > BYTES_PER_FLUSH {
                // Too large to batch: flush what we have, then send it alone.
                socket.flush().await?;
                let _permit = app.admit_send(len).await;
                send_large(socket, next).await?;
                counters.frame_out(len);
                return Ok(());
            }
            socket.feed(WsMessage::Binary(next)).await?;
            counters.frame_out(len);
            frames += 1;
            bytes += len;
        }
        socket.flush().await
    };
    within_write_limit(limit, batch).await
}

async fn write(socket: &mut Locked<'_>, message: WsMessage, limit: Duration) -> Result<(), CloseReason> {
    within_write_limit(limit, socket.send(message)).await
}

/// Sends one large binary message straight from the shared frame: tungstenite's buffer is
/// flushed first, then the frame header (formatted by tungstenite) and the payload are
/// written to the socket itself. Through tungstenite, every joiner's copy of a 20 MB room
/// state was first copied into its write buffer (and moved again after partial writes);
/// this way the kernel copies it once, from the one frame every joiner shares. Nothing else
/// writes to the socket meanwhile: this connection's task is here, not reading, and the
/// outbox writes nothing directly while the task is writing.
async fn send_large(socket: &mut Locked<'_>, payload: Bytes) -> Result<(), WsError> {
    use tokio::io::AsyncWriteExt;
    socket.flush().await?;
    let mut header = Vec::with_capacity(16);
    FrameHeader { opcode: OpCode::Data(Data::Binary), ..FrameHeader::default() }.format(payload.len() as u64, &mut header)?;
    let mut io = socket.raw();
    io.write_all(&header).await?;
    io.write_all(&payload).await?;
    io.flush().await?;
    Ok(())
}

/// A write that fails closes the connection; one that takes longer than `limit` means the
/// client stopped reading.
async fn within_write_limit(limit: Duration, write: impl std::future::Future<Output = Result<(), WsError>>) -> Result<(), CloseReason> {
    let mut write = std::pin::pin!(write);
    // Most writes finish at once (the socket takes them): those arm no timer.
    let at_once = std::future::poll_fn(|cx| std::task::Poll::Ready(write.as_mut().poll(cx))).await;
    let outcome = match at_once {
        std::task::Poll::Ready(done) => Ok(done),
        std::task::Poll::Pending => tokio::time::timeout(limit, write).await,
    };
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(CloseReason::new(close::NORMAL, format!("write failed: {error}"))),
        Err(_) => Err(CloseReason::new(close::POLICY_VIOLATION, "client stopped reading")),
    }
}

async fn send_close(socket: &mut Locked<'_>, reason: CloseReason) {
    let frame = CloseFrame { code: CloseCode::from(reason.code), reason: reason.reason.into() };
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.send(WsMessage::Close(Some(frame)))).await;
}

/// Runs `f` when dropped: keeps the open-connection gauge right on every exit path.
fn on_drop<F: FnOnce()>(f: F) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
