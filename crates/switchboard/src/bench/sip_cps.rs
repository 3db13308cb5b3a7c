//! `switchboard bench sip-cps`: the SIP layer's capacity, measured with sipp. A sipp UAC calls
//! in at rising rates; each call is bridged by our B2BUA to a new leg toward a sipp UAS (the
//! "carrier"), which echoes RTP; the caller plays G.711 audio for the call's duration, so RTP
//! flows both ways through our relay. Each step reports sipp's successful and failed calls and
//! our CPU time and peak RSS; the result is the highest rate with under 0.1% failed calls.
//!
//! This drives the telephony shell directly (no engine, no store): it measures signalling,
//! transactions and the RTP relay, which is what bounds calls per second.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use domain::telephony::{Endpoint, LegEventKind, NetEvent, TelCommand};
use domain::{LegId, PhoneNumber};
use serde_json::{json, Value};
use telephony::sipnet::{NumberFormat, SipConfig, Transport, TrunkConfig};
use telephony::sipshell::SipShell;

const UAC: &str = include_str!("../../../telephony/tests/sipp/uac_bench.xml");
const UAS: &str = include_str!("../../../telephony/tests/sipp/uas_bench.xml");

/// What one rate step measured.
struct Step {
    cps: u32,
    successful: u64,
    failed: u64,
    cpu_ms: u64,
    peak_rss_kb: u64,
    concurrent_max: usize,
    /// RTP packets our relay received, and forwarded to the bridged leg, during the step.
    rtp_received: u64,
    rtp_relayed: u64,
}

fn free_port() -> anyhow::Result<u16> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    Ok(socket.local_addr()?.port())
}

/// utime + stime of this process, in ms (Linux `/proc/self/stat`).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after ')'.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime is field 14 and stime 15 (1-based, counting pid and comm): 11 and 12 here.
    (ticks(11) + ticks(12)) * 10
}

fn rss_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// RTP packets received and relayed so far.
fn rtp_counts(stats: &telephony::sipshell::ShellStats) -> (u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    (stats.rtp_packets_received.load(Relaxed), stats.rtp_packets_relayed.load(Relaxed))
}

/// Successful and failed calls from sipp's final statistics line (`-trace_stat` CSV).
fn sipp_counts(dir: &Path) -> (u64, u64) {
    let Some(file) = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("_.csv"))
    else {
        return (0, 0);
    };
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(';').collect();
    let last: Vec<&str> = lines.last().unwrap_or_default().split(';').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| last.get(i)?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (column("SuccessfulCall(C)"), column("FailedCall(C)"))
}

