//! Helpers for the tests that run our SIP shell against real peers (sipp, baresip).

#![allow(dead_code)] // each test binary uses a different subset

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use domain::telephony::{LegEvent, LegEventKind, NetEvent};
use telephony::sipnet::{NumberFormat, SipAccount, SipConfig, TrunkConfig};
use telephony::sipshell::SipShell;

/// A UDP port that was free a moment ago (pairs for RTP: the port is even).
pub fn free_udp_port() -> u16 {
    loop {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = socket.local_addr().expect("bound").port();
        if port.is_multiple_of(2) && port < 65_000 {
            return port;
        }
    }
}

pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Shell config: SIP on an ephemeral port, RTP from `rtp_base`, a trunk at `trunk_port`.
pub fn config(trunk_port: u16, rtp_base: u16, accounts: Vec<SipAccount>) -> SipConfig {
    let mut config = SipConfig::local(addr(0), u64::from(rtp_base));
    config.rtp_port_min = rtp_base;
    config.rtp_port_max = rtp_base + 40;
    config.accounts = accounts;
    config.trunk = Some(TrunkConfig {
        proxy: addr(trunk_port),
        domain: "carrier.test".into(),
        username: None,
        password: None,
        caller_id: Some("+442071234567".into()),
        number_format: NumberFormat::E164,
        transport: telephony::sipnet::Transport::Udp,
        register_expires_s: None,
    });
    config
}

/// The next network event, or a panic after `secs` (the peer is stuck: a test failure).
pub async fn next_net_event(shell: &mut SipShell, secs: u64) -> NetEvent {
    match tokio::time::timeout(Duration::from_secs(secs), shell.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("the shell stopped"),
        Err(_) => panic!("no network event within {secs} s"),
    }
}

/// The next leg event; any other kind of event here is a test failure.
pub async fn next_event(shell: &mut SipShell, secs: u64) -> LegEvent {
    match next_net_event(shell, secs).await {
        NetEvent::Leg(event) => event,
        other => panic!("expected a leg event, got {other:?}"),
    }
}

pub async fn expect_events(shell: &mut SipShell, expected: &[LegEventKind]) {
    for kind in expected {
        let event = next_event(shell, 15).await;
        assert_eq!(event.kind, *kind, "leg events out of order");
    }
}

/// Waits until `check` holds, polling; `false` if it never did within `secs`.
pub async fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

/// The sipp scenarios live in the telephony crate; other crates' tests include this module.
fn scenario_dir() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = here.join("tests/sipp");
    if own.is_dir() {
        own
    } else {
        here.join("../telephony/tests/sipp")
    }
}

