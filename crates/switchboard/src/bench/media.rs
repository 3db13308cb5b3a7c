//! `switchboard bench media`: what relaying G.711 between bridged legs costs, and how much is
//! lost, at a given number of concurrent calls; for our relay or for rtpengine (userspace
//! mode, the Debian package) carrying the same load, side by side.
//!
//! A generator plays both ends of every call: two UDP sockets, each sending a 20 ms PCMU
//! packet every 20 ms (50 packets/s per direction) and counting what arrives from the other
//! end. Each packet carries its send time, so the one-way delay through the relay is measured
//! too. Our relay (`telephony::sipshell::MediaRelay`, the code SIP calls use) runs in this
//! process on a runtime of its own whose worker threads are named, so their CPU time is read
//! apart from the generator's (`/proc/self/task`). rtpengine runs as a child process, set up
//! over its ng control protocol (bencode over UDP); its CPU time is the whole process's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use domain::LegId;
use serde_json::{json, Value};
use sip::sdp::Codec;
use telephony::sipnet::{MediaCommand, RemoteMedia};
use telephony::sipshell::MediaRelay;
use tokio::net::UdpSocket;

use super::percentile;

/// Thread name of our relay's runtime workers (Linux keeps 15 characters).
const RELAY_THREAD: &str = "sb-relay";
/// RTP header plus 20 ms of 8 kHz G.711.
const PACKET_BYTES: usize = 12 + 160;
const FRAME_MS: u64 = 20;
/// Relay ports are taken from here upwards, two per leg (RTP and RTCP), below Linux's
/// ephemeral range (from 32,768), where the generator's own sockets are bound.
const PORT_BASE: u16 = 10_000;
/// Calls at most: four relay ports per call must stay below the ephemeral range.
pub const CALLS_MAX: usize = 5_000;

#[derive(Clone, Debug)]
pub enum RelayKind {
    Ours,
    Rtpengine(PathBuf),
}

/// Runs the load for `seconds` through the relay and reports loss, delay, CPU and memory.
/// Blocking: it builds runtimes of its own, so call it from a plain thread.
pub fn media(calls: usize, seconds: u64, relay: RelayKind) -> anyhow::Result<Value> {
    anyhow::ensure!((1..=CALLS_MAX).contains(&calls), "--calls: 1 to {CALLS_MAX}");
    anyhow::ensure!((1..=3_600).contains(&seconds), "--seconds: 1 to 3600");
    let generator = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let endpoints: Vec<StdUdpSocket> = (0..calls * 2)
        .map(|_| {
            let socket = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
            socket.set_nonblocking(true)?;
            Ok(socket)
        })
        .collect::<std::io::Result<_>>()
        .context("binding the generator's sockets")?;
    let addrs: Vec<SocketAddr> =
        endpoints.iter().map(|s| s.local_addr()).collect::<std::io::Result<_>>()?;

    // Where each endpoint sends: the relay's socket facing it.
    let (targets, under_test) = match &relay {
        RelayKind::Ours => {
            let (targets, ours) = start_ours(&addrs)?;
            (targets, UnderTest::Ours(Box::new(ours)))
        }
        RelayKind::Rtpengine(bin) => {
            let (targets, child) = start_rtpengine(bin, &addrs)?;
            (targets, UnderTest::Rtpengine(child))
        }
    };
    eprintln!("bench media: {calls} calls set up; sending for {seconds} s");
    let cpu_before = under_test.cpu_ms();
    let started = Instant::now();
    let load = generator.block_on(run_load(endpoints, targets, Duration::from_secs(seconds)))?;
    let wall_ms = started.elapsed().as_millis() as u64;
    let cpu_ms = under_test.cpu_ms().saturating_sub(cpu_before);
    let rss_kb = under_test.rss_kb();
    drop(under_test);

    let mut delays: Vec<f64> = load.delays_us.iter().map(|&d| f64::from(d)).collect();
    delays.sort_unstable_by(f64::total_cmp);
    let relayed_per_s = load.received as f64 / (seconds as f64);
    let loss = if load.sent == 0 { 0.0 } else { 1.0 - load.received as f64 / load.sent as f64 };
    Ok(json!({
        "bench": "media",
        "relay": match relay { RelayKind::Ours => "switchboard", RelayKind::Rtpengine(_) => "rtpengine" },
        "calls": calls,
        "seconds": seconds,
        "packets_sent": load.sent,
        "packets_received": load.received,
        "send_errors": load.send_errors,
        "loss_ratio": loss,
        "delay_us_p50": percentile(&delays, 0.50),
        "delay_us_p99": percentile(&delays, 0.99),
        "delay_us_max": delays.last().copied().unwrap_or(0.0),
        "relay_cpu_ms": cpu_ms,
        "relay_cpu_percent_of_core": cpu_ms as f64 / wall_ms.max(1) as f64 * 100.0,
        "relay_cpu_us_per_packet": if load.received == 0 { 0.0 } else { cpu_ms as f64 * 1000.0 / load.received as f64 },
        "relay_cpu_ms_per_call_second": cpu_ms as f64 / (calls as f64 * seconds as f64),
        "relayed_packets_per_s": relayed_per_s,
        "relay_rss_mb": rss_kb as f64 / 1024.0,
        "note": "relay_rss_mb is the whole bench process's for switchboard (relay and generator share it)",
    }))
}

