//! The RTP relay: one UDP socket and one task per leg. A task latches the far end's address
//! from the first packet (symmetric RTP, so phones behind NAT work), forwards each packet to
//! the bridged leg with the payload type rewritten and G.711 transcoded when the two legs
//! negotiated different laws, records both directions when asked, and reports a leg that
//! stays silent past the timeout.
//!
//! Each leg sends one continuous stream: its own SSRC, with sequence numbers and timestamps
//! re-based whenever the source changes, so the far end's jitter buffer never sees a jump.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::LegId;
use media::amd::{AmdConfig, AmdEvent, Detector};
use media::dtmf::{DtmfReceiver, DtmfSender};
use media::g711::Law;
use media::prompt::{Player, PlayerConfig};
use media::recorder::{Recorder, Side};
use media::rtp::RtpPacket;
use sip::sdp::Codec;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::prompts::PromptLibrary;
use super::{MediaEvent, ShellStats};
use crate::sipnet::{MediaCommand, RemoteMedia};

/// Largest RTP datagram relayed.
const RTP_BYTES_MAX: usize = 1_500;
/// While machine detection listens, time is checked this often even without packets.
const AMD_TICK: Duration = Duration::from_millis(100);

#[derive(Default)]
struct LegMedia {
    remote: Option<RemoteMedia>,
    /// The address packets actually come from, once seen.
    latched: Option<SocketAddr>,
    /// The bridged leg: its socket and state.
    bridge: Option<(Arc<UdpSocket>, Arc<Mutex<LegMedia>>)>,
    /// The call recording this leg feeds, and as which side.
    recording: Option<(Arc<Mutex<Recording>>, Side)>,
    out: OutStream,
    dtmf: DtmfReceiver,
    /// What arrives, for RTCP receiver report blocks.
    received: media::rtp::SequenceTracker,
    received_ssrc: Option<u32>,
    /// Answering-machine detection on what arrives, until it has an outcome.
    amd: Option<MachineListener>,
}

/// A leg's machine detector and whether a machine is reported only after its greeting.
struct MachineListener {
    detector: Detector,
    await_greeting_end: bool,
    /// The first packet of the current stream: SSRC, RTP timestamp, arrival time.
    anchor: Option<(u32, u32, domain::Timestamp)>,
    /// The last frame's time on that clock, and when it arrived.
    last: Option<(domain::Timestamp, domain::Timestamp)>,
}

impl MachineListener {
    /// The time of a frame on the sender's clock (RTP timestamps at 8 kHz) from the first
    /// packet's arrival, so packets that queued up while the relay was busy are not taken
    /// for a pause in the callee's speech; a new stream starts a new anchor.
    fn frame_time(&mut self, ssrc: u32, timestamp: u32) -> domain::Timestamp {
        let at = self.anchored_time(ssrc, timestamp);
        self.last = Some((at, super::clock()));
        at
    }

    /// The time now on the sender's clock: the last frame's, plus the time since it came.
    fn now(&self) -> domain::Timestamp {
        let now = super::clock();
        self.last.map_or(now, |(at, arrived)| at.plus_ms(now.ms_since(arrived)))
    }

    fn anchored_time(&mut self, ssrc: u32, timestamp: u32) -> domain::Timestamp {
        match self.anchor {
            Some((anchor_ssrc, first, at)) if anchor_ssrc == ssrc => {
                let offset = timestamp.wrapping_sub(first);
                // Older than the anchor (reordered, or a wrapped counter): at the anchor.
                if offset < 1 << 31 {
                    at.plus_ms(u64::from(offset / 8))
                } else {
                    at
                }
            }
            _ => {
                let now = super::clock();
                self.anchor = Some((ssrc, timestamp, now));
                now
            }
        }
    }

    /// The outcome (`true`: a machine) once known, from the detector's events.
    fn outcome(&mut self, leg: LegId) -> Option<bool> {
        while let Some(event) = self.detector.poll_event() {
            match event {
                AmdEvent::Verdict { verdict, at_ms } => {
                    tracing::info!(%leg, ?verdict, at_ms, "machine detection");
                    if !verdict.is_machine() {
                        return Some(false);
                    }
                    if !self.await_greeting_end {
                        return Some(true);
                    }
                }
                AmdEvent::GreetingEnded { at_ms } => {
                    tracing::info!(%leg, at_ms, "the machine's greeting ended");
                    return Some(true);
                }
            }
        }
        None
    }
}

