//! `switchboard`: the contact center server. `serve` runs it, `demo` runs a seeded demo.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard::config::Config;
use switchboard::demo::{start_demo, DEMO_PASSWORD};
use switchboard::server::start;

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Self-hosted omnichannel contact center")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (TOML config, overridden by SWITCHBOARD_ environment variables).
    Serve {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Overrides server.listen.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Benchmarks; each prints one JSON object on stdout.
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
    /// Run a demo: temporary SQLite, simulated phone network, seeded organisation, shop page.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[arg(long, default_value = "127.0.0.1:8081")]
        shop_listen: String,
        #[arg(long, default_value = "")]
        metrics_listen: String,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// Callback requests accepted per second, each committed before its 202.
    Intake {
        #[arg(long, default_value = "sqlite")]
        db: String,
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Request to customer-leg dial with a free agent.
    DialLatency {
        #[arg(long, default_value_t = 300)]
        samples: usize,
        /// agent_first or customer_first.
        #[arg(long, default_value = "customer_first")]
        order: String,
    },
    /// SIP calls per second through the B2BUA with RTP both ways (needs sipp), at rising
    /// rates until more than 0.1% of calls fail.
    SipCps {
        #[arg(long, default_value_t = 10)]
        start_cps: u32,
        #[arg(long, default_value_t = 640)]
        max_cps: u32,
        /// Seconds per rate step.
        #[arg(long, default_value_t = 10)]
        step_s: u64,
        /// How long each call lasts, with audio flowing.
        #[arg(long, default_value_t = 5_000)]
        hold_ms: u64,
    },
    /// RTP relay cost, loss and delay at N concurrent bridged G.711 calls (both directions at
    /// 50 packets/s), for our relay or for rtpengine on the same load.
    Media {
        #[arg(long, default_value_t = 500)]
        calls: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// switchboard or rtpengine.
        #[arg(long, default_value = "switchboard")]
        relay: String,
        /// The rtpengine binary (Debian: rtpengine-daemon).
        #[arg(long, default_value = "/usr/bin/rtpengine")]
        rtpengine: PathBuf,
    },
    /// Resident memory of an idle server.
    IdleRss {
        #[arg(long, default_value_t = 3)]
        settle_s: u64,
    },
    /// Predictive-dialer benchmark (shared/dialer-benchmark.md); progress goes to stderr.
    Dialer {
        /// Scenario file (TOML), e.g. bench/scenarios/a.toml.
        #[arg(long)]
        scenario: PathBuf,
        /// json or md.
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long)]
        replications: Option<u32>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Run only this agent count.
        #[arg(long)]
        agents: Option<u32>,
        /// Run only this cap (0.03 for 3%).
        #[arg(long)]
        cap: Option<f64>,
        /// Also write an SVG chart of talk-min/agent-hour against abandon %, one curve per
        /// policy (each run at caps of 1-6%), for every agent count (`-nN` is added to the name
        /// when there are several).
        #[arg(long)]
        chart: Option<PathBuf>,
        /// Also tune and run the practical ceiling in every cell: the document's reference
        /// rule told each busy agent's exact remaining talk and wrap-up (a yardstick no dialer
        /// can reach; slow: its threshold is searched like the static ratio).
        #[arg(long)]
        ceiling: bool,
    },
}

fn bench_dialer(
    scenario: &std::path::Path,
    format: &str,
    options: sim::dialer_bench::BenchOptions,
    chart: Option<PathBuf>,
) -> anyhow::Result<String> {
    use sim::dialer_bench::{run_dialer_bench, Scenario};
    if format != "json" && format != "md" {
        anyhow::bail!("--format must be json or md, got {format}");
    }
    let text = std::fs::read_to_string(scenario)
        .with_context(|| format!("reading {}", scenario.display()))?;
    let stem = scenario.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let scenario = Scenario::parse(&text, &stem)?;
    let report = run_dialer_bench(&scenario, &options, &mut |line| eprintln!("{line}"))?;
    if let Some(path) = chart {
        write_charts(&scenario, &report, &path)?;
    }
    Ok(if format == "md" { report.to_markdown() } else { report.to_json() })
}