enum UnderTest {
    /// Held so that the relay lives until the end of the run.
    Ours(#[expect(dead_code, reason = "only kept alive")] Box<Ours>),
    Rtpengine(Child),
}

impl UnderTest {
    fn cpu_ms(&self) -> u64 {
        match self {
            UnderTest::Ours(_) => threads_cpu_ms(RELAY_THREAD),
            UnderTest::Rtpengine(child) => {
                cpu_ms_of(&format!("/proc/{}/stat", child.id())).unwrap_or(0)
            }
        }
    }

    fn rss_kb(&self) -> u64 {
        let pid = match self {
            UnderTest::Ours(_) => "self".to_string(),
            UnderTest::Rtpengine(child) => child.id().to_string(),
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for UnderTest {
    fn drop(&mut self) {
        if let UnderTest::Rtpengine(child) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// utime + stime in ms from a `/proc/.../stat` file.
fn cpu_ms_of(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 counting pid and comm; clock ticks are 10 ms.
    Some((ticks(11) + ticks(12)) * 10)
}

/// CPU time of this process's threads named `name`.
fn threads_cpu_ms(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .filter_map(|t| cpu_ms_of(&t.path().join("stat").display().to_string()))
        .sum()
}

/// Our relay on its own runtime; dropping it closes every leg.
struct Ours {
    runtime: tokio::runtime::Runtime,
    relay: Option<MediaRelay>,
    legs: u64,
}

impl Drop for Ours {
    fn drop(&mut self) {
        let (legs, relay) = (self.legs, self.relay.take());
        if let Some(mut relay) = relay {
            self.runtime.block_on(async move {
                for leg in 1..=legs {
                    relay.handle(MediaCommand::Close { leg: LegId(leg) }).await;
                }
            });
        }
    }
}

/// Opens two legs per call (ports from [`PORT_BASE`]), points each at its endpoint and bridges
/// them. Returns, per endpoint, the relay address it sends to.
fn start_ours(endpoints: &[SocketAddr]) -> anyhow::Result<(Vec<SocketAddr>, Ours)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(RELAY_THREAD)
        .enable_all()
        .build()?;
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let legs = endpoints.len() as u64;
    let (relay, targets) = runtime.block_on(async {
        // Long enough that no leg is reported silent during the run.
        let mut relay = MediaRelay::new(ip, 3_600_000);
        let mut targets = Vec::with_capacity(endpoints.len());
        for (i, &addr) in endpoints.iter().enumerate() {
            let (leg, port) = (LegId(i as u64 + 1), PORT_BASE + 2 * i as u16);
            relay.handle(MediaCommand::Open { leg, port }).await;
            let remote = RemoteMedia {
                addr,
                codec: Codec::Pcmu,
                payload_type: 0,
                dtmf_payload_type: Some(101),
                on_hold: false,
            };
            relay.handle(MediaCommand::Remote { leg, remote }).await;
            targets.push(SocketAddr::new(ip, port));
        }
        for call in 0..endpoints.len() as u64 / 2 {
            let (a, b) = (LegId(2 * call + 1), LegId(2 * call + 2));
            relay.handle(MediaCommand::Bridge { a, b }).await;
        }
        (relay, targets)
    });
    let open = telephony::sipshell::ShellStats::get(&relay.stats().media_sockets_open);
    anyhow::ensure!(open == endpoints.len(), "only {open} relay ports could be bound");
    Ok((targets, Ours { runtime, relay: Some(relay), legs }))
}

/// Starts rtpengine in userspace mode and sets up one call per endpoint pair over ng.
fn start_rtpengine(
    bin: &PathBuf,
    endpoints: &[SocketAddr],
) -> anyhow::Result<(Vec<SocketAddr>, Child)> {
    let ng = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let ng_port = ng.local_addr()?.port();
    drop(ng);
    let port_max = PORT_BASE as usize + 2 * endpoints.len() + 64;
    let child = Command::new(bin)
        .args(["--table=-1", "--interface=127.0.0.1", "--foreground", "--log-stderr"])
        .args(["--log-level=3", "--num-threads=2", "--timeout=3600"])
        .arg(format!("--listen-ng=127.0.0.1:{ng_port}"))
        .arg(format!("--port-min={PORT_BASE}"))
        .arg(format!("--port-max={port_max}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("running {} (apt install rtpengine-daemon)", bin.display()))?;
    let control = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    control.set_read_timeout(Some(Duration::from_millis(200)))?;
    control.connect((Ipv4Addr::LOCALHOST, ng_port))?;
    let mut ng = Ng { socket: control, cookie: 0 };
    let deadline = Instant::now() + Duration::from_secs(10);
    while ng.request(&[("command", "ping")]).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "rtpengine does not answer on ng");
    }
    let mut targets = vec![endpoints[0]; endpoints.len()];
    for call in 0..endpoints.len() / 2 {
        let (a, b) = (endpoints[2 * call], endpoints[2 * call + 1]);
        let call_id = format!("bench-{call}");
        let offer = ng.request(&[
            ("call-id", &call_id),
            ("command", "offer"),
            ("from-tag", "a"),
            ("sdp", &sdp(a)),
        ])?;
        let answer = ng.request(&[
            ("call-id", &call_id),
            ("command", "answer"),
            ("from-tag", "a"),
            ("sdp", &sdp(b)),
            ("to-tag", "b"),
        ])?;
        // The offer's rewritten SDP goes to b: where b sends. The answer's goes to a.
        targets[2 * call + 1] = media_addr(&offer).context("rtpengine's offer SDP")?;
        targets[2 * call] = media_addr(&answer).context("rtpengine's answer SDP")?;
    }
    Ok((targets, child))
}

fn sdp(addr: SocketAddr) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
        ip = addr.ip(),
        port = addr.port()
    )
}

/// The connection address and audio port of an SDP body.
fn media_addr(sdp: &str) -> Option<SocketAddr> {
    let ip = sdp.lines().find_map(|l| l.trim().strip_prefix("c=IN IP4 "))?.trim().parse().ok()?;
    let port = sdp.lines().find_map(|l| l.trim().strip_prefix("m=audio "))?;
    let port = port.split_whitespace().next()?.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

/// rtpengine's ng protocol: "<cookie> <bencoded dictionary>" per datagram, both ways.
struct Ng {
    socket: StdUdpSocket,
    cookie: u64,
}

impl Ng {
    /// Sends a dictionary of strings (keys in sorted order) and returns the reply's `sdp`,
    /// or an empty string when it has none; a reply whose result is not ok is an error.
    fn request(&mut self, fields: &[(&str, &str)]) -> anyhow::Result<String> {
        self.cookie += 1;
        let mut message = format!("{} d", self.cookie).into_bytes();
        for (key, value) in fields {
            for s in [key, value] {
                message.extend_from_slice(format!("{}:", s.len()).as_bytes());
                message.extend_from_slice(s.as_bytes());
            }
        }
        message.push(b'e');
        self.socket.send(&message)?;
        let mut buf = vec![0u8; 65_536];
        loop {
            let len = self.socket.recv(&mut buf)?;
            let reply = &buf[..len];
            let prefix = format!("{} ", self.cookie);
            if !reply.starts_with(prefix.as_bytes()) {
                continue; // a late reply to an earlier try
            }
            let body = &reply[prefix.len()..];
            let result = bencode_string(body, "result").unwrap_or_default();
            anyhow::ensure!(
                result == "ok" || result == "pong",
                "rtpengine refused: {}",
                String::from_utf8_lossy(body)
            );
            return Ok(bencode_string(body, "sdp").unwrap_or_default());
        }
    }
}

/// The string value of `key` in a flat bencoded dictionary (enough for ng replies).
fn bencode_string(body: &[u8], key: &str) -> Option<String> {
    let needle = format!("{}:{}", key.len(), key);
    let at = body.windows(needle.len()).position(|w| w == needle.as_bytes())? + needle.len();
    let rest = &body[at..];
    let colon = rest.iter().position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(&rest[..colon]).ok()?.parse().ok()?;
    let value = rest.get(colon + 1..colon + 1 + len)?;
    Some(String::from_utf8_lossy(value).into_owned())
}

struct Load {
    sent: u64,
    received: u64,
    send_errors: u64,
    delays_us: Vec<u32>,
}

/// Sends from every endpoint for `duration` (endpoints spread over the 20 ms frame, one
/// group per millisecond), then waits for stragglers and counts what arrived.
async fn run_load(
    endpoints: Vec<StdUdpSocket>,
    targets: Vec<SocketAddr>,
    duration: Duration,
) -> anyhow::Result<Load> {
    let sockets: Vec<Arc<UdpSocket>> = endpoints
        .into_iter()
        .map(|s| UdpSocket::from_std(s).map(Arc::new))
        .collect::<std::io::Result<_>>()?;
    let epoch = Instant::now();
    let end = tokio::time::Instant::now() + duration;
    let listen_until = end + Duration::from_millis(500);
    let receivers: Vec<_> = sockets
        .iter()
        .map(|socket| tokio::spawn(receive(socket.clone(), epoch, listen_until)))
        .collect();
    let (sent, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let groups = FRAME_MS as usize;
    let mut packet = [0xffu8; PACKET_BYTES];
    (packet[0], packet[1]) = (0x80, 0); // version 2, PCMU
    let mut ms: u64 = 0;
    while tokio::time::Instant::now() < end {
        tick.tick().await;
        let group = (ms % FRAME_MS) as usize;
        let frame = ms / FRAME_MS;
        ms += 1;
        for (i, socket) in sockets.iter().enumerate().skip(group).step_by(groups) {
            packet[2..4].copy_from_slice(&(frame as u16).to_be_bytes());
            packet[4..8].copy_from_slice(&((frame * 160) as u32).to_be_bytes());
            packet[8..12].copy_from_slice(&(i as u32).to_be_bytes());
            let at = epoch.elapsed().as_micros() as u64;
            packet[12..20].copy_from_slice(&at.to_be_bytes());
            match socket.try_send_to(&packet, targets[i]) {
                Ok(_) => sent.fetch_add(1, Ordering::Relaxed),
                Err(_) => errors.fetch_add(1, Ordering::Relaxed),
            };
        }
    }
    let mut load = Load {
        sent: sent.load(Ordering::Relaxed),
        received: 0,
        send_errors: errors.load(Ordering::Relaxed),
        delays_us: Vec::new(),
    };
    for receiver in receivers {
        let (count, delays) = receiver.await?;
        load.received += count;
        load.delays_us.extend(delays);
    }
    Ok(load)
}

/// Counts packets arriving on one endpoint until `until`, with each one's delay.
async fn receive(
    socket: Arc<UdpSocket>,
    epoch: Instant,
    until: tokio::time::Instant,
) -> (u64, Vec<u32>) {
    let mut buf = [0u8; 1_500];
    let (mut count, mut delays) = (0u64, Vec::new());
    while let Ok(received) = tokio::time::timeout_at(until, socket.recv_from(&mut buf)).await {
        let Ok((len, _)) = received else { continue };
        if len != PACKET_BYTES {
            continue; // RTCP or anything else
        }
        count += 1;
        let sent = u64::from_be_bytes(buf[12..20].try_into().expect("8 bytes"));
        let now = epoch.elapsed().as_micros() as u64;
        delays.push(now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
    }
    (count, delays)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ng_replies_and_sdp_yield_the_relay_address() {
        let body = b"d3:sdp41:c=IN IP4 127.0.0.1\r\nm=audio 30004 RTP/AVP6:result2:oke";
        let sdp = bencode_string(body, "sdp").expect("an sdp");
        assert_eq!(bencode_string(body, "result").as_deref(), Some("ok"));
        assert_eq!(media_addr(&sdp), Some("127.0.0.1:30004".parse().unwrap()));
        assert_eq!(bencode_string(b"d6:result5:errore", "sdp"), None);
        let offer = super::sdp("127.0.0.1:4000".parse().unwrap());
        assert_eq!(media_addr(&offer), Some("127.0.0.1:4000".parse().unwrap()));
    }
}