/// Runs the rising-rate steps; stops after the first step over 0.1% failed calls.
pub async fn sip_cps(
    start_cps: u32,
    max_cps: u32,
    step_s: u64,
    hold_ms: u64,
) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("uac.xml"), UAC.replace("@HOLD_MS@", &hold_ms.to_string()))?;
    std::fs::write(dir.path().join("uas.xml"), UAS)?;
    let pcap = dir.path().join("audio.pcap");
    write_audio_pcap(&pcap, hold_ms)?;
    let uac = std::fs::read_to_string(dir.path().join("uac.xml"))?;
    std::fs::write(dir.path().join("uac.xml"), uac.replace("@PCAP@", &pcap.display().to_string()))?;

    let (uas_port, uas_media) = (free_port()?, free_port()?);
    let mut uas = Command::new("sipp")
        .args(["-sf", "uas.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-rtp_echo", "-nostdin"])
        .args(["-p", &uas_port.to_string(), "-mp", &uas_media.to_string()])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("running sipp (scripts/setup --test installs it)")?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let sip_port = free_port()?;
    let mut config = SipConfig::local(format!("127.0.0.1:{sip_port}").parse()?, 42);
    config.rtp_port_min = 40_000;
    config.rtp_port_max = 59_998;
    config.legs_max = 20_000;
    config.invites_per_second_max = max_cps.saturating_mul(2);
    config.transactions_max = 100_000;
    config.trunk = Some(TrunkConfig {
        proxy: format!("127.0.0.1:{uas_port}").parse()?,
        domain: "carrier.bench".into(),
        username: None,
        password: None,
        caller_id: None,
        number_format: NumberFormat::E164,
        transport: Transport::Udp,
        register_expires_s: None,
    });
    let mut shell = SipShell::start(config).await?;
    let stats = shell.stats();
    let customer = PhoneNumber::parse("+4915112345678", "DE").context("bench number")?;

    let mut steps = Vec::new();
    let mut cps = start_cps.max(1);
    let mut next_leg = 1u64;
    while cps <= max_cps {
        let calls = u64::from(cps) * step_s;
        let step_dir = dir.path().join(format!("step-{cps}"));
        std::fs::create_dir_all(&step_dir)?;
        std::fs::copy(dir.path().join("uac.xml"), step_dir.join("uac.xml"))?;
        eprintln!("bench sip-cps: {cps} calls/s for {step_s} s ({calls} calls)");
        let cpu_before = cpu_ms();
        let rtp_before = rtp_counts(&stats);
        let mut uac = Command::new("sipp")
            .args(["-sf", "uac.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin"])
            .args(["-p", &free_port()?.to_string(), "-mp", &free_port()?.to_string()])
            .args(["-r", &cps.to_string(), "-m", &calls.to_string(), "-l", "100000"])
            .args(["-timeout", &format!("{}s", step_s + hold_ms / 1_000 + 30)])
            .args(["-trace_stat", "-fd", "1", "-s", "bench"])
            .arg(format!("127.0.0.1:{sip_port}"))
            .current_dir(&step_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("running sipp")?;
        // The B2BUA: each arriving call gets a leg to the carrier, bridged once it answers.
        let mut peer_of: HashMap<LegId, LegId> = HashMap::new();
        let mut concurrent_max = 0usize;
        loop {
            if let Some(status) = uac.try_wait()? {
                let _ = status;
                break;
            }
            let event = tokio::time::timeout(Duration::from_millis(100), shell.recv()).await;
            let Ok(Some(event)) = event else { continue };
            match event {
                NetEvent::Incoming { leg, .. } => {
                    let out = LegId(next_leg);
                    next_leg += 1;
                    peer_of.insert(leg, out);
                    peer_of.insert(out, leg);
                    let to = Endpoint::Number(customer.clone());
                    let dial = TelCommand::Originate {
                        leg: out,
                        to,
                        caller_id: None,
                        ring_ms_max: 20_000,
                        detect_machine: domain::telephony::MachineDetection::Off,
                    };
                    shell.send(dial).await;
                }
                NetEvent::Leg(e) if e.kind == LegEventKind::Answered => {
                    if let Some(&caller) = peer_of.get(&e.leg) {
                        shell.send(TelCommand::Bridge { a: caller, b: e.leg }).await;
                    }
                }
                NetEvent::Leg(e) if e.kind.is_final() => {
                    if let Some(other) = peer_of.remove(&e.leg) {
                        peer_of.remove(&other);
                        shell.send(TelCommand::Hangup { leg: other }).await;
                    }
                }
                _ => {}
            }
            concurrent_max = concurrent_max.max(peer_of.len() / 2);
        }
        let (successful, failed) = sipp_counts(&step_dir);
        let rtp = rtp_counts(&stats);
        let step = Step {
            rtp_received: rtp.0 - rtp_before.0,
            rtp_relayed: rtp.1 - rtp_before.1,
            cps,
            successful,
            failed,
            cpu_ms: cpu_ms().saturating_sub(cpu_before),
            peak_rss_kb: rss_kb("VmHWM:"),
            concurrent_max,
        };
        eprintln!(
            "  ok {} failed {} cpu {} ms concurrent {} legs alive {}",
            step.successful,
            step.failed,
            step.cpu_ms,
            step.concurrent_max,
            stats.legs_alive.load(std::sync::atomic::Ordering::Relaxed)
        );
        // The target is under 0.1% failed: 0.1% itself is too many.
        let failed_too_many = step.failed * 1_000 >= (step.successful + step.failed);
        steps.push(step);
        // Let the last calls' legs end before the next step.
        tokio::time::sleep(Duration::from_secs(2)).await;
        if failed_too_many {
            break;
        }
        cps *= 2;
    }
    let _ = uas.kill();
    let _ = uas.wait();
    let good = steps
        .iter()
        .filter(|s| s.successful > 0 && s.failed * 1_000 < s.successful + s.failed)
        .max_by_key(|s| s.cps);
    let rows: Vec<Value> = steps
        .iter()
        .map(|s| {
            let calls = (s.successful + s.failed).max(1);
            json!({
                "cps": s.cps, "successful": s.successful, "failed": s.failed,
                "failed_pct": s.failed as f64 * 100.0 / calls as f64,
                "concurrent_calls_max": s.concurrent_max,
                "cpu_ms_per_call": s.cpu_ms as f64 / calls as f64,
                "cpu_pct_of_one_core": s.cpu_ms as f64 / (step_s as f64 * 10.0),
                "peak_rss_mb": s.peak_rss_kb as f64 / 1024.0,
                "rtp_packets_received": s.rtp_received,
                "rtp_packets_relayed": s.rtp_relayed,
                // Each answered call's caller plays hold_ms of audio, echoed back by the UAS.
                "rtp_received_per_expected": s.rtp_received as f64
                    / (2 * s.successful.max(1) * (hold_ms / 20).max(1)) as f64,
                "rtp_relayed_per_received": s.rtp_relayed as f64 / s.rtp_received.max(1) as f64,
            })
        })
        .collect();
    Ok(json!({
        "bench": "sip_cps",
        "hold_ms": hold_ms,
        "step_s": step_s,
        "max_sustained_cps": good.map(|s| s.cps),
        "concurrent_calls_at_max": good.map(|s| s.concurrent_max),
        "rss_kb_per_call_at_max": good.map(|s| s.peak_rss_kb as f64 / s.concurrent_max.max(1) as f64),
        "steps": rows,
    }))
}

/// `hold_ms` of a 440 Hz tone as 20 ms PCMU packets, the caller's side of the conversation.
fn write_audio_pcap(path: &Path, hold_ms: u64) -> anyhow::Result<()> {
    let law = media::g711::Law::Pcmu;
    let packets: Vec<(u64, Vec<u8>)> = (0..(hold_ms / 20).max(1))
        .map(|n| {
            let header = media::rtp::RtpHeader {
                marker: n == 0,
                payload_type: 0,
                sequence: n as u16,
                timestamp: (n * 160) as u32,
                ssrc: 0xbe4c,
            };
            let payload: Vec<u8> = (0..160u64)
                .map(|i| {
                    let t = (n * 160 + i) as f64 / 8_000.0;
                    law.encode((6_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16)
                })
                .collect();
            (n * 20_000, header.to_bytes(&payload).unwrap_or_default())
        })
        .collect();
    std::fs::write(path, media::pcap::rtp_pcap(&packets))?;
    Ok(())
}
