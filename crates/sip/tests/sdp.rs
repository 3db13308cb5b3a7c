//! SDP offer/answer parsing, writing, hold detection and limits.

use expect_test::expect;
use sip::limits::{SDP_FORMATS_MAX, SDP_LINES_MAX, SDP_MEDIA_MAX};
use sip::sdp::{Codec, Connection, Direction, Media, Origin, SdpError, SessionDescription};
use sip::Message;

fn offer() -> SessionDescription {
    let path = format!("{}/test_data/invite.sip", env!("CARGO_MANIFEST_DIR"));
    let message = Message::parse(&std::fs::read(path).expect("fixture")).expect("parses");
    SessionDescription::parse(message.body()).expect("sdp parses")
}

#[test]
fn offer_from_an_invite() {
    let offer = offer();
    let audio = offer.audio().expect("audio");
    assert_eq!(audio.port, 49170);
    assert_eq!(audio.payload_types().collect::<Vec<_>>(), [0, 8, 101]);
    assert_eq!(audio.codec(0), Some(Codec::Pcmu));
    assert_eq!(audio.codec(8), Some(Codec::Pcma));
    assert_eq!(audio.telephone_event(), Some(101));
    assert_eq!(audio.first_voice_codec(&[Codec::Pcma]), Some((8, Codec::Pcma)));
    assert_eq!(audio.first_voice_codec(&[Codec::Pcmu, Codec::Pcma]), Some((0, Codec::Pcmu)));
    assert_eq!(audio.fmtps, [(101, "0-16".to_string())]);
    assert_eq!(offer.connection_for(audio), Some(&Connection::ip4("192.0.2.10")));
    assert!(!offer.is_hold(audio));
    let again = SessionDescription::parse(&offer.to_bytes()).expect("round-trips");
    assert_eq!(again, offer);
}

#[test]
fn answer_is_written_in_order() {
    let answer = SessionDescription {
        origin: Origin {
            username: "-".into(),
            session_id: 42,
            session_version: 1,
            connection: Connection::ip4("198.51.100.7"),
        },
        session_name: "Switchboard".into(),
        connection: Some(Connection::ip4("198.51.100.7")),
        timing: (0, 0),
        direction: None,
        other_lines: vec![],
        media: vec![Media::audio(
            30000,
            &[Codec::Pcma, Codec::TelephoneEvent],
            offer().audio().map_or(Direction::SendRecv, |m| {
                m.direction.unwrap_or(Direction::SendRecv).answer()
            }),
        )],
    };
    expect![[r#"
        v=0
        o=- 42 1 IN IP4 198.51.100.7
        s=Switchboard
        c=IN IP4 198.51.100.7
        t=0 0
        m=audio 30000 RTP/AVP 8 101
        a=rtpmap:8 PCMA/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=ptime:20
        a=sendrecv
    "#]]
    .assert_eq(&answer.to_string().replace("\r\n", "\n"));
    assert_eq!(SessionDescription::parse(&answer.to_bytes()), Ok(answer));
}

#[test]
fn hold_and_unknown_lines() {
    let text = "v=0\no=x 1 2 IN IP4 10.0.0.1\ns= \nb=AS:64\nt=0 0\na=sendonly\n\
                m=audio 4000 RTP/AVP 0\na=rtcp:4001\nm=video 0 RTP/AVP 96\n";
    let sdp = SessionDescription::parse(text.as_bytes()).expect("parses");
    let audio = sdp.audio().expect("audio");
    assert_eq!(sdp.direction_for(audio), Direction::SendOnly);
    assert!(sdp.is_hold(audio));
    assert_eq!(audio.other_lines, ["a=rtcp:4001"]);
    assert_eq!(sdp.other_lines, ["b=AS:64"]);
    assert_eq!(sdp.media[1].port, 0);
    assert_eq!(SessionDescription::parse(&sdp.to_bytes()), Ok(sdp));

    let old_hold = "v=0\r\no=x 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
                    m=audio 4000 RTP/AVP 8\r\n";
    let sdp = SessionDescription::parse(old_hold.as_bytes()).expect("parses");
    assert!(sdp.is_hold(sdp.audio().expect("audio")));
    assert_eq!(Direction::Inactive.answer(), Direction::Inactive);
    assert_eq!(Direction::RecvOnly.answer(), Direction::SendOnly);
}

#[test]
fn malformed_and_oversized_sdp() {
    let head = "v=0\r\no=x 1 2 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n";
    let bad = |extra: &str| SessionDescription::parse(format!("{head}{extra}").as_bytes());
    let line = |n: usize, reason| Err(SdpError::BadLine { line: n, reason });
    assert_eq!(bad("m=audio x RTP/AVP 0\r\n"), line(5, "bad port"));
    assert_eq!(bad("m=audio 1 RTP/AVP PCMU\r\n"), line(5, "RTP format is not a payload type"));
    assert_eq!(bad("c=IN IP9 1.2.3.4\r\n"), line(5, "bad c="));
    assert_eq!(bad("m=audio 1 RTP/AVP 0\r\na=rtpmap:0\r\n"), line(6, "bad rtpmap"));
    assert_eq!(
        bad("m=audio 1 RTP/AVP 0\r\no=x 1 2 IN IP4 h\r\n"),
        line(6, "session line inside a media section")
    );
    assert_eq!(bad("garbage\r\n"), line(5, "not x=value"));
    assert_eq!(SessionDescription::parse(b"o=x\r\n"), line(1, "first line is not v=0"));
    assert_eq!(SessionDescription::parse(b""), Err(SdpError::Missing('v')));
    assert_eq!(SessionDescription::parse(b"v=0\r\ns=-\r\n"), Err(SdpError::Missing('o')));
    assert_eq!(SessionDescription::parse(b"\xff"), Err(SdpError::NotUtf8));

    let many_lines = "a=x\r\n".repeat(SDP_LINES_MAX);
    assert_eq!(bad(&many_lines), Err(SdpError::TooManyLines { max: SDP_LINES_MAX }));
    let many_media = "m=audio 1 RTP/AVP 0\r\n".repeat(SDP_MEDIA_MAX + 1);
    assert_eq!(bad(&many_media), Err(SdpError::TooManyMedia { max: SDP_MEDIA_MAX }));
    let formats = " 0".repeat(SDP_FORMATS_MAX + 1);
    assert_eq!(
        bad(&format!("m=audio 1 RTP/AVP{formats}\r\n")),
        Err(SdpError::TooManyFormats { max: SDP_FORMATS_MAX })
    );
}
