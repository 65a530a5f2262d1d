//! The WebSocket session with the relay, and the reconnect loop around it.
//!
//! One session: open `ws(s)://<this page's directory>/ws/<room>`, send SyncStep1 (our state
//! vector) and our awareness state, answer the relay's SyncStep1 with a SyncStep2 (this is how
//! edits made while offline reach the room), apply its SyncStep2 (then we are "synced") and its
//! updates, and send every local document change as an update. When the socket closes, the loop
//! waits with exponential backoff (capped at 10 s) and starts a new session; close codes that
//! `shared::close` says not to retry are shown to the user, who can retry by hand. A room
//! deleted by an administrator ([`crate::deletion`]) ends the loop for good: a new session
//! would upload the old document into the fresh room.
//!
//! The state the UI shows lives in [`Status`] signals; the document and the presence table are
//! owned by the loop's task. The UI sends our awareness state (as JSON, at most at the
//! adaptive streaming rate: see [`crate::publish`]) over a channel; each one is announced at
//! once while connected, and the latest is announced when a session starts.
//!
//! For the performance view the session reports every frame it sends and receives to a
//! [`Meter`], sends a round-trip probe (`102`) every second, and asks for durable
//! acknowledgements. What a received frame does is in [`crate::incoming`]; the backoff
//! between sessions in [`crate::reconnect`].

use std::time::Duration;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::{stream, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message as WsMessage, WebSocketError};
use gloo_timers::future::{sleep, IntervalStream};
use leptos::prelude::*;
use shared::close;
use shared::protocol;
use yrs::{Doc, ReadTxn, Transact, TransactionMut};

use crate::deletion::{self, Deletion, LocalCopy};
use crate::incoming::{from_relay, handle_frame, now_ms};
use crate::perf::meter::Meter;
use crate::reconnect::{backoff_ms, describe_close, wait_or_retry};
use crate::presence::{Peer, Presence};

/// Key of the document observer that feeds the live session.
const SESSION_OBSERVER: &str = "session";

/// How long the socket may take to open before the attempt counts as failed.
const OPEN_TIMEOUT_MS: u64 = 10_000;
/// How often the session checks its awareness renewal and peer expiry.
const TICK_MS: u32 = 5_000;

/// Where the connection to the relay stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Opening the WebSocket.
    Connecting,
    /// Open; waiting for the relay's answer to our state vector.
    Syncing,
    /// Open and up to date with the room.
    Synced,
    /// No connection: waiting to retry, or stopped after an error.
    Offline,
}

impl ConnectionState {
    /// The word shown in the page and read by browser tests.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Syncing => "syncing",
            ConnectionState::Synced => "synced",
            ConnectionState::Offline => "offline",
        }
    }
}

/// What the UI shows about the connection. All fields are signals, so the struct is `Copy`.
#[derive(Clone, Copy)]
pub struct Status {
    pub state: RwSignal<ConnectionState>,
    /// Why the last connection ended, when it did not end normally.
    pub problem: RwSignal<Option<String>>,
    /// Seconds until the next automatic attempt, while offline and retrying.
    pub retry_in_secs: RwSignal<Option<u32>>,
    /// The other clients in the room.
    pub peers: RwSignal<Vec<Peer>>,
    retry: StoredValue<mpsc::UnboundedSender<()>>,
}

impl Status {
    /// Asks the loop to reconnect now instead of waiting for its backoff.
    pub fn retry_now(&self) {
        self.retry.with_value(|tx| {
            let _ = tx.unbounded_send(());
        });
    }
}

/// Starts syncing `doc` with `room` through the relay that served this page. The loop runs as
/// long as the page is open; its first session starts once `ready` fires (or is dropped):
/// after the copy kept on this device is loaded, so the handshake uploads what the relay
/// lacks of it. `state` is our first awareness state; later ones come over `presence_rx`.
/// No session starts once `deletion` says the room was deleted.
#[allow(clippy::too_many_arguments)] // what the loop owns, each passed once from the app
pub fn connect(
    doc: Doc,
    room: &str,
    token: Option<String>,
    state: String,
    presence_rx: mpsc::UnboundedReceiver<String>,
    meter: Meter,
    ready: futures_channel::oneshot::Receiver<()>,
    deletion: Deletion,
) -> Status {
    let (retry_tx, retry_rx) = mpsc::unbounded();
    let status = Status {
        state: RwSignal::new(ConnectionState::Connecting),
        problem: RwSignal::new(None),
        retry_in_secs: RwSignal::new(None),
        peers: RwSignal::new(Vec::new()),
        retry: StoredValue::new(retry_tx),
    };
    let url = socket_url(room);
    let presence = Presence::new(doc.client_id(), state);
    leptos::task::spawn_local(async move {
        let _ = ready.await;
        run(doc, url, token, presence, status, retry_rx, presence_rx, meter, deletion).await
    });
    status
}

