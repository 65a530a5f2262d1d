//! The outbox's rules: priorities, the resync on a full queue, awareness merged under
//! pressure, and when a frame may be written directly.

use super::*;

async fn next_frame(inbox: &Inbox) -> Option<Bytes> {
    match inbox.next().await {
        Work::Frame(frame) => Some(frame),
        Work::Flush => None,
    }
}

/// A socket that takes frames as told and keeps what it took.
struct FakeSocket {
    answer: Mutex<Direct>,
    took: Mutex<Vec<Bytes>>,
}

impl DirectWrite for FakeSocket {
    fn try_write(&self, frame: &Bytes) -> Direct {
        let answer = *self.answer.lock();
        if answer != Direct::Refused {
            self.took.lock().push(frame.clone());
        }
        answer
    }
}

fn direct_channel(answer: Direct) -> (Arc<FakeSocket>, Outbox, Inbox) {
    let socket = Arc::new(FakeSocket { answer: Mutex::new(answer), took: Mutex::default() });
    let weak: Weak<dyn DirectWrite> = Arc::downgrade(&(socket.clone() as Arc<dyn DirectWrite>));
    let (outbox, inbox) = channel_with(8, Kick::default(), Some(weak));
    (socket, outbox, inbox)
}

#[tokio::test]
async fn with_nothing_queued_updates_and_awareness_go_straight_to_the_socket() {
    let (socket, outbox, inbox) = direct_channel(Direct::Written);
    assert!(outbox.offer_update(Bytes::from_static(b"up")));
    outbox.offer_awareness(Bytes::from_static(b"aw"));
    assert_eq!(*socket.took.lock(), vec![Bytes::from_static(b"up"), Bytes::from_static(b"aw")]);
    assert_eq!(inbox.depths(), (0, 0, 0));
    // Control frames always go through the queue (first in line).
    outbox.offer_control(Bytes::from_static(b"sync"));
    assert_eq!(inbox.depths(), (1, 0, 0));
}

#[tokio::test]
async fn a_direct_write_never_overtakes_a_frame_queued_or_being_written() {
    let (socket, outbox, inbox) = direct_channel(Direct::Written);
    outbox.offer_control(Bytes::from_static(b"sync"));
    assert!(outbox.offer_update(Bytes::from_static(b"a")));
    assert!(socket.took.lock().is_empty(), "a control frame waits: the update queues behind it");
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"sync"[..]));
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"a"[..]));
    // Both taken, not yet written: still nothing direct.
    assert!(outbox.offer_update(Bytes::from_static(b"b")));
    assert!(socket.took.lock().is_empty());
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"b"[..]));
    inbox.written();
    assert!(outbox.offer_update(Bytes::from_static(b"c")));
    assert_eq!(*socket.took.lock(), vec![Bytes::from_static(b"c")]);
}

#[tokio::test]
async fn a_refused_direct_write_queues_and_a_partial_one_asks_the_task_to_flush() {
    let (socket, outbox, inbox) = direct_channel(Direct::Refused);
    assert!(outbox.offer_update(Bytes::from_static(b"a")));
    assert_eq!(inbox.depths(), (0, 1, 0));
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"a"[..]));
    inbox.written();

    *socket.answer.lock() = Direct::Buffered;
    assert!(outbox.offer_update(Bytes::from_static(b"b")));
    assert_eq!(inbox.next().await, Work::Flush);
    // Until that flush is done, later frames queue behind it.
    *socket.answer.lock() = Direct::Written;
    assert!(outbox.offer_update(Bytes::from_static(b"c")));
    assert_eq!(inbox.depths(), (0, 1, 0));
    inbox.written();
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"c"[..]));
}

#[tokio::test]
async fn nothing_is_written_directly_once_the_connection_dropped_its_socket() {
    let (socket, outbox, inbox) = direct_channel(Direct::Written);
    drop(socket);
    assert!(outbox.offer_update(Bytes::from_static(b"a")));
    assert_eq!(inbox.depths(), (0, 1, 0));
}

fn presence(client: u64, clock: u32, json: &str) -> Bytes {
    let mut update = AwarenessUpdate { clients: HashMap::new() };
    update.clients.insert(yrs::ClientID::new(client), AwarenessUpdateEntry { clock, json: json.into() });
    Bytes::from(protocol::awareness(update))
}

#[tokio::test]
async fn a_full_update_queue_requests_a_resync_instead_of_dropping() {
    let (outbox, inbox) = channel(2);
    assert!(outbox.offer_update(Bytes::from_static(b"a")));
    assert!(outbox.offer_update(Bytes::from_static(b"b")));
    assert!(!outbox.offer_update(Bytes::from_static(b"c")));
    inbox.kick.requested().await;
    assert_eq!(inbox.kick.reason().map(|r| r.code), Some(close::RESYNC));
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"a"[..]));
}

#[tokio::test]
async fn control_then_updates_then_awareness() {
    let (outbox, inbox) = channel(8);
    outbox.offer_awareness(Bytes::from_static(b"aw"));
    outbox.offer_update(Bytes::from_static(b"up"));
    outbox.offer_control(Bytes::from_static(b"sync"));
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"sync"[..]));
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"up"[..]));
    assert_eq!(next_frame(&inbox).await.as_deref(), Some(&b"aw"[..]));
}

#[tokio::test]
async fn awareness_under_pressure_keeps_only_the_newest_state_per_client() {
    let (outbox, inbox) = channel(8);
    for clock in 1..=(AWARENESS_COALESCE_AT as u32 * 3) {
        outbox.offer_awareness(presence(1, clock, &format!("{{\"x\":{clock}}}")));
        outbox.offer_awareness(presence(2, clock, "{\"y\":0}"));
    }
    assert!(inbox.depths().2 < AWARENESS_COALESCE_AT, "queue stays short: {:?}", inbox.depths());
    let mut latest = HashMap::new();
    while inbox.depths().2 > 0 {
        let frame = next_frame(&inbox).await.expect("a frame");
        for message in protocol::decode_frame(&frame).unwrap() {
            let Message::Awareness(update) = message else { panic!() };
            for (client, entry) in update.clients {
                let e = latest.entry(client.get()).or_insert(0);
                *e = (*e).max(entry.clock);
            }
        }
    }
    let top = AWARENESS_COALESCE_AT as u32 * 3;
    assert_eq!(latest.get(&1), Some(&top));
    assert_eq!(latest.get(&2), Some(&top));
}
