//! Tabs of the same room in this browser share their document and awareness through a
//! `BroadcastChannel` named after the room, with the y-websocket frames themselves: at start a
//! tab posts its state vector (SyncStep1) and its awareness state; the others answer with what
//! it lacks (SyncStep2). From then on every document change made in a tab, or received by it
//! from the relay, is posted as an update, and awareness changes as awareness frames. This
//! works offline too: the channel never leaves the browser.
//!
//! Changes received from another tab are applied with their own origin ([`FROM_TAB`]), so
//! they are not posted back; the relay session still uploads them (harmless: the relay
//! ignores what it has), and the local store does not save them again (the sending tab did).
//!
//! When the room was deleted ([`crate::deletion`]), a tab posts [`ROOM_DELETED`] (a string,
//! unlike the binary frames), leaves and stops using the channel: a tab that learns it marks
//! the room deleted too. Staying would hand the old document to a tab that starts again in
//! the fresh room, which would upload it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures_channel::mpsc;
use futures_util::StreamExt;
use leptos::prelude::*;
use shared::protocol::{self, Message, SyncMessage};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};
use yrs::{Doc, Origin, ReadTxn, Transact, TransactionMut};

use crate::deletion::Deletion;
use crate::presence::{now_ms, Peer, Presence};

/// Origin of transactions applying another tab's change.
pub const FROM_TAB: &str = "tab";
/// Key of the document observer that posts changes to the other tabs.
const TABS_OBSERVER: &str = "tabs";
/// How often our awareness state is renewed and silent tabs expire.
const TICK: Duration = Duration::from_secs(5);
/// The notice a tab posts when the relay deleted the room.
const ROOM_DELETED: &str = "room-deleted";

pub fn from_tab(txn: &TransactionMut) -> bool {
    txn.origin() == Some(&Origin::from(FROM_TAB))
}

/// The channel and what receiving on it updates.
struct Shared {
    channel: BroadcastChannel,
    doc: Doc,
    presence: RefCell<Presence>,
    peers: RwSignal<Vec<Peer>>,
    deletion: Deletion,
    /// The room was deleted: this tab has left the channel.
    left: Cell<bool>,
}

impl Shared {
    fn post(&self, frame: &[u8]) {
        if !self.left.get() {
            let _ = self.channel.post_message(&js_sys::Uint8Array::from(frame));
        }
    }

    /// Handles one message from another tab: a frame, or the deletion notice.
    fn on_message(&self, data: wasm_bindgen::JsValue) {
        if data.as_string().as_deref() == Some(ROOM_DELETED) {
            self.deletion.learn();
        } else if !self.left.get() {
            self.receive(&js_sys::Uint8Array::new(&data).to_vec());
        }
    }

    /// The room was deleted: tells the other tabs, says goodbye and stops sharing the
    /// document (and the channel).
    fn leave_for_good(&self) {
        if self.left.get() {
            return;
        }
        let _ = self.channel.post_message(&ROOM_DELETED.into());
        let frame = self.presence.borrow_mut().leave();
        self.post(&frame);
        self.left.set(true);
        let _ = self.doc.unobserve_update_v1(TABS_OBSERVER);
        self.peers.set(Vec::new());
        self.channel.set_onmessage(None);
        self.channel.close();
    }

    /// Handles one frame from another tab.
    fn receive(&self, frame: &[u8]) {
        let Ok(messages) = protocol::decode_frame(frame) else { return };
        for message in messages {
            match message {
                Message::Sync(SyncMessage::SyncStep1(remote)) => {
                    let diff = self.doc.transact().encode_state_as_update_v1(&remote);
                    self.post(&protocol::sync_step2(diff));
                    // A new tab: tell it who we are as well.
                    let announce = self.presence.borrow_mut().announce(now_ms());
                    self.post(&announce);
                }
                Message::Sync(SyncMessage::SyncStep2(update)) | Message::Sync(SyncMessage::Update(update)) => {
                    if let Ok(update) = protocol::decode_update(&update) {
                        if let Err(error) = self.doc.transact_mut_with(FROM_TAB).apply_update(update) {
                            leptos::logging::warn!("could not apply another tab's change: {error}");
                        }
                    }
                }
                Message::Awareness(update) => {
                    let mut presence = self.presence.borrow_mut();
                    if protocol::validate_awareness(&update).is_ok() && presence.apply(update, now_ms()) {
                        self.peers.set(presence.peers());
                    }
                }
                _ => {}
            }
        }
    }
}