/// The WebSocket URL of `room` on the relay that served this page: same origin, `ws:` or
/// `wss:`, under the page's directory, so the app also works under a base path like `/collab/`.
/// It asks for durable acknowledgements (`acks=1`): the performance view counts unconfirmed
/// changes with them.
pub fn socket_url(room: &str) -> String {
    let location = web_sys::window().expect("a browser window").location();
    let scheme = if location.protocol().as_deref() == Ok("https:") { "wss:" } else { "ws:" };
    let host = location.host().unwrap_or_default();
    let path = location.pathname().unwrap_or_else(|_| "/".to_owned());
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    let room: String = js_sys::encode_uri_component(room).into();
    format!("{scheme}//{host}{dir}ws/{room}?acks=1")
}

/// Runs sessions forever, with backoff between them.
#[allow(clippy::too_many_arguments)] // what the loop owns, each passed once from `connect`
async fn run(
    doc: Doc,
    url: String,
    token: Option<String>,
    mut presence: Presence,
    status: Status,
    mut retry_rx: mpsc::UnboundedReceiver<()>,
    mut presence_rx: mpsc::UnboundedReceiver<String>,
    meter: Meter,
    deletion: Deletion,
) {
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
        while let Ok(state) = presence_rx.try_recv() {
            presence.set_state(state);
        }
        let end = session(&doc, &url, token.as_deref(), &mut presence, status, &mut presence_rx, &meter).await;
        meter.attach(None);
        let _ = doc.unobserve_update_v1(SESSION_OBSERVER);
        presence.forget_peers();
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
            return; // for good: see `crate::deletion`
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

/// How a session ended.
#[derive(Default)]
struct SessionEnd {
    /// The close frame's code and reason, when the socket got that far.
    close: Option<(u16, String)>,
    /// What went wrong otherwise.
    error: Option<String>,
    /// Whether the socket opened at all.
    opened: bool,
    /// Whether the session reached "synced" (then the backoff starts over).
    synced: bool,
}

/// Something the session reacts to.
enum Event {
    Net(Result<WsMessage, WebSocketError>),
    NetEnded,
    Local(Vec<u8>),
    /// Our new awareness state (JSON).
    Presence(String),
    Tick,
    /// Time for a round-trip probe.
    Probe,
}

/// One connection, from open to close.
async fn session(
    doc: &Doc,
    url: &str,
    token: Option<&str>,
    presence: &mut Presence,
    status: Status,
    presence_rx: &mut mpsc::UnboundedReceiver<String>,
    meter: &Meter,
) -> SessionEnd {
    let mut end = SessionEnd::default();
    // Keep a handle on the browser's socket: gloo's wrapper does not close it when dropped.
    // Browsers cannot set headers on a WebSocket: the token travels as a subprotocol, which
    // the relay echoes.
    let opened = match token {
        Some(token) => web_sys::WebSocket::new_with_str(url, &format!("token.{token}")),
        None => web_sys::WebSocket::new(url),
    };
    let raw = match opened {
        Ok(raw) => raw,
        Err(error) => {
            end.error = Some(format!("cannot open {url}: {error:?}"));
            return end;
        }
    };
    let mut socket = match WebSocket::try_from(raw.clone()) {
        Ok(socket) => socket,
        Err(error) => {
            end.error = Some(format!("cannot open {url}: {error}"));
            return end;
        }
    };

    // Wait for the socket to open or fail: gloo's sink turns ready once the socket is no longer
    // connecting (its "open" and "error" events wake it).
    let ready = futures_util::future::poll_fn(|cx| socket.poll_ready_unpin(cx));
    let opened = match select(ready, sleep(Duration::from_millis(OPEN_TIMEOUT_MS))).await {
        Either::Left(_) if raw.ready_state() == web_sys::WebSocket::OPEN => Ok(()),
        Either::Left(_) => Err(format!("cannot connect to {url}")),
        Either::Right(_) => Err(format!("no answer from {url} within {} s", OPEN_TIMEOUT_MS / 1000)),
    };
    let (mut sink, incoming) = socket.split();

    // Local changes from here on go to this session. Changes made while we were offline are
    // not lost: the relay's SyncStep1 makes us upload them as a SyncStep2.
    let (local_tx, local_rx) = mpsc::unbounded::<Vec<u8>>();
    if opened.is_ok() {
        let observed = doc.observe_update_v1(SESSION_OBSERVER, move |txn: &TransactionMut, event| {
            if !from_relay(txn) {
                let _ = local_tx.unbounded_send(event.update.clone());
            }
        });
        if let Err(error) = observed {
            end.error = Some(format!("cannot observe the document: {error}"));
            let _ = raw.close();
            return end;
        }
    }

    let mut events = stream::select(
        incoming.map(Event::Net).chain(stream::once(futures_util::future::ready(Event::NetEnded))),
        stream::select(
            stream::select(local_rx.map(Event::Local), presence_rx.by_ref().map(Event::Presence)),
            stream::select(IntervalStream::new(TICK_MS).map(|_| Event::Tick), IntervalStream::new(1000).map(|_| Event::Probe)),
        ),
    );

    let mut send_error = match opened {
        Ok(()) => {
            end.opened = true;
            status.state.set(ConnectionState::Syncing);
            meter.attach(Some(raw.clone()));
            let hello = protocol::sync_step1(&doc.transact().state_vector());
            let announce = presence.announce(now_ms());
            meter.sent(&hello);
            meter.sent(&announce);
            match sink.send(WsMessage::Bytes(hello)).await {
                Ok(()) => sink.send(WsMessage::Bytes(announce)).await.err().map(|e| e.to_string()),
                Err(error) => Some(error.to_string()),
            }
        }
        Err(error) => Some(error),
    };

    while send_error.is_none() {
        let Some(event) = events.next().await else { break };
        let outgoing: Vec<Vec<u8>> = match event {
            Event::Net(Ok(WsMessage::Bytes(frame))) => {
                meter.received(&frame);
                handle_frame(doc, presence, status, meter, &frame, &mut end.synced)
            }
            Event::Net(Ok(WsMessage::Text(_))) => Vec::new(), // the protocol is binary only
            Event::Net(Err(WebSocketError::ConnectionClose(event))) => {
                end.close = Some((event.code, event.reason));
                Vec::new()
            }
            Event::Net(Err(_)) => Vec::new(), // an "error" event; the close event follows
            Event::NetEnded => break,
            Event::Local(update) => vec![protocol::update(update)],
            Event::Presence(state) => {
                presence.set_state(state);
                vec![presence.announce(now_ms())]
            }
            Event::Tick => {
                let now = now_ms();
                if presence.expire(now) {
                    status.peers.set(presence.peers());
                }
                presence.renew_if_due(now).into_iter().collect()
            }
            Event::Probe => vec![meter.probe(now_ms())],
        };
        for frame in outgoing {
            meter.sent(&frame);
            if let Err(error) = sink.send(WsMessage::Bytes(frame)).await {
                send_error = Some(error.to_string());
                break;
            }
        }
    }

    if let Some(error) = send_error {
        // The socket failed under us (or never opened): close it, and collect its close event
        // for the code and reason, but do not wait long for it.
        end.error = Some(error);
        let _ = raw.close();
        let drain = async {
            while let Some(event) = events.next().await {
                match event {
                    Event::Net(Err(WebSocketError::ConnectionClose(event))) => return Some((event.code, event.reason)),
                    Event::NetEnded => return None,
                    Event::Presence(state) => presence.set_state(state),
                    _ => {}
                }
            }
            None
        };
        if let Either::Left((close, _)) = select(Box::pin(drain), sleep(Duration::from_secs(1))).await {
            end.close = close;
        }
    }
    end
}