/// Waits (at most 10 s) until something listens on UDP `port` of this machine. sipp binds
/// within milliseconds on a quiet machine but much later on a loaded one, and a call sent
/// before that meets a closed port. Read from `/proc/net/udp`: probing with a bind of our own
/// could take the port from under sipp.
fn udp_port_bound(port: u16) {
    let wanted = format!(":{port:04X} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
        // Each line's second column is the local address, `0100007F:1F90`.
        let bound = table.lines().skip(1).any(|line| {
            line.split_whitespace().nth(1).is_some_and(|a| format!("{a} ").contains(&wanted))
        });
        if bound {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A sipp process playing a scenario from `tests/sipp`, one call, then exit.
pub struct Sipp {
    child: Child,
    pub port: u16,
    pub media_port: u16,
    _dir: tempfile::TempDir,
}

impl Sipp {
    /// Starts sipp as a UAS. `pcap` replaces `@PCAP@` in the scenario.
    pub fn uas(scenario: &str, pcap: Option<&Path>, calls: u32) -> Sipp {
        Sipp::spawn(scenario, pcap, calls, &[])
    }

    /// Starts sipp as a UAC calling `service` (the Request-URI user) at `target`.
    pub fn uac(scenario: &str, pcap: Option<&Path>, target: SocketAddr, service: &str) -> Sipp {
        Sipp::spawn(scenario, pcap, 1, &["-s", service, &target.to_string()])
    }

    pub fn spawn(scenario: &str, pcap: Option<&Path>, calls: u32, extra: &[&str]) -> Sipp {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = std::fs::read_to_string(scenario_dir().join(scenario)).expect("scenario");
        let pcap = pcap.map(|p| p.display().to_string()).unwrap_or_default();
        let file = dir.path().join(scenario);
        std::fs::write(&file, text.replace("@PCAP@", &pcap)).expect("write scenario");
        let port = free_udp_port();
        let media_port = free_udp_port();
        let child = Command::new("sipp")
            .args(["-sf", &file.display().to_string()])
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &media_port.to_string()])
            .args(["-m", &calls.to_string(), "-timeout", "30s", "-timeout_error"])
            .args(["-nostdin", "-trace_err"])
            .arg("-rtp_echo")
            .args(extra)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp is installed (scripts/setup --test)");
        udp_port_bound(port);
        Sipp { child, port, media_port, _dir: dir }
    }

    /// Waits for sipp to finish its calls; its exit status says whether the scenario passed.
    pub fn wait(mut self, secs: u64) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait on sipp") {
                let errors = std::fs::read_dir(self._dir.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with("errors.log"))
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect();
                return (status, errors);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sipp did not finish within {secs} s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ms` of a sine tone at 8 kHz.
pub fn tone(freq_hz: f64, ms: u32, amplitude: f64) -> Vec<i16> {
    (0..ms * 8)
        .map(|i| {
            let t = f64::from(i) / 8_000.0;
            (amplitude * (2.0 * std::f64::consts::PI * freq_hz * t).sin()) as i16
        })
        .collect()
}

/// Writes `samples` as a pcap of PCMU RTP packets (20 ms each), the form sipp's
/// `play_pcap_audio` replays.
pub fn write_pcap(path: &Path, samples: &[i16]) {
    let packets: Vec<(u32, Vec<u8>)> = samples
        .chunks(160)
        .enumerate()
        .map(|(n, frame)| {
            let n32 = u32::try_from(n).expect("short test audio");
            let payload: Vec<u8> =
                frame.iter().map(|s| media::g711::Law::Pcmu.encode(*s)).collect();
            (n32 * 20_000, rtp_packet(0, false, n as u16, n32 * 160, &payload))
        })
        .collect();
    write_pcap_packets(path, &packets);
}

fn rtp_packet(payload_type: u8, marker: bool, seq: u16, timestamp: u32, payload: &[u8]) -> Vec<u8> {
    let mut rtp = vec![0x80, payload_type | if marker { 0x80 } else { 0 }];
    rtp.extend_from_slice(&seq.to_be_bytes());
    rtp.extend_from_slice(&timestamp.to_be_bytes());
    rtp.extend_from_slice(&0x5eed_u32.to_be_bytes());
    rtp.extend_from_slice(payload);
    rtp
}

/// A pcap of `lead_ms` of tone, then key `event` (RFC 4733, payload type 101, 160 ms, the end
/// packet sent three times), then `tail_ms` more tone.
pub fn write_dtmf_pcap(path: &Path, lead_ms: u32, event: u8, tail_ms: u32) {
    let tone = tone(600.0, lead_ms + tail_ms + 200, 6_000.0);
    let mut packets = Vec::new();
    let (mut seq, mut at, mut ts) = (0u16, 0u32, 0u32);
    let push_audio =
        |packets: &mut Vec<(u32, Vec<u8>)>, seq: &mut u16, at: &mut u32, ts: &mut u32, ms: u32| {
            for _ in 0..ms / 20 {
                let start = (*ts as usize) % (tone.len() - 160);
                let payload: Vec<u8> = tone[start..start + 160]
                    .iter()
                    .map(|s| media::g711::Law::Pcmu.encode(*s))
                    .collect();
                packets.push((*at, rtp_packet(0, false, *seq, *ts, &payload)));
                *seq = seq.wrapping_add(1);
                *at += 20_000;
                *ts += 160;
            }
        };
    push_audio(&mut packets, &mut seq, &mut at, &mut ts, lead_ms);
    let event_ts = ts;
    for i in 0..8u16 {
        let end = i >= 5;
        let duration = if end { 160 * 6 } else { 160 * (i + 1) };
        let mut payload = vec![event, if end { 0x80 | 10 } else { 10 }];
        payload.extend_from_slice(&duration.to_be_bytes());
        packets.push((at, rtp_packet(101, i == 0, seq, event_ts, &payload)));
        seq = seq.wrapping_add(1);
        at += 20_000;
    }
    ts += 160 * 8;
    push_audio(&mut packets, &mut seq, &mut at, &mut ts, tail_ms);
    write_pcap_packets(path, &packets);
}

/// Writes RTP packets, each with its offset in microseconds, as an Ethernet pcap.
pub fn write_pcap_packets(path: &Path, packets: &[(u32, Vec<u8>)]) {
    let packets: Vec<(u64, Vec<u8>)> =
        packets.iter().map(|(at, rtp)| (u64::from(*at), rtp.clone())).collect();
    std::fs::write(path, media::pcap::rtp_pcap(&packets)).expect("write pcap");
}

/// A baresip process acting as an agent's phone: registers with digest auth, auto-answers,
/// sends `source_wav` as its microphone, and dumps what it hears into its directory.
pub struct Baresip {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Baresip {
    pub fn start(registrar: SocketAddr, user: &str, password: &str, source_wav: &Path) -> Baresip {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_udp_port();
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{port}\n\
             audio_source\t\taufile,{source}\n\
             audio_player\t\taubridge,nowhere\n\
             audio_alert\t\taubridge,nowhere\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tg711.so\n\
             module\t\t\taufile.so\n\
             module\t\t\taubridge.so\n\
             module\t\t\tsndfile.so\n\
             module_app\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             snd_path\t\t{dump}\n\
             rtp_timeout\t\t0\n",
            source = source_wav.display(),
            dump = dir.path().display(),
        );
        std::fs::write(dir.path().join("config"), config).expect("write config");
        let account = format!(
            "<sip:{user}@{registrar};transport=udp>;auth_pass={password};answermode=auto;\
             regint=600;audio_codecs=PCMU,PCMA\n"
        );
        std::fs::write(dir.path().join("accounts"), account).expect("write accounts");
        std::fs::write(dir.path().join("contacts"), "").expect("write contacts");
        let log = std::fs::File::create(dir.path().join("baresip.log")).expect("log file");
        let child = Command::new("baresip")
            .args(["-f", &dir.path().display().to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("baresip is installed (scripts/setup --test)");
        Baresip { child, dir }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }

    /// The WAV files baresip's sndfile module dumped (what it heard and what it sent).
    pub fn dumps(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wav"))
            .collect()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes 8 kHz mono 16-bit samples as a WAV file.
pub fn write_wav(path: &Path, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create wav");
    for s in samples {
        writer.write_sample(*s).expect("write sample");
    }
    writer.finalize().expect("finish wav");
}

/// RMS of each channel of a WAV file.
pub fn channel_rms(path: &Path) -> Vec<f64> {
    let mut reader = hound::WavReader::open(path).expect("open wav");
    let channels = usize::from(reader.spec().channels);
    let mut sums = vec![0f64; channels];
    let mut counts = vec![0usize; channels];
    for (i, sample) in reader.samples::<i16>().enumerate() {
        let s = f64::from(sample.expect("16-bit samples"));
        sums[i % channels] += s * s;
        counts[i % channels] += 1;
    }
    sums.iter().zip(&counts).map(|(s, n)| (s / (*n).max(1) as f64).sqrt()).collect()
}

/// The share of a channel's power at `freq_hz` (Goertzel over the whole channel), 0..=1.
pub fn tone_power(path: &Path, channel: usize, freq_hz: f64) -> f64 {
    let mut reader = hound::WavReader::open(path).expect("open wav");
    let channels = usize::from(reader.spec().channels);
    let rate = f64::from(reader.spec().sample_rate);
    let samples: Vec<f64> = reader
        .samples::<i16>()
        .skip(channel)
        .step_by(channels)
        .map(|s| f64::from(s.expect("16-bit samples")))
        .collect();
    let total: f64 = samples.iter().map(|s| s * s).sum();
    if total == 0.0 {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * freq_hz / rate;
    let (mut s1, mut s2) = (0.0, 0.0);
    for x in &samples {
        let s0 = x + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    // A pure tone of N samples gives power = total * N / 2.
    (power / (total * samples.len() as f64 / 2.0)).min(1.0)
}

/// `text` spoken by espeak-ng (`scripts/setup --test` installs it) as 8 kHz samples, scaled
/// to a telephone level.
pub fn speech(text: &str) -> Vec<i16> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("speech.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en", "-w"])
        .arg(&path)
        .arg("--")
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/setup --test)");
    assert!(status.success(), "espeak-ng failed");
    let bytes = std::fs::read(&path).expect("espeak-ng wrote the file");
    media::wav::decode_8k_mono(&bytes, &media::wav::WavLimits::PROMPT).expect("a WAV")
}

/// `ms` of digital silence at 8 kHz.
pub fn silence(ms: u32) -> Vec<i16> {
    vec![0; ms as usize * 8]
}

/// Writes `samples` as a pcap of PCMU RTP packets (20 ms each) with RFC 4733 key presses
/// (payload type 101) at the given offsets in ms: each press replaces 160 ms of audio with
/// event packets, the end packet sent three times, in the same stream.
pub fn write_speech_dtmf_pcap(path: &Path, samples: &[i16], keys: &[(u32, char)]) {
    const EVENT_PACKETS: u32 = 8;
    let slots = samples.len().div_ceil(160) as u32;
    let mut packets = Vec::new();
    for slot in 0..slots {
        let at = slot * 20_000;
        let seq = slot as u16;
        let key = keys.iter().find(|(ms, _)| (ms / 20..ms / 20 + EVENT_PACKETS).contains(&slot));
        if let Some(&(ms, digit)) = key {
            let first = ms / 20;
            let i = slot - first;
            let event = media::dtmf::event_of_digit(digit).expect("a DTMF key");
            let end = i >= 5;
            let duration = if end { 160 * 6 } else { 160 * (i as u16 + 1) };
            let mut payload = vec![event, if end { 0x80 | 10 } else { 10 }];
            payload.extend_from_slice(&duration.to_be_bytes());
            packets.push((at, rtp_packet(101, i == 0, seq, first * 160, &payload)));
            continue;
        }
        let start = slot as usize * 160;
        let frame = &samples[start..(start + 160).min(samples.len())];
        let payload: Vec<u8> = frame.iter().map(|s| media::g711::Law::Pcmu.encode(*s)).collect();
        packets.push((at, rtp_packet(0, false, seq, slot * 160, &payload)));
    }
    write_pcap_packets(path, &packets);
}