/// The stream a leg sends: our SSRC, and the offsets mapping the current source onto it.
#[derive(Default)]
struct OutStream {
    ssrc: u32,
    source_ssrc: Option<u32>,
    seq_offset: u16,
    ts_offset: u32,
    last_seq: u16,
    last_ts: u32,
    /// Sent so far, for RTCP sender reports.
    packets: u32,
    octets: u32,
}

impl OutStream {
    /// Rewrites the packet's sequence number, timestamp and SSRC onto this stream.
    fn rebase(&mut self, packet: &mut [u8]) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(packet.len().saturating_sub(12) as u32);
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let ts = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        if self.source_ssrc != Some(ssrc) {
            // A new source continues one packet (20 ms) after the last one we sent.
            self.seq_offset = self.last_seq.wrapping_add(1).wrapping_sub(seq);
            self.ts_offset = self.last_ts.wrapping_add(160).wrapping_sub(ts);
            self.source_ssrc = Some(ssrc);
        }
        self.last_seq = seq.wrapping_add(self.seq_offset);
        self.last_ts = ts.wrapping_add(self.ts_offset);
        packet[2..4].copy_from_slice(&self.last_seq.to_be_bytes());
        packet[4..8].copy_from_slice(&self.last_ts.to_be_bytes());
        packet[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
    }
}

/// A call being recorded to `path` when it ends.
struct Recording {
    recorder: Recorder,
    path: PathBuf,
}

struct LegHandle {
    socket: Arc<UdpSocket>,
    state: Arc<Mutex<LegMedia>>,
    task: JoinHandle<()>,
    /// The prompt playing to this leg, if any.
    player: Option<JoinHandle<()>>,
    /// RTCP on the port above the RTP one.
    rtcp: Option<JoinHandle<()>>,
}

pub(super) struct Relay {
    ip: IpAddr,
    timeout: Duration,
    recordings: Option<PathBuf>,
    recording_ms_max: u64,
    amd: AmdConfig,
    prompts: Arc<tokio::sync::Mutex<PromptLibrary>>,
    events: mpsc::Sender<MediaEvent>,
    stats: Arc<ShellStats>,
    legs: HashMap<LegId, LegHandle>,
}

fn law(codec: Codec) -> Option<Law> {
    match codec {
        Codec::Pcmu => Some(Law::Pcmu),
        Codec::Pcma => Some(Law::Pcma),
        Codec::TelephoneEvent => None,
    }
}

