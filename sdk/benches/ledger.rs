//! Journaling cost per generation step: `cargo bench -p skills-video --features ledger --bench ledger`.
//! Each step is one `BEGIN IMMEDIATE` transaction on a WAL file; the intent
//! and the id commit under `synchronous=FULL` (a WAL fsync), the others under
//! `NORMAL`. Prints the mean and p99 of each step over N generations.

use std::time::{Duration, Instant};

use serde_json::json;
use skills_video::ledger::{Intent, Ledger, OutputRecord, SqliteLedger, TerminalRecord};

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let mean = v.iter().sum::<Duration>() / v.len() as u32;
    let p99 = v[(v.len() * 99 / 100).min(v.len() - 1)];
    println!(
        "{name:<10} mean {:>8.3} ms   p99 {:>8.3} ms",
        mean.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

fn main() {
    let n: usize = std::env::var("LEDGER_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let dir = std::env::var("LEDGER_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let path = dir.join(format!("ledger-bench-{}.sqlite3", std::process::id()));
    let ledger = SqliteLedger::open(&path).unwrap();
    let (mut intent, mut id, mut status, mut terminal, mut output) =
        (vec![], vec![], vec![], vec![], vec![]);
    let request = json!({"prompt": "a lighthouse at dusk, film photo", "aspect_ratio": "16:9", "num_images": 2});
    let response = json!({"id": "x", "status": "COMPLETED", "output": {"images": [{"url": "http://127.0.0.1/files/x/0.png"}]}, "usage": {"total": 1}});
    for i in 0..n {
        let key = format!("key-{i}");
        let t = Instant::now();
        ledger
            .record_intent(&Intent {
                idempotency_key: key.clone(),
                model: "google/nano-banana-pro".into(),
                request: request.clone(),
                multipart: false,
                base_url: "http://127.0.0.1:1/api/v1".into(),
                created_at_ms: i as i64,
            })
            .unwrap();
        intent.push(t.elapsed());
        let t = Instant::now();
        ledger.record_id(&key, &format!("gen-{i}")).unwrap();
        id.push(t.elapsed());
        let t = Instant::now();
        ledger.record_status(&key, "IN_PROGRESS").unwrap();
        status.push(t.elapsed());
        let t = Instant::now();
        ledger
            .record_terminal(
                &key,
                &TerminalRecord {
                    status: "COMPLETED".into(),
                    response: response.clone(),
                    output_urls: vec!["http://127.0.0.1/files/x/0.png".into()],
                    usage: Some(json!({"total": 1})),
                },
            )
            .unwrap();
        terminal.push(t.elapsed());
        let t = Instant::now();
        ledger
            .record_output(
                &key,
                &OutputRecord {
                    url: "http://127.0.0.1/files/x/0.png".into(),
                    path: "/tmp/x.png".into(),
                    size: 1234,
                    sha256: "0".repeat(64),
                },
            )
            .unwrap();
        output.push(t.elapsed());
    }
    println!("ledger at {} ({n} generations)", path.display());
    stats("intent", intent);
    stats("id", id);
    stats("status", status);
    stats("terminal", terminal);
    stats("output", output);
    drop(ledger);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    end_to_end(&dir);
}

/// The same sequential generations against an in-process simulator (step
/// delay 0) with and without a ledger, interleaved so drift hits both.
fn end_to_end(dir: &std::path::Path) {
    use skills_video::models::GoogleNanoBananaProRequest;
    use skills_video::Client;
    use skills_video_simulator::{Simulator, SimulatorConfig};
    let rounds: usize = std::env::var("LEDGER_BENCH_E2E")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Simulator::start(
            SimulatorConfig {
                api_key: "k".into(),
                ..Default::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let path = dir.join(format!("ledger-bench-e2e-{}.sqlite3", std::process::id()));
        let plain = Client::builder()
            .api_key("k")
            .base_url(sim.base_url())
            .build()
            .unwrap();
        let journaled = Client::builder()
            .api_key("k")
            .base_url(sim.base_url())
            .ledger(SqliteLedger::open(&path).unwrap())
            .build()
            .unwrap();
        let (mut without, mut with) = (Vec::new(), Vec::new());
        for i in 0..rounds + 10 {
            for (client, times) in [(&plain, &mut without), (&journaled, &mut with)] {
                let t = Instant::now();
                client
                    .generate(GoogleNanoBananaProRequest::new(format!("bench {i}")))
                    .await
                    .unwrap();
                if i >= 10 {
                    times.push(t.elapsed()); // the first 10 warm up
                }
            }
        }
        println!("end to end, {rounds} sequential generations each (SSE, simulator step delay 0):");
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let (a, b) = (median(&mut without), median(&mut with));
        println!(
            "without ledger  median {:>8.3} ms per generation",
            a.as_secs_f64() * 1e3
        );
        println!(
            "with ledger     median {:>8.3} ms per generation (+{:.3} ms)",
            b.as_secs_f64() * 1e3,
            (b.as_secs_f64() - a.as_secs_f64()) * 1e3
        );
        drop(journaled);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    });
}
