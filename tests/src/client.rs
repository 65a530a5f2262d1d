//! A native y-websocket client: a yrs document and awareness kept in sync with a relay over
//! a real loopback WebSocket, the way a stock Yjs client would do it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use shared::protocol::{self, AwarenessUpdate, AwarenessUpdateEntry, Message, SyncMessage};
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::Awareness;
use yrs::{ClientID, Doc, GetString, Origin, ReadTxn, Text, Transact};

const REMOTE: &str = "remote";

/// A connected client.
pub struct TestClient {
    pub doc: Doc,
    pub awareness: Arc<Mutex<Awareness>>,
    outgoing: mpsc::UnboundedSender<WsMessage>,
    synced: watch::Receiver<bool>,
    /// Updates this client sent, and how many of them the relay reported durable.
    sent: Arc<std::sync::atomic::AtomicU64>,
    acked: watch::Receiver<u64>,
    closed: watch::Receiver<Option<(u16, String)>>,
    presence_clock: std::sync::atomic::AtomicU32,
    task: JoinHandle<()>,
}

impl TestClient {
    /// Connects to `{ws_base}/{room}` with a fresh document.
    pub async fn connect(ws_base: &str, room: &str) -> Self {
        Self::connect_with_doc(ws_base, room, Doc::new()).await
    }

    /// Connects with an existing document (e.g. one edited offline).
    pub async fn connect_with_doc(ws_base: &str, room: &str, doc: Doc) -> Self {
        Self::connect_opts(ws_base, room, doc, false).await
    }

    /// Connects asking for durable acknowledgements (`?acks=1`).
    pub async fn connect_with_acks(ws_base: &str, room: &str, doc: Doc) -> Self {
        Self::connect_opts(ws_base, room, doc, true).await
    }

