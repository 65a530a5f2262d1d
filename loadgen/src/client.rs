//! A simulated client: a raw y-websocket connection that sends frames and reads the ones
//! it cares about, without the cost of keeping a document where a workload needs none.

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use shared::protocol::{self, Message, SyncMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::StateVector;

use crate::report::LoadError;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type Sender = SplitSink<Socket, WsMessage>;
pub type Receiver = SplitStream<Socket>;

/// Opens a connection (frames up to 256 MiB accepted, for large rooms).
pub async fn connect(url: &str) -> Result<(Sender, Receiver), LoadError> {
    let config = WebSocketConfig::default().max_message_size(Some(256 << 20)).max_frame_size(Some(256 << 20));
    let (socket, _) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async_with_config(url, Some(config), true),
    )
    .await
    .map_err(|_| LoadError::Timeout(format!("connecting to {url}")))?
    .map_err(|e| LoadError::Client(format!("connecting to {url}: {e}")))?;
    Ok(socket.split())
}

pub async fn send(sender: &mut Sender, frame: Vec<u8>) -> Result<(), LoadError> {
    sender.send(WsMessage::binary(frame)).await.map_err(|e| LoadError::Client(e.to_string()))
}

/// Sends an empty SyncStep1 and waits for the relay's SyncStep2; returns its update bytes.
pub async fn initial_sync(sender: &mut Sender, receiver: &mut Receiver, limit: Duration) -> Result<Vec<u8>, LoadError> {
    send(sender, protocol::sync_step1(&StateVector::default())).await?;
    let wait = async {
        while let Some(frame) = receiver.next().await {
            match frame {
                Ok(WsMessage::Binary(bytes)) => {
                    for message in protocol::decode_frame(&bytes).map_err(|e| LoadError::Client(e.to_string()))? {
                        if let Message::Sync(SyncMessage::SyncStep2(update)) = message {
                            return Ok(update);
                        }
                    }
                }
                Ok(WsMessage::Close(frame)) => return Err(closed(frame)),
                Ok(_) => {}
                Err(e) => return Err(LoadError::Client(e.to_string())),
            }
        }
        Err(LoadError::Client("connection ended during sync".into()))
    };
    tokio::time::timeout(limit, wait).await.map_err(|_| LoadError::Timeout("initial sync".into()))?
}

/// How a server frames y-websocket messages. Stock servers send each message as is;
/// Hocuspocus puts the document name (a varString) in front of every message, answers a
/// SyncStep1 with type 4 ("sync reply") and adds its own types (auth 2 with sub-types it
/// defines, stateless 5/6, close 7, sync status 8). The adapter strips and adds the prefix
/// and hands everything else to `shared::protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    Yws,
    Hocuspocus,
}

/// Hocuspocus message types that carry a y-websocket sync message or awareness.
const HOCUSPOCUS_SYNC_REPLY: u8 = 4;

impl Framing {
    /// One y-websocket message (from `shared::protocol`) as the frame this server expects.
    pub fn wrap(self, doc: &str, message: Vec<u8>) -> Vec<u8> {
        match self {
            Framing::Yws => message,
            Framing::Hocuspocus => protocol::with_document_name(doc, &message),
        }
    }

    /// Frames to send as soon as the socket is open: Hocuspocus waits for an auth message
    /// (`doc 2 0 varString(token)`, here an empty token) before it handles anything else.
    /// Its token message has the layout of y-protocols' auth message.
    pub fn hello(self, doc: &str) -> Option<Vec<u8>> {
        match self {
            Framing::Yws => None,
            Framing::Hocuspocus => Some(self.wrap(doc, protocol::encode(&Message::Auth(Some(String::new()))))),
        }
    }

    /// The y-websocket messages in one received frame; an empty list for the framing's own
    /// control messages (Hocuspocus auth answers, sync status, stateless messages).
    pub fn unwrap(self, frame: &[u8]) -> Result<Vec<Message>, LoadError> {
        let invalid = |e: &dyn std::fmt::Display| LoadError::Client(format!("undecodable frame: {e}"));
        match self {
            Framing::Yws => protocol::decode_frame(frame).map_err(|e| invalid(&e)),
            Framing::Hocuspocus => {
                let (_, rest) = protocol::split_document_name(frame).map_err(|e| invalid(&e))?;
                match rest.first().copied() {
                    Some(protocol::MSG_SYNC) | Some(protocol::MSG_AWARENESS) | Some(protocol::MSG_QUERY_AWARENESS) => {
                        protocol::decode_frame(rest).map_err(|e| invalid(&e))
                    }
                    Some(HOCUSPOCUS_SYNC_REPLY) => {
                        let mut sync = rest.to_vec();
                        sync[0] = protocol::MSG_SYNC;
                        protocol::decode_frame(&sync).map_err(|e| invalid(&e))
                    }
                    _ => Ok(Vec::new()),
                }
            }
        }
    }
}

