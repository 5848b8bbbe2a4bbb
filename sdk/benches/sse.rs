//! Server-Sent Events parsing throughput: our `skills_video::sse` parser
//! against the `eventsource-stream` crate and a bare `memchr` newline count
//! (a ceiling no line-based parser can beat), on the same inputs fed in
//! 64 KiB chunks.
//!
//! Run with:
//!
//! ```text
//! cargo bench -p skills-video --bench sse
//! ```
//!
//! Add e.g. `-- --measurement-time 2 --warm-up-time 1` for a quicker run, or
//! a filter such as `-- large` for one input. Criterion prints MB/s (in
//! "thrpt") for every input; then a table times our parser, the parser as
//! it was before the small-event work (a frozen copy in `sse_old/`) and
//! `eventsource-stream` side by side (interleaved rounds) and prints their
//! GB/s and ratios.

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use skills_video::sse::{events, SseEvent, SseParser, DEFAULT_MAX_EVENT_BYTES};

/// The parser before the small-event work, kept to time against.
#[allow(dead_code)]
#[path = "sse_old/parser.rs"]
mod old;

const CHUNK: usize = 64 * 1024;

/// 10,000 events with ~100 bytes of JSON data each.
fn small_events(line_end: &str) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..10_000 {
        s.push_str("event: progress");
        s.push_str(line_end);
        s.push_str(&format!(
            "data: {{\"job_id\":\"job_{i:08}\",\"status\":\"running\",\"progress\":{:.3},\"eta_ms\":{}}}",
            f64::from(i % 1000) / 1000.0,
            i * 7
        ));
        s.push_str(line_end);
        s.push_str(&format!("id: {i}"));
        s.push_str(line_end);
        s.push_str(line_end);
    }
    s.into_bytes()
}

/// 16 events of 1 MiB data each (one data line per event).
fn large_events() -> Vec<u8> {
    let payload: String = "abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .cycle()
        .take(1024 * 1024)
        .collect();
    let mut s = String::new();
    for _ in 0..16 {
        s.push_str("event: result\ndata: ");
        s.push_str(&payload);
        s.push_str("\n\n");
    }
    s.into_bytes()
}

/// 2,000 events of 20 data lines each.
fn multi_line_events() -> Vec<u8> {
    let mut s = String::new();
    for i in 0..2_000 {
        for line in 0..20 {
            s.push_str(&format!(
                "data: event {i} line {line}: lorem ipsum dolor sit amet\n"
            ));
        }
        s.push('\n');
    }
    s.into_bytes()
}

fn chunks(input: &[u8]) -> Vec<Bytes> {
    input.chunks(CHUNK).map(Bytes::copy_from_slice).collect()
}

/// Drives a parser over the chunks: events and data bytes seen. A macro, not
/// a generic: the current and the frozen previous parser are two unrelated
/// types with the same methods, and a trait for them would exist only here.
macro_rules! drive {
    ($parser:expr, $event:ty, $chunks:expr) => {{
        let mut parser = $parser;
        let mut out: Vec<$event> = Vec::new();
        let (mut count, mut bytes) = (0, 0);
        for chunk in $chunks {
            if parser.push(chunk, &mut out).is_err() {
                break;
            }
            count += out.len();
            bytes += out.iter().map(|e| e.data.len()).sum::<usize>();
            out.clear();
        }
        if let Some(tail) = parser.finish() {
            count += 1;
            bytes += tail.data.len();
        }
        (count, bytes)
    }};
}

/// Our parser, driven directly.
fn ours(chunks: &[Bytes]) -> (usize, usize) {
    drive!(SseParser::new(DEFAULT_MAX_EVENT_BYTES), SseEvent, chunks)
}

/// The frozen copy of the previous parser, driven the same way.
fn ours_old(chunks: &[Bytes]) -> (usize, usize) {
    drive!(
        old::SseParser::new(DEFAULT_MAX_EVENT_BYTES),
        old::SseEvent,
        chunks
    )
}

/// Our parser through the `events()` stream adapter.
fn ours_stream(chunks: &[Bytes]) -> (usize, usize) {
    let stream = futures::stream::iter(chunks.iter().cloned().map(Ok::<Bytes, Infallible>));
    futures::executor::block_on(events(stream, DEFAULT_MAX_EVENT_BYTES).fold(
        (0, 0),
        |(count, bytes), event| async move {
            match event {
                Ok(event) => (count + 1, bytes + event.data.len()),
                Err(_) => (count, bytes),
            }
        },
    ))
}

/// The `eventsource-stream` crate.
fn eventsource_stream(chunks: &[Bytes]) -> (usize, usize) {
    let stream = futures::stream::iter(chunks.iter().cloned().map(Ok::<Bytes, Infallible>));
    futures::executor::block_on(stream.eventsource().fold(
        (0, 0),
        |(count, bytes), event| async move {
            match event {
                Ok(event) => (count + 1, bytes + event.data.len()),
                Err(_) => (count, bytes),
            }
        },
    ))
}

