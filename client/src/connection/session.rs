//! One session with the relay, from opening the socket to its close: the handshake, then
//! frames both ways (the relay's through [`super::incoming`]; local document changes, our
//! awareness state, presence renewals and round-trip probes out), until the socket closes or
//! a send fails. What comes next is the reconnect loop's (`reconnect.rs`).

use std::time::Duration;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::{stream, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message as WsMessage, WebSocketError};
use gloo_timers::future::{sleep, IntervalStream};
use leptos::prelude::*;
use shared::protocol;
use yrs::{Doc, ReadTxn, Transact, TransactionMut};

use super::early;
use super::incoming::{from_relay, handle_frame};
use super::status::{ConnectionState, Status};
use crate::access::Access;
use crate::perf::meter::Meter;
use crate::presence::{now_ms, Presence};

/// Key of the document observer that feeds the live session.
pub(super) const SESSION_OBSERVER: &str = "session";

/// How long the socket may take to open before the attempt counts as failed.
const OPEN_TIMEOUT_MS: u64 = 10_000;
/// How often the session checks its awareness renewal and peer expiry.
const TICK_MS: u32 = 5_000;

/// What every session runs with, owned by the reconnect loop from one session to the next.
pub(super) struct Live {
    pub doc: Doc,
    pub url: String,
    pub token: Option<String>,
    /// Our awareness state and the peers'.
    pub presence: Presence,
    /// Whether we may write (a viewer's session sends no change).
    pub access: Access,
    pub status: Status,
    pub presence_rx: mpsc::UnboundedReceiver<String>,
    pub meter: Meter,
}

/// How a session ended.
#[derive(Default)]
pub(super) struct SessionEnd {
    /// The close frame's code and reason, when the socket got that far.
    pub close: Option<(u16, String)>,
    /// What went wrong otherwise.
    pub error: Option<String>,
    /// Whether the socket opened at all.
    pub opened: bool,
    /// Whether the session reached "synced" (then the backoff starts over).
    pub synced: bool,
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
pub(super) async fn run(live: &mut Live) -> SessionEnd {
    let Live { doc, url, token, presence, access, status, presence_rx, meter } = live;
    let (url, token, status, access) = (url.as_str(), token.as_deref(), *status, *access);
    let mut end = SessionEnd::default();
    // The socket the page opened before the editor ran (the first session only), with what
    // the relay sent it meanwhile; or a new one. Keep a handle on the browser's socket:
    // gloo's wrapper does not close it when dropped. Browsers cannot set headers on a
    // WebSocket: the token travels as a subprotocol, which the relay echoes.
    let (opened, received) = match early::take(url, token) {
        Some(early) => (Ok(early.socket), early.received),
        None => (
            match token {
                Some(token) => web_sys::WebSocket::new_with_str(url, &format!("token.{token}")),
                None => web_sys::WebSocket::new(url),
            },
            Vec::new(),
        ),
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
    // Frames go out through the browser's socket itself: gloo's sink sends bytes as a Blob,
    // which the browser reads asynchronously before sending, and on a page still starting
    // that delayed the first frames by ~200 ms.
    let incoming = socket;

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
        stream::iter(received.into_iter().map(|message| Event::Net(Ok(message))))
            .chain(incoming.map(Event::Net))
            .chain(stream::once(futures_util::future::ready(Event::NetEnded))),
        stream::select(
            stream::select(local_rx.map(Event::Local), presence_rx.by_ref().map(Event::Presence)),
            stream::select(IntervalStream::new(TICK_MS).map(|_| Event::Tick), IntervalStream::new(1000).map(|_| Event::Probe)),
        ),
    );

    let mut send_error = match opened {
        Ok(()) => {
            end.opened = true;
            crate::marks::mark(crate::marks::SOCKET_OPEN);
            status.state.set(ConnectionState::Syncing);
            meter.attach(Some(raw.clone()));
            let hello = protocol::sync_step1(&doc.transact().state_vector());
            let announce = presence.announce(now_ms());
            meter.sent(&hello);
            meter.sent(&announce);
            send(&raw, &hello).and_then(|()| send(&raw, &announce)).err()
        }
        Err(error) => Some(error),
    };

    while send_error.is_none() {
        let Some(event) = events.next().await else { break };
        let outgoing: Vec<Vec<u8>> = match event {
            Event::Net(Ok(WsMessage::Bytes(frame))) => {
                meter.received(&frame);
                handle_frame(doc, presence, access, status, meter, &frame, &mut end.synced)
            }
            Event::Net(Ok(WsMessage::Text(_))) => Vec::new(), // the protocol is binary only
            Event::Net(Err(WebSocketError::ConnectionClose(event))) => {
                end.close = Some((event.code, event.reason));
                Vec::new()
            }
            Event::Net(Err(_)) => Vec::new(), // an "error" event; the close event follows
            Event::NetEnded => break,
            Event::Local(update) if access.can_edit_now() => vec![protocol::update(update)],
            // A viewer's page writes nothing; should another tab's edit arrive here anyway,
            // it stays local (the relay would refuse it).
            Event::Local(_) => Vec::new(),
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
            if let Err(error) = send(&raw, &frame) {
                send_error = Some(error);
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

/// Queues `frame` on the socket as binary.
fn send(socket: &web_sys::WebSocket, frame: &[u8]) -> Result<(), String> {
    socket.send_with_u8_array(frame).map_err(|error| format!("cannot send: {error:?}"))
}