/// Locks a leg's media state. A panic while holding it would be a bug in this module; the
/// state is plain data, so recovering it is safe.
fn lock(state: &Mutex<LegMedia>) -> std::sync::MutexGuard<'_, LegMedia> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Relay {
    pub fn new(
        ip: IpAddr,
        timeout_ms: u64,
        recordings: Option<PathBuf>,
        amd: AmdConfig,
        prompts: PromptLibrary,
        events: mpsc::Sender<MediaEvent>,
        stats: Arc<ShellStats>,
    ) -> Relay {
        Relay {
            ip,
            timeout: Duration::from_millis(timeout_ms),
            recordings,
            recording_ms_max: media::limits::RECORDING_MS_MAX,
            amd,
            prompts: Arc::new(tokio::sync::Mutex::new(prompts)),
            events,
            stats,
            legs: HashMap::new(),
        }
    }

    pub async fn handle(&mut self, command: MediaCommand) {
        match command {
            MediaCommand::Open { leg, port } => self.open(leg, port).await,
            MediaCommand::Remote { leg, remote } => {
                if let Some(handle) = self.legs.get(&leg) {
                    lock(&handle.state).remote = Some(remote);
                }
            }
            MediaCommand::Bridge { a, b } => {
                // Talking replaces whatever either side was hearing.
                self.stop_player(a);
                self.stop_player(b);
                let (Some(ha), Some(hb)) = (self.legs.get(&a), self.legs.get(&b)) else { return };
                lock(&ha.state).bridge = Some((hb.socket.clone(), hb.state.clone()));
                lock(&hb.state).bridge = Some((ha.socket.clone(), ha.state.clone()));
            }
            MediaCommand::Record { customer, agent, name } => self.record(customer, agent, &name),
            MediaCommand::Play { leg, prompt, looping } => self.play(leg, prompt, looping),
            MediaCommand::StopPlay { leg } => self.stop_player(leg),
            MediaCommand::SendDtmf { leg, digits } => {
                if let Some(handle) = self.legs.get(&leg) {
                    let (socket, state) = (handle.socket.clone(), handle.state.clone());
                    tokio::spawn(send_dtmf(leg, socket, state, digits, self.stats.clone()));
                }
            }
            MediaCommand::DetectMachine { leg, await_greeting_end } => {
                let Some(handle) = self.legs.get(&leg) else { return };
                match Detector::new(self.amd, super::clock()) {
                    Ok(detector) => {
                        let listener = MachineListener {
                            detector,
                            await_greeting_end,
                            anchor: None,
                            last: None,
                        };
                        lock(&handle.state).amd = Some(listener);
                    }
                    Err(error) => {
                        // The network's timer then reports the answer as a person's.
                        tracing::warn!(%leg, %error, "machine detection is misconfigured");
                    }
                }
            }
            MediaCommand::Close { leg } => self.close(leg),
        }
    }

    fn stop_player(&mut self, leg: LegId) {
        if let Some(player) = self.legs.get_mut(&leg).and_then(|h| h.player.take()) {
            player.abort();
            self.stats.prompts_playing.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn play(&mut self, leg: LegId, prompt: String, looping: bool) {
        self.stop_player(leg);
        let Some(handle) = self.legs.get_mut(&leg) else { return };
        let task = tokio::spawn(play(
            leg,
            handle.socket.clone(),
            handle.state.clone(),
            self.prompts.clone(),
            prompt,
            looping,
            self.stats.clone(),
        ));
        handle.player = Some(task);
        self.stats.prompts_playing.fetch_add(1, Ordering::Relaxed);
    }

    fn record(&mut self, customer: LegId, agent: LegId, name: &str) {
        let Some(dir) = &self.recordings else { return };
        let (Some(c), Some(a)) = (self.legs.get(&customer), self.legs.get(&agent)) else { return };
        let recording = Arc::new(Mutex::new(Recording {
            recorder: Recorder::new(super::clock(), self.recording_ms_max),
            path: dir.join(format!("{name}.wav")),
        }));
        lock(&c.state).recording = Some((recording.clone(), Side::Customer));
        lock(&a.state).recording = Some((recording, Side::Agent));
    }

    async fn open(&mut self, leg: LegId, port: u16) {
        if self.legs.contains_key(&leg) {
            return;
        }
        let socket = match UdpSocket::bind((self.ip, port)).await {
            Ok(socket) => Arc::new(socket),
            Err(error) => {
                tracing::warn!(%leg, port, %error, "cannot bind RTP port");
                let _ = self.events.send(MediaEvent::BindFailed(leg)).await;
                return;
            }
        };
        let state = Arc::new(Mutex::new(LegMedia::default()));
        // Any value will do for an SSRC as long as the two streams of a call differ.
        lock(&state).out.ssrc = 0x5b00_0000 ^ (u32::from(port) << 8) ^ (leg.0 as u32);
        let task = tokio::spawn(pump(
            leg,
            socket.clone(),
            state.clone(),
            self.timeout,
            self.events.clone(),
            self.stats.clone(),
        ));
        self.stats.media_sockets_open.fetch_add(1, Ordering::Relaxed);
        let rtcp = match UdpSocket::bind((self.ip, port.wrapping_add(1))).await {
            Ok(socket) => Some(tokio::spawn(rtcp(socket, state.clone(), self.stats.clone()))),
            Err(error) => {
                tracing::debug!(%leg, %error, "no RTCP port; the call goes on without RTCP");
                None
            }
        };
        self.legs.insert(leg, LegHandle { socket, state, task, player: None, rtcp });
    }

    fn close(&mut self, leg: LegId) {
        self.stop_player(leg);
        let Some(handle) = self.legs.remove(&leg) else { return };
        handle.task.abort();
        if let Some(rtcp) = handle.rtcp {
            rtcp.abort();
        }
        // Break the reference cycle between bridged legs so both sockets are freed.
        let (peer, recording) = {
            let mut own = lock(&handle.state);
            (own.bridge.take(), own.recording.take())
        };
        if let Some((_, peer_state)) = peer {
            let mut peer = lock(&peer_state);
            peer.bridge = None;
            peer.recording = None;
        }
        if let Some((recording, _)) = recording {
            save(recording);
        }
        self.stats.media_sockets_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reads one leg's RTP until the task is aborted.
async fn pump(
    leg: LegId,
    socket: Arc<UdpSocket>,
    state: Arc<Mutex<LegMedia>>,
    timeout: Duration,
    events: mpsc::Sender<MediaEvent>,
    stats: Arc<ShellStats>,
) {
    let mut buf = vec![0u8; RTP_BYTES_MAX];
    let mut reported_silence = false;
    let mut last_packet = tokio::time::Instant::now();
    loop {
        let mut wait = if reported_silence {
            timeout
        } else {
            timeout.saturating_sub(last_packet.elapsed()).max(Duration::from_millis(10))
        };
        if lock(&state).amd.is_some() {
            wait = wait.min(AMD_TICK);
        }
        let (len, from) = match tokio::time::timeout(wait, socket.recv_from(&mut buf)).await {
            Ok(Ok(received)) => {
                last_packet = tokio::time::Instant::now();
                received
            }
            Ok(Err(_)) => continue, // ICMP errors from a far end that went away; keep waiting
            Err(_) => {
                // No audio is silence to the machine detector too.
                if let Some(machine) = machine_tick(leg, &state) {
                    let _ = events.send(MediaEvent::Machine(leg, machine)).await;
                }
                // Silence counts only once the far end is supposed to be sending.
                let expecting = lock(&state).remote.is_some_and(|r| !r.on_hold);
                if !expecting {
                    last_packet = tokio::time::Instant::now();
                } else if last_packet.elapsed() >= timeout && !reported_silence {
                    reported_silence = true;
                    let _ = events.send(MediaEvent::Silent(leg)).await;
                }
                continue;
            }
        };
        stats.rtp_packets_received.fetch_add(1, Ordering::Relaxed);
        let packet = &mut buf[..len];
        let (source, target, recording) = {
            let mut own = lock(&state);
            if own.latched != Some(from) {
                own.latched = Some(from);
            }
            if let Ok(parsed) = RtpPacket::parse(packet) {
                own.received.handle_sequence(parsed.header.sequence);
                own.received_ssrc = Some(parsed.header.ssrc);
            }
            (own.remote, own.bridge.clone(), own.recording.clone())
        };
        let Some(source) = source else { continue };
        if let Some(machine) = detect_machine(leg, &state, &source, packet) {
            let _ = events.send(MediaEvent::Machine(leg, machine)).await;
        }
        if let Some(digit) = detect_dtmf(&state, &source, packet) {
            let _ = events.send(MediaEvent::Dtmf(leg, digit)).await;
        }
        if let Some((recording, side)) = recording {
            record(&recording, side, &source, packet);
        }
        let Some((peer_socket, peer_state)) = target else { continue };
        let (destination, peer_remote) = {
            let peer = lock(&peer_state);
            (peer.latched.or(peer.remote.map(|r| r.addr)), peer.remote)
        };
        let (Some(destination), Some(peer_remote)) = (destination, peer_remote) else { continue };
        if peer_remote.on_hold || !rewrite(packet, &source, &peer_remote) {
            continue;
        }
        lock(&peer_state).out.rebase(packet);
        if peer_socket.send_to(packet, destination).await.is_ok() {
            stats.rtp_packets_relayed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Feeds a voice packet to the leg's machine detector; its outcome (`true`: a machine) once,
/// when known.
fn detect_machine(
    leg: LegId,
    state: &Mutex<LegMedia>,
    source: &RemoteMedia,
    packet: &[u8],
) -> Option<bool> {
    let parsed = RtpPacket::parse(packet).ok()?;
    let law = law(source.codec)?;
    if parsed.header.payload_type != source.payload_type {
        return None;
    }
    let mut own = lock(state);
    let listener = own.amd.as_mut()?;
    let mut samples = Vec::with_capacity(parsed.payload.len());
    law.decode_into(parsed.payload, &mut samples);
    let at = listener.frame_time(parsed.header.ssrc, parsed.header.timestamp);
    if let Err(error) = listener.detector.handle_frame(at, &samples) {
        tracing::debug!(%leg, %error, "a frame machine detection cannot use");
    }
    let outcome = listener.outcome(leg);
    if outcome.is_some() {
        own.amd = None;
    }
    outcome
}

/// Lets time pass for the leg's machine detector when no packet came.
fn machine_tick(leg: LegId, state: &Mutex<LegMedia>) -> Option<bool> {
    let mut own = lock(state);
    let listener = own.amd.as_mut()?;
    let now = listener.now();
    listener.detector.handle_timeout(now);
    let outcome = listener.outcome(leg);
    if outcome.is_some() {
        own.amd = None;
    }
    outcome
}

/// Feeds a telephone-event packet to the leg's DTMF receiver; a completed key press comes out
/// once however many times its end packet is repeated.
fn detect_dtmf(state: &Mutex<LegMedia>, source: &RemoteMedia, packet: &[u8]) -> Option<char> {
    let parsed = RtpPacket::parse(packet).ok()?;
    if Some(parsed.header.payload_type) != source.dtmf_payload_type {
        return None;
    }
    let mut own = lock(state);
    let now = super::clock();
    own.dtmf.handle_payload(now, parsed.header.timestamp, parsed.payload).ok()?;
    own.dtmf.poll_digit().map(|d| d.digit)
}

/// RTCP for one leg (RFC 3550 §6): a report every few seconds (a sender report once we have
/// sent media, with a block about what we receive) to the far end's RTP port + 1, and reports
/// from the far end counted.
async fn rtcp(socket: UdpSocket, state: Arc<Mutex<LegMedia>>, stats: Arc<ShellStats>) {
    const FIRST: Duration = Duration::from_secs(1);
    const EVERY: Duration = Duration::from_secs(5);
    let mut buf = vec![0u8; RTP_BYTES_MAX];
    let mut next = tokio::time::Instant::now() + FIRST;
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                if let Ok((len, _)) = received {
                    if media::rtcp::parse_compound(&buf[..len]).is_ok() {
                        stats.rtcp_packets_received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            _ = tokio::time::sleep_until(next) => {
                next += EVERY;
                let report = {
                    let mut own = lock(&state);
                    let Some(remote) = own.latched.or(own.remote.map(|r| r.addr)) else { continue };
                    let sender = (own.out.packets > 0).then(|| media::rtcp::SenderInfo {
                        ntp: media::rtcp::ntp_from_timestamp(super::clock()),
                        rtp_timestamp: own.out.last_ts,
                        packet_count: own.out.packets,
                        octet_count: own.out.octets,
                    });
                    let ssrc = own.out.ssrc;
                    let block = own.received_ssrc.map(|source| {
                        media::rtcp::ReportBlock::from_tracker(source, &mut own.received)
                    });
                    let bytes = media::rtcp::build_report(ssrc, sender, block.as_ref(), "switchboard");
                    bytes.ok().map(|b| (b, SocketAddr::new(remote.ip(), remote.port().wrapping_add(1))))
                };
                if let Some((bytes, to)) = report {
                    if socket.send_to(&bytes, to).await.is_ok() {
                        stats.rtcp_packets_sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

/// Sends key presses to a leg as RFC 4733 events in the leg's outgoing stream.
async fn send_dtmf(
    leg: LegId,
    socket: Arc<UdpSocket>,
    state: Arc<Mutex<LegMedia>>,
    digits: String,
    stats: Arc<ShellStats>,
) {
    const TONE_MS: u32 = 100;
    const GAP_MS: u64 = 100;
    let Some(remote) = lock(&state).remote else { return };
    let Some(payload_type) = remote.dtmf_payload_type else {
        tracing::info!(%leg, "the far end takes no telephone-events; key presses not sent");
        return;
    };
    let Ok(sender) = DtmfSender::new(TONE_MS, 10) else { return };
    // A source of its own, so the outgoing stream re-bases onto it and back.
    let ssrc = 0xd7f0_0000 ^ (leg.0 as u32);
    let mut sequence = 0u16;
    for (i, digit) in digits.chars().enumerate() {
        let start = super::clock();
        let event_ts = (i as u32).wrapping_mul(8 * (TONE_MS + GAP_MS as u32));
        let Ok(packets) = sender.packets(digit, start, event_ts) else { continue };
        for packet in packets {
            let wait = packet.send_at.ms_since(super::clock());
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let header = media::rtp::RtpHeader {
                marker: packet.marker,
                payload_type,
                sequence,
                timestamp: packet.rtp_timestamp,
                ssrc,
            };
            sequence = sequence.wrapping_add(1);
            let Ok(mut bytes) = header.to_bytes(&packet.event.to_bytes()) else { continue };
            let destination = {
                let mut own = lock(&state);
                own.out.rebase(&mut bytes);
                own.latched.or(own.remote.map(|r| r.addr))
            };
            if let Some(destination) = destination {
                if socket.send_to(&bytes, destination).await.is_ok() {
                    stats.dtmf_packets_sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(GAP_MS)).await;
    }
}

/// Plays a prompt to a leg, paced at 20 ms, until it ends or the task is aborted.
async fn play(
    leg: LegId,
    socket: Arc<UdpSocket>,
    state: Arc<Mutex<LegMedia>>,
    prompts: Arc<tokio::sync::Mutex<PromptLibrary>>,
    name: String,
    looping: bool,
    stats: Arc<ShellStats>,
) {
    let prompt = match prompts.lock().await.get(&name).await {
        Ok(prompt) => prompt,
        Err(error) => {
            tracing::warn!(%leg, prompt = %name, %error, "cannot play a prompt");
            return;
        }
    };
    let Some(remote) = lock(&state).remote else { return };
    let Some(law) = law(remote.codec) else { return };
    let config = PlayerConfig {
        law,
        ssrc: 0x9001 ^ (leg.0 as u32),
        first_sequence: 0,
        first_timestamp: 0,
        looping,
    };
    let mut player = Player::new(prompt, config, super::clock());
    loop {
        while let Some(frame) = player.poll_transmit(super::clock()) {
            let Ok(mut bytes) = frame.to_bytes() else { continue };
            let destination = {
                let mut own = lock(&state);
                let destination = own.latched.or(own.remote.map(|r| r.addr));
                bytes[1] = (bytes[1] & 0x80) | (remote.payload_type & 0x7f);
                own.out.rebase(&mut bytes);
                destination
            };
            if let Some(destination) = destination {
                if socket.send_to(&bytes, destination).await.is_ok() {
                    stats.rtp_packets_played.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let Some(next) = player.poll_timeout() else { return };
        let wait = next.ms_since(super::clock());
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
}

/// Adds a voice packet's decoded audio to the call recording.
fn record(recording: &Mutex<Recording>, side: Side, source: &RemoteMedia, packet: &[u8]) {
    let Ok(parsed) = RtpPacket::parse(packet) else { return };
    let Some(law) = law(source.codec) else { return };
    if parsed.header.payload_type != source.payload_type {
        return; // DTMF events are not audio
    }
    let mut samples = Vec::with_capacity(parsed.payload.len());
    law.decode_into(parsed.payload, &mut samples);
    let mut recording = recording.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    recording.recorder.handle_frame(side, super::clock(), &samples);
}

/// Writes a finished recording to disk, off the relay's task.
fn save(recording: Arc<Mutex<Recording>>) {
    let taken = {
        let mut guard = recording.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let empty = Recording { recorder: Recorder::new(super::clock(), 0), path: PathBuf::new() };
        std::mem::replace(&mut *guard, empty)
    };
    if taken.path.as_os_str().is_empty() {
        return; // already saved by the other leg
    }
    tokio::task::spawn_blocking(move || match taken.recorder.finish() {
        Ok(bytes) => {
            // Written aside and renamed into place, so a reader (a download, a test) never
            // sees a half-written file.
            let partial = taken.path.with_extension("partial");
            let saved = std::fs::write(&partial, bytes)
                .and_then(|()| std::fs::rename(&partial, &taken.path));
            if let Err(error) = saved {
                tracing::warn!(path = %taken.path.display(), %error, "cannot save a recording");
            }
        }
        Err(error) => tracing::warn!(%error, "cannot encode a recording"),
    });
}

/// Rewrites a packet from a leg with `source` media for a leg with `target` media: payload
/// type, and the G.711 law if they differ. `false` drops it (unknown payload, no DTMF type).
fn rewrite(packet: &mut [u8], source: &RemoteMedia, target: &RemoteMedia) -> bool {
    let Ok(parsed) = RtpPacket::parse(packet) else { return false };
    let pt = parsed.header.payload_type;
    let payload_at = parsed.payload.as_ptr() as usize - packet.as_ptr() as usize;
    let payload_len = parsed.payload.len();
    let new_pt = if pt == source.payload_type {
        if let (Some(from), Some(to)) = (law(source.codec), law(target.codec)) {
            if from != to {
                let payload = &mut packet[payload_at..payload_at + payload_len];
                from.transcode_in_place(to, payload);
            }
        }
        target.payload_type
    } else if Some(pt) == source.dtmf_payload_type {
        match target.dtmf_payload_type {
            Some(dtmf) => dtmf,
            None => return false,
        }
    } else {
        return false;
    };
    // Byte 1 holds the marker bit and the payload type.
    packet[1] = (packet[1] & 0x80) | (new_pt & 0x7f);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(codec: Codec, pt: u8, dtmf: Option<u8>) -> RemoteMedia {
        RemoteMedia {
            addr: "127.0.0.1:4000".parse().expect("literal"),
            codec,
            payload_type: pt,
            dtmf_payload_type: dtmf,
            on_hold: false,
        }
    }

    fn packet(pt: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 0x80 | pt, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn transcodes_between_laws_and_keeps_the_marker() {
        let mut p = packet(0, &[0xFF, 0x7F, 0x00]);
        assert!(rewrite(&mut p, &media(Codec::Pcmu, 0, None), &media(Codec::Pcma, 8, None)));
        assert_eq!(p[1], 0x80 | 8);
        assert_eq!(p[12], Law::Pcma.silence(), "mu-law zero becomes A-law zero");
        let loud = Law::Pcma.decode(p[13]);
        assert!((loud - Law::Pcmu.decode(0x7F)).abs() < 64, "the level survives: {loud}");
    }

    #[test]
    fn machine_detection_times_frames_by_their_rtp_timestamps() {
        let detector = Detector::new(AmdConfig::default(), super::super::clock()).expect("valid");
        let mut listener =
            MachineListener { detector, await_greeting_end: false, anchor: None, last: None };
        let first = listener.frame_time(7, 1_000);
        assert_eq!(listener.frame_time(7, 1_000 + 160 * 50), first.plus_ms(1_000));
        assert_eq!(listener.frame_time(7, 999), first, "older than the anchor");
        let wrapped = listener.frame_time(7, 1_000u32.wrapping_add(u32::MAX));
        assert_eq!(wrapped, first);
        let other = listener.frame_time(8, 0);
        assert!(other >= first, "a new stream is anchored anew");
        assert_eq!(listener.frame_time(8, 800), other.plus_ms(100));
        assert!(listener.now() >= other.plus_ms(100), "time goes on from the last frame");
    }

    #[test]
    fn dtmf_follows_the_targets_payload_type_or_is_dropped() {
        let mut p = packet(101, &[1, 0x80, 0, 160]);
        let target = media(Codec::Pcmu, 0, Some(96));
        assert!(rewrite(&mut p, &media(Codec::Pcmu, 0, Some(101)), &target));
        assert_eq!(p[1] & 0x7f, 96);
        let mut p = packet(101, &[1, 0x80, 0, 160]);
        assert!(!rewrite(&mut p, &media(Codec::Pcmu, 0, Some(101)), &media(Codec::Pcmu, 0, None)));
        assert!(!rewrite(&mut [1, 2, 3], &target, &target), "not RTP");
    }
}
