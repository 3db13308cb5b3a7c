//! SDP for our legs: the offer we put in every INVITE, the answer to a re-INVITE, and reading
//! the far end's description into [`RemoteMedia`].

use std::net::{IpAddr, SocketAddr};

use sip::sdp::{Codec, Connection, Direction, Media, Origin, SessionDescription};

use super::RemoteMedia;

/// What we offer, in preference order.
pub const CODECS: [Codec; 3] = [Codec::Pcmu, Codec::Pcma, Codec::TelephoneEvent];

pub fn offer(ip: IpAddr, port: u16, session_id: u64, direction: Direction) -> Vec<u8> {
    let address = ip.to_string();
    let connection = Connection {
        address_type: if ip.is_ipv4() { "IP4" } else { "IP6" }.into(),
        address: address.clone(),
    };
    let description = SessionDescription {
        origin: Origin {
            username: "switchboard".into(),
            session_id,
            session_version: 1,
            connection: connection.clone(),
        },
        session_name: "switchboard".into(),
        connection: Some(connection),
        timing: (0, 0),
        direction: None,
        other_lines: Vec::new(),
        media: vec![Media::audio(port, &CODECS, direction)],
    };
    description.to_bytes()
}

/// The far end's media from an SDP body: address, the first voice codec we share, DTMF type.
pub fn remote_media(body: &[u8]) -> Option<RemoteMedia> {
    let description = SessionDescription::parse(body).ok()?;
    let media = description.audio().filter(|m| m.port != 0)?;
    let connection = description.connection_for(media)?;
    let ip: IpAddr = connection.address.parse().ok()?;
    let (payload_type, codec) = media.first_voice_codec(&[Codec::Pcmu, Codec::Pcma])?;
    Some(RemoteMedia {
        addr: SocketAddr::new(ip, media.port),
        codec,
        payload_type,
        dtmf_payload_type: media.telephone_event(),
        on_hold: description.is_hold(media),
    })
}

/// The direction we answer a re-INVITE's offer with.
pub fn answer_direction(body: &[u8]) -> Direction {
    SessionDescription::parse(body)
        .ok()
        .and_then(|d| d.audio().map(|m| d.direction_for(m).answer()))
        .unwrap_or(Direction::SendRecv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_offer_reads_back_as_pcmu_with_telephone_event() {
        let body = offer("127.0.0.1".parse().expect("literal"), 20_000, 7, Direction::SendRecv);
        let remote = remote_media(&body).expect("our own offer parses");
        assert_eq!(remote.addr, "127.0.0.1:20000".parse().expect("literal"));
        assert_eq!((remote.codec, remote.payload_type), (Codec::Pcmu, 0));
        assert_eq!(remote.dtmf_payload_type, Some(101));
        assert!(!remote.on_hold);
    }

    #[test]
    fn hold_and_rejected_streams_are_recognised() {
        let ip = "10.0.0.1".parse().expect("literal");
        let held = offer(ip, 4_000, 1, Direction::SendOnly);
        assert!(remote_media(&held).expect("parses").on_hold);
        assert_eq!(answer_direction(&held), Direction::RecvOnly);
        assert!(remote_media(&offer(ip, 0, 1, Direction::SendRecv)).is_none(), "port 0");
        assert!(remote_media(b"garbage").is_none());
    }
}