/// One chart per agent count of the report, marking the first cap run for it.
fn write_charts(
    scenario: &sim::dialer_bench::Scenario,
    report: &sim::dialer_bench::DialerBenchReport,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    use sim::dialer_bench::chart::{render_svg, trade_off_curves};
    let mut agent_counts: Vec<(u32, f64)> = Vec::new();
    for cell in &report.cells {
        if !agent_counts.iter().any(|(a, _)| *a == cell.agents) {
            agent_counts.push((cell.agents, cell.cap));
        }
    }
    let seeds: Vec<u64> = (0..report.replications)
        .map(|r| sim::dialer_bench::replication_seed(report.seed, r))
        .collect();
    let bound = scenario.bound_talk_min_per_agent_hour();
    for &(agents, cap) in &agent_counts {
        eprintln!("chart: N={agents}, policies at caps 1-6%");
        let curves = trade_off_curves(scenario, agents, &seeds);
        let title =
            format!("Scenario {}, N = {agents}: talk against abandon rate", report.scenario);
        let file = if agent_counts.len() == 1 {
            path.to_path_buf()
        } else {
            let stem =
                path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            path.with_file_name(format!("{stem}-n{agents}.svg"))
        };
        std::fs::write(&file, render_svg(&title, &curves, cap, bound))
            .with_context(|| format!("writing {}", file.display()))?;
        eprintln!("chart: wrote {}", file.display());
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { config, listen } => {
            let mut config = Config::load(config.as_deref())?;
            if let Some(l) = listen {
                config.server.listen = l;
            }
            let mut running = start(&config).await?;
            eprintln!("switchboard listening on {}", running.base_url());
            tokio::select! {
                r = running.wait() => r.context("server stopped")?,
                _ = shutdown_signal() => running.stop().await?,
            }
        }
        Command::Bench { which } => {
            let report = match which {
                Bench::Intake { db, requests, concurrency } => {
                    switchboard::bench::intake(&db, requests, concurrency.max(1)).await?
                }
                Bench::DialLatency { samples, order } => {
                    switchboard::bench::dial_latency(samples, &order).await?
                }
                Bench::IdleRss { settle_s } => switchboard::bench::idle_rss(settle_s).await?,
                Bench::Media { calls, seconds, relay, rtpengine } => {
                    use switchboard::bench::RelayKind;
                    let kind = match relay.as_str() {
                        "switchboard" => RelayKind::Ours,
                        "rtpengine" => RelayKind::Rtpengine(rtpengine),
                        other => anyhow::bail!("--relay: switchboard or rtpengine, not {other}"),
                    };
                    // It runs runtimes of its own, off this one.
                    let run =
                        std::thread::spawn(move || switchboard::bench::media(calls, seconds, kind));
                    run.join().map_err(|_| anyhow::anyhow!("the media bench panicked"))??
                }
                Bench::SipCps { start_cps, max_cps, step_s, hold_ms } => {
                    switchboard::bench::sip_cps(start_cps, max_cps, step_s, hold_ms).await?
                }
                Bench::Dialer {
                    scenario,
                    format,
                    replications,
                    seed,
                    agents,
                    cap,
                    chart,
                    ceiling,
                } => {
                    let options = sim::dialer_bench::BenchOptions {
                        replications,
                        seed,
                        agents,
                        cap,
                        ceiling,
                    };
                    // Text (JSON or markdown), not a JSON value like the others.
                    println!("{}", bench_dialer(&scenario, &format, options, chart)?.trim_end());
                    return Ok(());
                }
            };
            println!("{report}");
        }
        Command::Demo { listen, shop_listen, metrics_listen } => {
            let mut config = Config::load(None)?;
            config.server.listen = listen;
            config.server.metrics_listen = metrics_listen;
            let demo = start_demo(config, &shop_listen, serde_json::json!({})).await?;
            let base = demo.server.base_url();
            println!("Switchboard demo is running.");
            println!("  Console:    {base}/");
            println!("  Demo shop:  {} (the widget posts to {base})", demo.shop_url);
            println!("  OpenAPI:    {base}/api/v1/openapi.json");
            println!(
                "  Logins (password {DEMO_PASSWORD}): alice, bob, carol (agents, callback queue),"
            );
            println!("    dave, erin, frank (agents), sam (supervisor), admin (admin)");
            println!("  Phone rules: numbers ending in 0 are busy, 8 fail, 9 never answer.");
            println!("Press Ctrl-C to stop.");
            let mut server = demo.server;
            tokio::select! {
                r = server.wait() => r.context("server stopped")?,
                _ = shutdown_signal() => server.stop().await?,
            }
        }
    }
    Ok(())
}
