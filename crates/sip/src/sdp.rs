//! A minimal SDP (RFC 4566, RFC 3264 offer/answer) for G.711 audio: `c=`, `m=audio`,
//! `a=rtpmap` for PCMU/0, PCMA/8 and telephone-event, `a=fmtp`, `a=ptime`, and the direction
//! attributes that signal hold. Lines we do not model are kept and written back in order.

use std::fmt;

use crate::limits::{BODY_BYTES_MAX, SDP_FORMATS_MAX, SDP_LINES_MAX, SDP_MEDIA_MAX};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP is not UTF-8")]
    NotUtf8,
    #[error("SDP is {bytes} bytes, more than {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("more than {max} SDP lines")]
    TooManyLines { max: usize },
    #[error("more than {max} media sections")]
    TooManyMedia { max: usize },
    #[error("more than {max} formats on one m= line")]
    TooManyFormats { max: usize },
    #[error("SDP line {line}: {reason}")]
    BadLine { line: usize, reason: &'static str },
    #[error("SDP has no {0}= line")]
    Missing(char),
}

/// Media direction (RFC 3264 §5.1); `sendonly` or `inactive` from the far end means hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn parse(attribute: &str) -> Option<Direction> {
        Some(match attribute {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer takes for this offered one (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }
}

/// `c=IN IP4 192.0.2.1` (or IP6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// `IP4` or `IP6`.
    pub address_type: String,
    pub address: String,
}

impl Connection {
    pub fn ip4(address: &str) -> Connection {
        Connection { address_type: "IP4".into(), address: address.into() }
    }

    /// RFC 2543 hold: `c=IN IP4 0.0.0.0`.
    pub fn is_hold_address(&self) -> bool {
        self.address == "0.0.0.0"
    }
}

/// `o=username sess-id sess-version IN IP4 address`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: u64,
    /// Incremented by the sender whenever the description changes (re-INVITE).
    pub session_version: u64,
    pub connection: Connection,
}

/// `a=rtpmap:101 telephone-event/8000[/channels]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u8>,
}

/// The codecs the media layer handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
    TelephoneEvent,
}