    async fn connect_opts(ws_base: &str, room: &str, doc: Doc, acks: bool) -> Self {
        let url = if acks { format!("{ws_base}/{room}?acks=1") } else { format!("{ws_base}/{room}") };
        let (socket, _) = tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(&url))
            .await
            .expect("connect in time")
            .expect("websocket connects");
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut outgoing_rx) = mpsc::unbounded_channel::<WsMessage>();
        let (synced_tx, synced) = watch::channel(false);
        let (closed_tx, closed) = watch::channel(None);
        let awareness = Arc::new(Mutex::new(Awareness::new(doc.clone())));
        let (acked_tx, acked) = watch::channel(0u64);
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));

        // Local edits go out as updates; remote ones (tagged with an origin) do not echo.
        let out = outgoing.clone();
        let counter = sent.clone();
        let _ = doc.unobserve_update_v1("test-client");
        doc.observe_update_v1("test-client", move |txn: &yrs::TransactionMut, event: &yrs::UpdateEvent| {
                if txn.origin() != Some(&Origin::from(REMOTE)) {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = out.send(WsMessage::binary(protocol::update(event.update.clone())));
                }
            })
            .expect("observe updates");

        let first = protocol::sync_step1(&doc.transact().state_vector());
        let _ = outgoing.send(WsMessage::binary(first));

        let reader_doc = doc.clone();
        let reader_awareness = awareness.clone();
        let replies = outgoing.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(message) = outgoing_rx.recv() => {
                        // A send that fails (the relay closed meanwhile) or a close of our own:
                        // keep reading, so the relay's close frame (or the loss) is recorded.
                        let _ = sink.send(message).await;
                    }
                    incoming = stream.next() => match incoming {
                        Some(Ok(WsMessage::Binary(frame))) => {
                            let messages = protocol::decode_frame(&frame).expect("relay frames decode");
                            for message in messages {
                                if let Message::Custom(protocol::MSG_DURABLE_ACK, payload) = &message {
                                    let count = protocol::decode_durable_ack(payload).expect("ack decodes");
                                    let _ = acked_tx.send(count);
                                    continue;
                                }
                                handle(message, &reader_doc, &reader_awareness, &replies, &synced_tx).await;
                            }
                        }
                        Some(Ok(WsMessage::Close(frame))) => {
                            let info = frame.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or((1005, String::new()));
                            let _ = closed_tx.send(Some(info));
                            break;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => {
                            let _ = closed_tx.send_if_modified(|c| { if c.is_none() { *c = Some((1006, "connection lost".into())); true } else { false } });
                            break;
                        }
                    }
                }
            }
        });
        TestClient {
            doc,
            awareness,
            outgoing,
            synced,
            sent,
            acked,
            closed,
            presence_clock: 0.into(),
            task,
        }
    }

    /// Connects and waits for the initial sync.
    pub async fn join(ws_base: &str, room: &str) -> Self {
        let client = Self::connect(ws_base, room).await;
        client.wait_synced().await;
        client
    }

    pub async fn wait_synced(&self) {
        let mut synced = self.synced.clone();
        tokio::time::timeout(Duration::from_secs(10), synced.wait_for(|s| *s))
            .await
            .expect("synced in time")
            .expect("client task alive");
    }

    /// Whether the initial sync has completed.
    pub fn is_synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Updates sent so far on this connection.
    pub fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Updates the relay reported durable so far.
    pub fn acked(&self) -> u64 {
        *self.acked.borrow()
    }

    pub fn client_id(&self) -> ClientID {
        self.doc.client_id()
    }

    /// Appends `s` to the text `name`.
    pub fn append_text(&self, name: &str, s: &str) {
        let text = self.doc.get_or_insert_text(name);
        let mut txn = self.doc.transact_mut();
        let len = text.len(&txn);
        text.insert(&mut txn, len, s);
    }

    /// Length of the text `name` (cheap, unlike building the string).
    pub fn text_len(&self, name: &str) -> u32 {
        let text = self.doc.get_or_insert_text(name);
        let txn = self.doc.transact();
        text.len(&txn)
    }

    pub fn text(&self, name: &str) -> String {
        let text = self.doc.get_or_insert_text(name);
        let txn = self.doc.transact();
        text.get_string(&txn)
    }

    /// The names of the scene's nodes (`shared::scene`) in this client's copy, sorted.
    pub fn node_names(&self) -> Vec<String> {
        // The scene first: it may create its root map, which needs a write transaction.
        let scene = shared::scene::Scene::new(&self.doc);
        let txn = self.doc.transact();
        let mut names: Vec<String> = scene.nodes(&txn).into_iter().map(|n| n.name).collect();
        names.sort();
        names
    }

    /// The whole document, to compare replicas.
    pub fn state(&self) -> Vec<u8> {
        self.doc.transact().encode_state_as_update_v1(&yrs::StateVector::default())
    }

    /// Publishes this client's presence (JSON), as stock clients do.
    pub fn set_presence(&self, json: &str) {
        let clock = self.presence_clock.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let mut update = AwarenessUpdate { clients: Default::default() };
        update.clients.insert(self.client_id(), AwarenessUpdateEntry { clock, json: json.into() });
        let _ = self.outgoing.send(WsMessage::binary(protocol::awareness(update)));
    }

    /// Presence JSON of `client` as this client sees it.
    pub async fn presence_of(&self, client: ClientID) -> Option<String> {
        let awareness = self.awareness.lock().await;
        let found = awareness.iter().find(|(id, _)| *id == client).and_then(|(_, s)| s.data.map(|d| d.to_string()));
        found
    }

    pub fn send_raw(&self, frame: Vec<u8>) {
        let _ = self.outgoing.send(WsMessage::binary(frame));
    }

    pub fn send_text(&self, text: &str) {
        let _ = self.outgoing.send(WsMessage::text(text));
    }

    pub fn is_closed(&self) -> bool {
        self.closed.borrow().is_some()
    }

    /// Waits for the relay to close this connection; returns its close code and reason.
    pub async fn wait_closed(&self) -> (u16, String) {
        let mut closed = self.closed.clone();
        let info = tokio::time::timeout(Duration::from_secs(10), closed.wait_for(|c| c.is_some()))
            .await
            .expect("closed in time")
            .expect("client task alive")
            .clone();
        info.unwrap_or((0, String::new()))
    }

    /// Leaves cleanly with a close frame.
    pub async fn close(self) {
        let _ = self.outgoing.send(WsMessage::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })));
        let _ = tokio::time::timeout(Duration::from_secs(5), self.closed.clone().wait_for(|c| c.is_some())).await;
        self.task.abort();
    }

    /// Drops the TCP connection without a close frame or an awareness goodbye.
    pub fn vanish(self) {
        self.task.abort();
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    message: Message,
    doc: &Doc,
    awareness: &Mutex<Awareness>,
    replies: &mpsc::UnboundedSender<WsMessage>,
    synced: &watch::Sender<bool>,
) {
    match message {
        Message::Sync(SyncMessage::SyncStep1(remote)) => {
            let diff = doc.transact().encode_state_as_update_v1(&remote);
            let _ = replies.send(WsMessage::binary(protocol::sync_step2(diff)));
        }
        Message::Sync(SyncMessage::SyncStep2(bytes)) => {
            apply_remote(doc, &bytes);
            let _ = synced.send(true);
        }
        Message::Sync(SyncMessage::Update(bytes)) => apply_remote(doc, &bytes),
        Message::Awareness(update) => {
            let _ = awareness.lock().await.apply_update(update);
        }
        Message::AwarenessQuery | Message::Auth(_) | Message::Custom(..) => {}
    }
}

fn apply_remote(doc: &Doc, bytes: &[u8]) {
    let update = protocol::decode_update(bytes).expect("relay sends valid updates");
    doc.transact_mut_with(REMOTE).apply_update(update).expect("update applies");
}