/// One simulated client of a room, on any target: its socket halves, the framing and the
/// document name the framing needs.
pub struct Peer {
    pub tx: Sender,
    pub rx: Receiver,
    pub framing: Framing,
    pub doc: String,
}

impl Peer {
    /// Opens the socket and completes the y-websocket handshake (SyncStep1 → SyncStep2),
    /// returning the SyncStep2's update as well.
    pub async fn join(url: &str, framing: Framing, doc: &str, limit: Duration) -> Result<(Peer, Vec<u8>), LoadError> {
        let (tx, rx) = connect(url).await?;
        let mut peer = Peer { tx, rx, framing, doc: doc.to_owned() };
        if let Some(hello) = framing.hello(doc) {
            send(&mut peer.tx, hello).await?;
        }
        peer.send(protocol::sync_step1(&StateVector::default())).await?;
        let wait = async {
            loop {
                for message in peer.next_messages().await? {
                    if let Message::Sync(SyncMessage::SyncStep2(update)) = message {
                        return Ok(update);
                    }
                }
            }
        };
        let state = tokio::time::timeout(limit, wait).await.map_err(|_| LoadError::Timeout(format!("joining {url}")))??;
        Ok((peer, state))
    }

    /// Sends one y-websocket message, framed for this target.
    pub async fn send(&mut self, message: Vec<u8>) -> Result<(), LoadError> {
        send(&mut self.tx, self.framing.wrap(&self.doc, message)).await
    }

    /// Waits for the next data frame and returns its messages (pings are answered by the
    /// socket itself). A closed connection is an error: simulated clients never expect one.
    pub async fn next_messages(&mut self) -> Result<Vec<Message>, LoadError> {
        next_messages(&mut self.rx, self.framing).await
    }
}

/// Waits for the next data frame on a receiving half and returns its messages. Control
/// frames are skipped; callers bound the wait with a timeout or a stop signal.
pub async fn next_messages(rx: &mut Receiver, framing: Framing) -> Result<Vec<Message>, LoadError> {
    framing.unwrap(&next_frame(rx).await?)
}

/// Waits for the next data frame on a receiving half and returns it undecoded, for workloads
/// that only look for their own markers in it. Errors as [`next_messages`].
pub async fn next_frame(rx: &mut Receiver) -> Result<bytes::Bytes, LoadError> {
    loop {
        match rx.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => return Ok(bytes),
            Some(Ok(WsMessage::Close(frame))) => return Err(closed(frame)),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(LoadError::Client(e.to_string())),
            None => return Err(LoadError::Closed { code: 1006, reason: "the connection ended without a close frame".into() }),
        }
    }
}

/// The error for a close frame from the server: its code and reason.
fn closed(frame: Option<CloseFrame>) -> LoadError {
    match frame {
        Some(frame) => LoadError::Closed { code: u16::from(frame.code), reason: frame.reason.to_string() },
        None => LoadError::Closed { code: 1005, reason: String::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hocuspocus_frames_carry_the_document_name_and_unwrap_back() {
        let step1 = protocol::sync_step1(&StateVector::default());
        let framed = Framing::Hocuspocus.wrap("room", step1.clone());
        assert_eq!(framed, [&[4u8, b'r', b'o', b'o', b'm'][..], &step1[..]].concat());
        let messages = Framing::Hocuspocus.unwrap(&framed).unwrap();
        assert!(matches!(messages[..], [Message::Sync(SyncMessage::SyncStep1(_))]));
        // a sync reply (type 4) is a sync message; auth answers and sync status are skipped
        let reply = [&[4u8, b'r', b'o', b'o', b'm', 4, 1, 2, 0, 0][..]].concat();
        assert!(matches!(Framing::Hocuspocus.unwrap(&reply).unwrap()[..], [Message::Sync(SyncMessage::SyncStep2(_))]));
        assert!(Framing::Hocuspocus.unwrap(&[4, b'r', b'o', b'o', b'm', 8, 1]).unwrap().is_empty());
        assert_eq!(Framing::Hocuspocus.hello("d").unwrap(), [1, b'd', 2, 0, 0]);
        assert_eq!(Framing::Yws.wrap("room", step1.clone()), step1);
    }
}