/// Joins the room's channel. `states` are our awareness states (JSON) as the editor publishes
/// them; `peers` receives the other tabs' people; `deletion` is told, and tells the other
/// tabs, when the room was deleted. Returns `None` where `BroadcastChannel` is missing.
pub fn start(
    doc: &Doc,
    room: &str,
    first_state: String,
    mut states: mpsc::UnboundedReceiver<String>,
    peers: RwSignal<Vec<Peer>>,
    deletion: Deletion,
) -> Option<()> {
    let channel = BroadcastChannel::new(&format!("scene-editor:{room}")).ok()?;
    let shared = Rc::new(Shared {
        channel,
        doc: doc.clone(),
        presence: RefCell::new(Presence::new(doc.client_id(), first_state)),
        peers,
        deletion,
        left: Cell::new(false),
    });

    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let shared = shared.clone();
        move |event: MessageEvent| shared.on_message(event.data())
    });
    shared.channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the page

    // Leaving (closing or reloading the tab): tell the others at once.
    if let Some(window) = web_sys::window() {
        let on_hide = Closure::<dyn FnMut()>::new({
            let shared = shared.clone();
            move || {
                let frame = shared.presence.borrow_mut().leave();
                shared.post(&frame);
            }
        });
        let _ = window.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
        on_hide.forget();
    }

    // Document changes made here or received from the relay go to the other tabs. The
    // observer must be Send: it hands the update to a local task that posts it.
    let (changes_tx, mut changes_rx) = mpsc::unbounded::<Vec<u8>>();
    doc.observe_update_v1(TABS_OBSERVER, move |txn: &TransactionMut, event| {
        if !from_tab(txn) && !super::from_disk(txn) {
            let _ = changes_tx.unbounded_send(event.update.clone());
        }
    })
    .ok()?;
    leptos::task::spawn_local({
        let shared = shared.clone();
        async move {
            while let Some(update) = changes_rx.next().await {
                shared.post(&protocol::update(update));
            }
        }
    });

    // Our awareness: on every change, and renewed; silent tabs expire.
    leptos::task::spawn_local({
        let shared = shared.clone();
        async move {
            let mut ticks = gloo_timers::future::IntervalStream::new(TICK.as_millis() as u32);
            loop {
                let frame = match futures_util::future::select(states.next(), ticks.next()).await {
                    futures_util::future::Either::Left((Some(state), _)) => {
                        let mut presence = shared.presence.borrow_mut();
                        presence.set_state(state);
                        Some(presence.announce(now_ms()))
                    }
                    futures_util::future::Either::Left((None, _)) => return,
                    futures_util::future::Either::Right(_) => {
                        let mut presence = shared.presence.borrow_mut();
                        if presence.expire(now_ms()) {
                            shared.peers.set(presence.peers());
                        }
                        presence.renew_if_due(now_ms())
                    }
                };
                if let Some(frame) = frame {
                    shared.post(&frame);
                }
            }
        }
    });

    // A deleted room (learned here or from another tab): leave the channel.
    Effect::new({
        let shared = shared.clone();
        move |_| {
            if deletion.deleted.get() {
                shared.leave_for_good();
            }
        }
    });

    // Hello: what do the others have that we lack, and who are we.
    shared.post(&protocol::sync_step1(&doc.transact().state_vector()));
    let announce = shared.presence.borrow_mut().announce(now_ms());
    shared.post(&announce);
    Some(())
}