impl Codec {
    /// The static payload type, or the dynamic one we offer for telephone-event.
    pub fn default_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::TelephoneEvent => 101,
        }
    }

    fn encoding(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::TelephoneEvent => "telephone-event",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, `image`...
    pub kind: String,
    /// Zero rejects the stream (RFC 3264 §6).
    pub port: u16,
    /// `RTP/AVP` for us.
    pub protocol: String,
    /// Formats as listed: payload type numbers for RTP.
    pub formats: Vec<String>,
    pub connection: Option<Connection>,
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:<pt> <params>`.
    pub fmtps: Vec<(u8, String)>,
    pub ptime_ms: Option<u32>,
    pub direction: Option<Direction>,
    /// Other `a=` values and other lines of this section, as `x=value`.
    pub other_lines: Vec<String>,
}

impl Media {
    /// An `m=audio` section offering `codecs` in preference order, with the usual rtpmaps.
    pub fn audio(port: u16, codecs: &[Codec], direction: Direction) -> Media {
        let mut media = Media {
            kind: "audio".into(),
            port,
            protocol: "RTP/AVP".into(),
            formats: Vec::new(),
            connection: None,
            rtpmaps: Vec::new(),
            fmtps: Vec::new(),
            ptime_ms: Some(20),
            direction: Some(direction),
            other_lines: Vec::new(),
        };
        for codec in codecs {
            let pt = codec.default_payload_type();
            media.formats.push(pt.to_string());
            media.rtpmaps.push(RtpMap {
                payload_type: pt,
                encoding: codec.encoding().into(),
                clock_rate: 8000,
                channels: None,
            });
            if *codec == Codec::TelephoneEvent {
                media.fmtps.push((pt, "0-15".into()));
            }
        }
        media
    }

    /// RTP payload types in the order listed (formats that are not numbers are skipped).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse().ok())
    }

    /// Which of our codecs a payload type carries: from its rtpmap, or the static table.
    pub fn codec(&self, payload_type: u8) -> Option<Codec> {
        match self.rtpmaps.iter().find(|m| m.payload_type == payload_type) {
            Some(map) if map.clock_rate == 8000 => {
                [Codec::Pcmu, Codec::Pcma, Codec::TelephoneEvent]
                    .into_iter()
                    .find(|c| c.encoding().eq_ignore_ascii_case(&map.encoding))
            }
            Some(_) => None,
            None => match payload_type {
                0 => Some(Codec::Pcmu),
                8 => Some(Codec::Pcma),
                _ => None,
            },
        }
    }

    /// The first offered voice codec we also support, with the offerer's payload type.
    pub fn first_voice_codec(&self, supported: &[Codec]) -> Option<(u8, Codec)> {
        self.payload_types().find_map(|pt| {
            self.codec(pt)
                .filter(|c| *c != Codec::TelephoneEvent && supported.contains(c))
                .map(|c| (pt, c))
        })
    }

    /// The offerer's telephone-event payload type, if any.
    pub fn telephone_event(&self) -> Option<u8> {
        self.payload_types().find(|pt| self.codec(*pt) == Some(Codec::TelephoneEvent))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    pub session_name: String,
    pub connection: Option<Connection>,
    /// `t=start stop`; `0 0` for a permanent session.
    pub timing: (u64, u64),
    pub direction: Option<Direction>,
    /// Other session-level lines, as `x=value`.
    pub other_lines: Vec<String>,
    pub media: Vec<Media>,
}

impl SessionDescription {
    /// The first audio section.
    pub fn audio(&self) -> Option<&Media> {
        self.media.iter().find(|m| m.kind == "audio")
    }

    /// Where to send a media section's RTP: its own `c=` or the session's.
    pub fn connection_for<'a>(&'a self, media: &'a Media) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }

    /// A section's direction; a missing attribute means `sendrecv` (RFC 3264 §5.1).
    pub fn direction_for(&self, media: &Media) -> Direction {
        media.direction.or(self.direction).unwrap_or(Direction::SendRecv)
    }

    /// Whether the far end holds this media: `sendonly`, `inactive`, or the old zero address.
    pub fn is_hold(&self, media: &Media) -> bool {
        matches!(self.direction_for(media), Direction::SendOnly | Direction::Inactive)
            || self.connection_for(media).is_some_and(Connection::is_hold_address)
    }

    pub fn parse(body: &[u8]) -> Result<SessionDescription, SdpError> {
        if body.len() > BODY_BYTES_MAX {
            return Err(SdpError::TooLarge { bytes: body.len(), max: BODY_BYTES_MAX });
        }
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
        let mut origin = None;
        let mut session_name = None;
        let mut session = SessionDescription {
            origin: Origin {
                username: String::new(),
                session_id: 0,
                session_version: 0,
                connection: Connection::ip4("0.0.0.0"),
            },
            session_name: String::new(),
            connection: None,
            timing: (0, 0),
            direction: None,
            other_lines: Vec::new(),
            media: Vec::new(),
        };
        let lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let mut seen_version = false;
        // RFC 4566 §5 requires t=; without it our own output (which always writes one) would
        // not match the input.
        let mut seen_timing = false;
        for (index, line) in lines.enumerate() {
            let line_no = index + 1;
            if line.is_empty() {
                continue;
            }
            if line_no > SDP_LINES_MAX {
                return Err(SdpError::TooManyLines { max: SDP_LINES_MAX });
            }
            let bad = |reason| SdpError::BadLine { line: line_no, reason };
            let (kind, value) = match line.as_bytes() {
                [k, b'=', ..] if k.is_ascii_lowercase() => (*k as char, &line[2..]),
                _ => return Err(bad("not x=value")),
            };
            if !seen_version {
                if kind != 'v' || value != "0" {
                    return Err(bad("first line is not v=0"));
                }
                seen_version = true;
                continue;
            }
            let in_media = !session.media.is_empty();
            match kind {
                'o' if !in_media => origin = Some(parse_origin(value).ok_or(bad("bad o="))?),
                's' if !in_media => session_name = Some(value.to_string()),
                't' if !in_media => {
                    let mut parts = value.split(' ').map(str::parse::<u64>);
                    let (Some(Ok(start)), Some(Ok(stop)), None) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        return Err(bad("bad t="));
                    };
                    session.timing = (start, stop);
                    seen_timing = true;
                }
                'c' => {
                    let connection = parse_connection(value).ok_or(bad("bad c="))?;
                    match session.media.last_mut() {
                        Some(media) => media.connection = Some(connection),
                        None => session.connection = Some(connection),
                    }
                }
                'm' => {
                    if session.media.len() >= SDP_MEDIA_MAX {
                        return Err(SdpError::TooManyMedia { max: SDP_MEDIA_MAX });
                    }
                    session.media.push(parse_media_line(value, line_no)?);
                }
                'a' => {
                    let direction = Direction::parse(value);
                    match session.media.last_mut() {
                        Some(media) => {
                            if let Some(d) = direction {
                                media.direction = Some(d);
                            } else if !parse_media_attribute(media, value, line_no)? {
                                media.other_lines.push(line.to_string());
                            }
                        }
                        None => match direction {
                            Some(d) => session.direction = Some(d),
                            None => session.other_lines.push(line.to_string()),
                        },
                    }
                }
                'v' | 'o' | 's' | 't' => return Err(bad("session line inside a media section")),
                _ => match session.media.last_mut() {
                    Some(media) => media.other_lines.push(line.to_string()),
                    None => session.other_lines.push(line.to_string()),
                },
            }
        }
        if !seen_version {
            return Err(SdpError::Missing('v'));
        }
        session.origin = origin.ok_or(SdpError::Missing('o'))?;
        session.session_name = session_name.ok_or(SdpError::Missing('s'))?;
        if !seen_timing {
            return Err(SdpError::Missing('t'));
        }
        Ok(session)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

fn parse_connection(value: &str) -> Option<Connection> {
    let mut parts = value.split_ascii_whitespace();
    let (Some("IN"), Some(address_type @ ("IP4" | "IP6")), Some(address), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    // Multicast TTL suffixes (`/127`) are not for telephony.
    if address.contains('/') {
        return None;
    }
    Some(Connection { address_type: address_type.into(), address: address.into() })
}

fn parse_origin(value: &str) -> Option<Origin> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let [username, id, version, net, addr_type, address] = parts[..] else {
        return None;
    };
    Some(Origin {
        username: username.into(),
        session_id: id.parse().ok()?,
        session_version: version.parse().ok()?,
        connection: parse_connection(&format!("{net} {addr_type} {address}"))?,
    })
}

fn parse_media_line(value: &str, line: usize) -> Result<Media, SdpError> {
    let bad = |reason| SdpError::BadLine { line, reason };
    let mut parts = value.split_ascii_whitespace();
    let kind = parts.next().ok_or(bad("empty m="))?;
    // `port/count` is for layered multicast; we take the base port.
    let port = parts.next().and_then(|p| p.split('/').next()?.parse::<u16>().ok());
    let port = port.ok_or(bad("bad port"))?;
    let protocol = parts.next().ok_or(bad("no protocol"))?;
    let mut formats = Vec::new();
    for format in parts {
        if formats.len() >= SDP_FORMATS_MAX {
            return Err(SdpError::TooManyFormats { max: SDP_FORMATS_MAX });
        }
        formats.push(format.to_string());
    }
    if protocol.starts_with("RTP/") && formats.iter().any(|f| f.parse::<u8>().is_err()) {
        return Err(bad("RTP format is not a payload type"));
    }
    let mut media = Media::audio(port, &[], Direction::SendRecv);
    media.kind = kind.into();
    media.protocol = protocol.into();
    media.formats = formats;
    media.ptime_ms = None;
    media.direction = None;
    Ok(media)
}

/// Reads the attributes we model; `false` for others, which are kept as text.
fn parse_media_attribute(media: &mut Media, value: &str, line: usize) -> Result<bool, SdpError> {
    let bad = |reason| SdpError::BadLine { line, reason };
    if let Some(rest) = value.strip_prefix("rtpmap:") {
        if media.rtpmaps.len() >= SDP_FORMATS_MAX {
            return Err(SdpError::TooManyFormats { max: SDP_FORMATS_MAX });
        }
        let (pt, rest) = rest.split_once(' ').ok_or(bad("bad rtpmap"))?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty()).ok_or(bad("bad rtpmap"))?;
        let clock_rate = parts.next().and_then(|r| r.parse().ok()).ok_or(bad("bad rtpmap"))?;
        let channels = match parts.next() {
            Some(c) => Some(c.parse().map_err(|_| bad("bad rtpmap channels"))?),
            None => None,
        };
        media.rtpmaps.push(RtpMap {
            payload_type: pt.parse().map_err(|_| bad("bad rtpmap payload type"))?,
            encoding: encoding.into(),
            clock_rate,
            channels,
        });
        Ok(true)
    } else if let Some(rest) = value.strip_prefix("fmtp:") {
        if media.fmtps.len() >= SDP_FORMATS_MAX {
            return Err(SdpError::TooManyFormats { max: SDP_FORMATS_MAX });
        }
        let (pt, params) = rest.split_once(' ').ok_or(bad("bad fmtp"))?;
        let pt = pt.parse().map_err(|_| bad("bad fmtp payload type"))?;
        media.fmtps.push((pt, params.trim().into()));
        Ok(true)
    } else if let Some(rest) = value.strip_prefix("ptime:") {
        media.ptime_ms = Some(rest.trim().parse().map_err(|_| bad("bad ptime"))?);
        Ok(true)
    } else {
        Ok(false)
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IN {} {}", self.address_type, self.address)
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(
            f,
            "v=0\r\no={} {} {} {}\r\n",
            o.username, o.session_id, o.session_version, o.connection
        )?;
        write!(f, "s={}\r\n", self.session_name)?;
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        write!(f, "t={} {}\r\n", self.timing.0, self.timing.1)?;
        if let Some(d) = self.direction {
            write!(f, "a={}\r\n", d.as_str())?;
        }
        for line in &self.other_lines {
            write!(f, "{line}\r\n")?;
        }
        for m in &self.media {
            write!(f, "m={} {} {}", m.kind, m.port, m.protocol)?;
            for format in &m.formats {
                write!(f, " {format}")?;
            }
            f.write_str("\r\n")?;
            if let Some(c) = &m.connection {
                write!(f, "c={c}\r\n")?;
            }
            for map in &m.rtpmaps {
                write!(f, "a=rtpmap:{} {}/{}", map.payload_type, map.encoding, map.clock_rate)?;
                if let Some(channels) = map.channels {
                    write!(f, "/{channels}")?;
                }
                f.write_str("\r\n")?;
            }
            for (pt, params) in &m.fmtps {
                write!(f, "a=fmtp:{pt} {params}\r\n")?;
            }
            if let Some(ptime) = m.ptime_ms {
                write!(f, "a=ptime:{ptime}\r\n")?;
            }
            if let Some(d) = m.direction {
                write!(f, "a={}\r\n", d.as_str())?;
            }
            for line in &m.other_lines {
                write!(f, "{line}\r\n")?;
            }
        }
        Ok(())
    }
}
