//! Sans-I/O SIP for Switchboard: messages, SDP, transactions (RFC 3261 §17) and digest
//! authentication (RFC 7616 / RFC 2617).
//!
//! Nothing here touches a socket or a clock. The `telephony` shell parses bytes it received
//! with [`Message::parse`] (datagrams) or [`StreamFramer`] (TCP), feeds them to the
//! [`TransactionLayer`] with the current time, and drains `poll_transmit`, `poll_event` and
//! `poll_timeout` after every input, like quinn-proto's `Connection`.
//!
//! Architecture Invariant: this crate does no I/O, reads no clock, draws no random numbers
//! (branches, tags, nonces and cnonces come from the caller) and has no `async`.
//!
//! **Parser choice**: hand-written. The SIP grammar that real peers use is small (a start line,
//! `Name: value` lines, comma lists, `;` parameters), and a hand-written parser checks every
//! limit in [`limits`] as it goes and names what is wrong in each error (so the shell can
//! answer 400). The parser crates on crates.io are not well kept for our needs: `rsip` (nom,
//! last release 0.4 in 2022) and `sipmsg` (nom 6, 2021) have no size or count limits and
//! would still need our own limits and framing around them; `parsip` and `xylosip` are early
//! experiments. Nothing else is taken: MD5 and SHA-256 come from `md-5` and `sha2`.
//!
//! Modules: [`dialog`] (RFC 3261 §12 dialogs and in-dialog requests), [`registrar`]
//! (REGISTER with digest auth and stateless nonces), [`message`] (types, parsing, serializing, the stream framer), [`sdp`] (G.711
//! offer/answer), [`transaction`] (the RFC 3261 §17 state machines and their timers),
//! [`digest`] (authentication), [`transport`] (peer addresses), [`limits`].
//!
//! Errors are input: malformed bytes return a [`ParseError`] (the shell answers 400 or drops
//! the datagram), never a panic.

pub mod dialog;
pub mod digest;
pub mod limits;
pub mod message;
pub mod registrar;
pub mod sdp;
pub mod transaction;
pub mod transport;

pub use message::{
    Header, HeaderAccess, HeaderError, HeaderName, Headers, Message, Method, NameAddr, ParseError,
    Request, Response, StreamFramer, Uri, Via,
};
pub use transaction::{Event, TransactionConfig, TransactionId, TransactionLayer, Transmit};
pub use transport::{Peer, Transport};
