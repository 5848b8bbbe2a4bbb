//! `skills-video-simulator`: serve the simulated skills.video platform until
//! Ctrl-C. The first line on stdout is `listening on http://ADDR/api/v1`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use skills_video_simulator::{FaultRule, Simulator, SimulatorConfig};

/// A local simulator of the skills.video platform API, with fault injection.
#[derive(Debug, Parser)]
#[command(name = "skills-video-simulator", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Bearer key the simulator requires (default: $SKILLS_VIDEO_API_KEY, else
    /// a generated key printed to stderr).
    #[arg(long)]
    api_key: Option<String>,
    /// Starting credit balance.
    #[arg(long, default_value_t = 1000.0)]
    credits: f64,
    /// Cost of one accepted generation.
    #[arg(long, default_value_t = 1.0)]
    cost: f64,
    /// Milliseconds between job state steps.
    #[arg(long, default_value_t = 500)]
    delay_ms: u64,
    /// Number of IN_PROGRESS progress events per job.
    #[arg(long, default_value_t = 3)]
    progress_steps: u32,
    /// Seconds between SSE heartbeat comments while a stream waits.
    #[arg(long, default_value_t = 15)]
    heartbeat_secs: u64,
    /// OpenAPI document to serve (default: the embedded spec).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Initial fault plan: a JSON array of fault rules, e.g.
    /// '[{"fault":{"kind":"drop_after_id"},"times":1}]'.
    #[arg(long)]
    faults: Option<String>,
    /// Also accept cleartext HTTP/2 (prior knowledge) with up to 100,000
    /// streams per connection.
    #[arg(long)]
    http2: bool,
    /// Cap in bytes on a multipart (local file) create body; over it: 413.
    #[arg(long, default_value_t = 512 * 1024 * 1024)]
    max_upload_bytes: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let api_key = match args.api_key {
        Some(k) => k,
        None => match std::env::var("SKILLS_VIDEO_API_KEY") {
            Ok(k) if !k.is_empty() => k,
            _ => {
                let k = format!("sk-sim-{}", uuid::Uuid::new_v4().simple());
                eprintln!("api key: {k}");
                k
            }
        },
    };
    let mut config = SimulatorConfig {
        api_key,
        credits: args.credits,
        cost_per_generation: args.cost,
        step_delay: Duration::from_millis(args.delay_ms),
        progress_steps: args.progress_steps,
        heartbeat_interval: Duration::from_secs(args.heartbeat_secs.max(1)),
        http2: args.http2,
        max_upload_bytes: args.max_upload_bytes,
        ..SimulatorConfig::default()
    };
    if let Some(path) = &args.spec {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config.spec =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    }
    if let Some(faults) = &args.faults {
        config.faults =
            serde_json::from_str::<Vec<FaultRule>>(faults).context("parsing --faults")?;
    }
    let sim = Simulator::start(config, args.addr).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", sim.base_url())?;
        out.flush()?;
    }
    eprintln!("{} models; Ctrl-C to stop", sim.models().len());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
