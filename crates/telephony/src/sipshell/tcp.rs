//! SIP over TCP: a listener beside the UDP socket, one task per connection that frames
//! messages with the sans-I/O `StreamFramer`, and connections opened on demand toward a peer
//! (a TCP trunk). Messages to a peer reuse its connection, whichever side opened it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use sip::{Message, StreamFramer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Connections open at once; more are refused (accepted and closed at once).
pub const CONNECTIONS_MAX: usize = 1_024;
/// Messages queued for one connection; beyond, the connection is considered stuck and a
/// message is dropped (the transaction's timers handle it).
const OUTGOING_MAX: usize = 256;
/// A connection that carries nothing for this long is closed; phones re-register over a new
/// one.
const IDLE: Duration = Duration::from_secs(600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What connection tasks tell the shell.
pub enum TcpInput {
    Message(SocketAddr, Message),
    Closed(SocketAddr),
}

pub struct Connections {
    writers: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    inputs: mpsc::Sender<TcpInput>,
}

impl Connections {
    pub fn new(inputs: mpsc::Sender<TcpInput>) -> Connections {
        Connections { writers: HashMap::new(), inputs }
    }

    pub fn len(&self) -> usize {
        self.writers.len()
    }

    /// A connection a peer opened to us.
    pub fn accepted(&mut self, stream: TcpStream, peer: SocketAddr) {
        if self.writers.len() >= CONNECTIONS_MAX {
            tracing::warn!(%peer, "too many SIP TCP connections; refused");
            return;
        }
        let (tx, rx) = mpsc::channel(OUTGOING_MAX);
        self.writers.insert(peer, tx);
        tokio::spawn(serve(Ok(stream), peer, rx, self.inputs.clone()));
    }

    /// Sends over the peer's connection, opening one if there is none.
    pub fn send(&mut self, peer: SocketAddr, bytes: Vec<u8>) {
        if let Some(writer) = self.writers.get(&peer) {
            if writer.try_send(bytes).is_err() {
                tracing::debug!(%peer, "SIP TCP connection stuck; message dropped");
            }
            return;
        }
        if self.writers.len() >= CONNECTIONS_MAX {
            return;
        }
        let (tx, rx) = mpsc::channel(OUTGOING_MAX);
        let _ = tx.try_send(bytes);
        self.writers.insert(peer, tx);
        let inputs = self.inputs.clone();
        tokio::spawn(async move {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer)).await;
            let stream = match stream {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err("timed out".to_string()),
            };
            serve(stream, peer, rx, inputs).await;
        });
    }

    pub fn closed(&mut self, peer: SocketAddr) {
        self.writers.remove(&peer);
    }
}

/// Accepts connections for the shell's select loop.
pub async fn accept(listener: &TcpListener) -> Option<(TcpStream, SocketAddr)> {
    listener.accept().await.ok()
}

/// Reads and writes one connection until either side closes it or it idles out.
async fn serve(
    stream: Result<TcpStream, String>,
    peer: SocketAddr,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    inputs: mpsc::Sender<TcpInput>,
) {
    let stream = match stream {
        Ok(stream) => stream,
        Err(error) => {
            tracing::info!(%peer, %error, "cannot connect to a SIP TCP peer");
            let _ = inputs.send(TcpInput::Closed(peer)).await;
            return;
        }
    };
    let (mut reader, mut writer) = stream.into_split();
    let mut framer = StreamFramer::new();
    let mut buf = vec![0u8; 16 * 1024];
    'connection: loop {
        tokio::select! {
            read = tokio::time::timeout(IDLE, reader.read(&mut buf)) => {
                let len = match read {
                    Ok(Ok(len)) if len > 0 => len,
                    _ => break, // closed, failed or idle
                };
                if framer.handle_bytes(&buf[..len]).is_err() {
                    tracing::debug!(%peer, "SIP TCP stream over its buffer limit; closed");
                    break;
                }
                while let Some(message) = framer.poll_message() {
                    match message {
                        Ok(message) => {
                            if inputs.send(TcpInput::Message(peer, message)).await.is_err() {
                                break 'connection;
                            }
                        }
                        // A stream cannot resynchronise after a bad message: close it.
                        Err(error) => {
                            tracing::debug!(%peer, %error, "bad SIP on TCP; closed");
                            break 'connection;
                        }
                    }
                }
            }
            bytes = outgoing.recv() => match bytes {
                Some(bytes) => {
                    if writer.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    let _ = inputs.send(TcpInput::Closed(peer)).await;
}