/// Counting newlines: the least any line-based parser must do.
fn memchr_ceiling(chunks: &[Bytes]) -> usize {
    chunks
        .iter()
        .map(|chunk| memchr::memchr_iter(b'\n', chunk).count())
        .sum()
}

/// The inputs, by name.
fn inputs() -> [(&'static str, Vec<u8>); 4] {
    [
        ("small_10k", small_events("\n")),
        ("large_16x1MiB", large_events()),
        ("multi_line_20", multi_line_events()),
        ("crlf_small_10k", small_events("\r\n")),
    ]
}

fn bench(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("sse");
    for (name, input) in &inputs {
        let chunks = chunks(input);
        // Both parsers must agree before their speeds are compared.
        let expected = ours(&chunks);
        assert_eq!(ours_stream(&chunks), expected, "{name}: events() adapter");
        assert_eq!(ours_old(&chunks), expected, "{name}: previous parser");
        assert_eq!(
            eventsource_stream(&chunks),
            expected,
            "{name}: eventsource-stream"
        );

        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::new("skills_video", name), &chunks, |b, ch| {
            b.iter(|| ours(black_box(ch)))
        });
        group.bench_with_input(
            BenchmarkId::new("skills_video_old", name),
            &chunks,
            |b, ch| b.iter(|| ours_old(black_box(ch))),
        );
        group.bench_with_input(
            BenchmarkId::new("skills_video_events_stream", name),
            &chunks,
            |b, ch| b.iter(|| ours_stream(black_box(ch))),
        );
        group.bench_with_input(
            BenchmarkId::new("eventsource_stream", name),
            &chunks,
            |b, ch| b.iter(|| eventsource_stream(black_box(ch))),
        );
        group.bench_with_input(
            BenchmarkId::new("memchr_ceiling", name),
            &chunks,
            |b, ch| b.iter(|| memchr_ceiling(black_box(ch))),
        );
    }
    group.finish();
}

/// Seconds per pass of `f` over `chunks`: the best of `reps` passes.
fn best_of(reps: usize, chunks: &[Bytes], f: fn(&[Bytes]) -> (usize, usize)) -> f64 {
    (0..reps)
        .map(|_| {
            let start = std::time::Instant::now();
            black_box(f(black_box(chunks)));
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Median, min and max.
fn median_min_max(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Our parser, the previous one and `eventsource-stream` side by side:
/// 7 rounds, each timing all three on the same input one after the other
/// (ours and the previous one: the best of 10 passes each, alternating;
/// `eventsource-stream`: the best of 2), so drift on a shared machine hits
/// them alike; prints GB/s as median (min-max) of the rounds and the median
/// of the per-round ratios.
fn side_by_side() {
    println!();
    println!(
        "side by side, 7 interleaved rounds; GB/s median (min-max); load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into())
    );
    println!(
        "| input | skills_video | previous parser | new / previous | eventsource-stream | skills_video / eventsource-stream |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, input) in inputs() {
        let chunks = chunks(&input);
        let gb = input.len() as f64 / 1e9;
        let (mut ours_v, mut old_v, mut theirs_v) = (Vec::new(), Vec::new(), Vec::new());
        let (mut vs_old, mut vs_theirs) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            let (mut a, mut o) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..5 {
                a = a.min(best_of(2, &chunks, ours));
                o = o.min(best_of(2, &chunks, ours_old));
            }
            let b = best_of(2, &chunks, eventsource_stream);
            ours_v.push(gb / a);
            old_v.push(gb / o);
            theirs_v.push(gb / b);
            vs_old.push(o / a);
            vs_theirs.push(b / a);
        }
        let (n, nlo, nhi) = median_min_max(&mut ours_v);
        let (o, olo, ohi) = median_min_max(&mut old_v);
        let (t, tlo, thi) = median_min_max(&mut theirs_v);
        let (r_old, r_old_lo, r_old_hi) = median_min_max(&mut vs_old);
        let (r, rlo, rhi) = median_min_max(&mut vs_theirs);
        println!(
            "| {name} | {n:.2} ({nlo:.2}-{nhi:.2}) | {o:.2} ({olo:.2}-{ohi:.2}) | \
             {r_old:.2}x ({r_old_lo:.2}-{r_old_hi:.2}) | {t:.3} ({tlo:.3}-{thi:.3}) | \
             {r:.0}x ({rlo:.0}-{rhi:.0}) |"
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Skipped in `cargo test --benches` (criterion's quick test mode) and
    // when only listing.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        side_by_side();
    }
}
