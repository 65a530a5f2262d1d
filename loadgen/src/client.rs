//! A simulated client: a raw y-websocket connection that sends frames and reads the ones
//! it cares about, without the cost of keeping a document where a workload needs none.

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use shared::protocol::{self, Message, SyncMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
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
                Ok(WsMessage::Close(frame)) => return Err(LoadError::Client(format!("closed during sync: {frame:?}"))),
                Ok(_) => {}
                Err(e) => return Err(LoadError::Client(e.to_string())),
            }
        }
        Err(LoadError::Client("connection ended during sync".into()))
    };
    tokio::time::timeout(limit, wait).await.map_err(|_| LoadError::Timeout("initial sync".into()))?
}
