//! Peak RSS of the `skills-video` binary while a 1 GiB answer is refused:
//! a 1 GiB poll body (declared, and chunked with no length) against the
//! SDK's body cap, and a 1 GiB download (declared, and streamed past
//! `--max-download-bytes`). The CLI runs as a child process against an
//! in-test server on 127.0.0.1; its peak RSS comes from `wait4` (Linux
//! `ru_maxrss`) and must stay under 64 MB.
//!
//! The server never writes 1 GiB for nothing: every body write stops at the
//! first error (the client hung up), and each test checks how much it sent.
//!
//! The binary is `target/<profile>/skills-video` (or `SKILLS_VIDEO_CLI`),
//! which `cargo test --workspace` builds; with `-p skills-video-tests`
//! alone, run `cargo build -p skills-video-cli` first.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GIB: u64 = 1 << 30;
/// The bound on the child's peak resident set.
const MAX_RSS: u64 = 64 * 1000 * 1000;
/// The most any refused body may cost the server: the client's cap plus
/// socket buffers, far from the 1 GiB it offers.
const MAX_SENT: u64 = 256 << 20;
const CHUNK: usize = 256 << 10;

fn cli_binary() -> PathBuf {
    skills_video_tests::binaries::cli()
}

/// The in-test server. Polls of `GET /api/v1/generation/<id>`:
/// `poll-declared` (1 GiB `Content-Length`, body written until the client
/// leaves), `poll-chunked` (1 GiB chunked), `dl-declared` and `dl-chunked`
/// (COMPLETED, one output URL each on this server). Files: `/files/declared.bin`
/// and `/files/chunked.bin`, 1 GiB each in the same two ways. `sent` counts
/// the body bytes the server managed to write.
struct Server {
    origin: String,
    sent: Arc<AtomicU64>,
}

impl Server {
    async fn start() -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(AtomicU64::new(0));
        let (o, s) = (origin.clone(), sent.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, o.clone(), s.clone()));
            }
        });
        Server { origin, sent }
    }
}

async fn serve(mut socket: TcpStream, origin: String, sent: Arc<AtomicU64>) {
    let mut buf = Vec::new();
    let mut scratch = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 << 10 {
        match socket.read(&mut scratch).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&scratch[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let completed = |file: &str| -> Value {
        json!({"id": "g", "status": "COMPLETED", "outputs": [{"url": format!("{origin}/files/{file}")}]})
    };
    match path.as_str() {
        "/api/v1/generation/poll-declared" | "/files/declared.bin" => {
            declared(&mut socket, &sent).await
        }
        "/api/v1/generation/poll-chunked" | "/files/chunked.bin" => {
            chunked(&mut socket, &sent).await
        }
        "/api/v1/generation/dl-declared" => {
            json_answer(&mut socket, &completed("declared.bin")).await
        }
        "/api/v1/generation/dl-chunked" => {
            json_answer(&mut socket, &completed("chunked.bin")).await
        }
        _ => json_answer(&mut socket, &json!({"message": "not found"})).await,
    }
}

async fn json_answer(socket: &mut TcpStream, body: &Value) {
    let body = body.to_string();
    let r = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(r.as_bytes()).await;
}

/// `Content-Length: 1 GiB`, then the body (a JSON string's worth of
/// spaces) until the client hangs up.
async fn declared(socket: &mut TcpStream, sent: &AtomicU64) {
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {GIB}\r\nconnection: close\r\n\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b' '; CHUNK];
    let mut written = 0u64;
    while written < GIB {
        if socket.write_all(&chunk).await.is_err() {
            return;
        }
        written += CHUNK as u64;
        sent.fetch_add(CHUNK as u64, Ordering::SeqCst);
    }
}

/// Chunked, no length: 1 GiB until the client hangs up.
async fn chunked(socket: &mut TcpStream, sent: &AtomicU64) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut frame = format!("{CHUNK:x}\r\n").into_bytes();
    frame.extend(std::iter::repeat_n(b' ', CHUNK));
    frame.extend_from_slice(b"\r\n");
    let mut written = 0u64;
    while written < GIB {
        if socket.write_all(&frame).await.is_err() {
            return;
        }
        written += CHUNK as u64;
        sent.fetch_add(CHUNK as u64, Ordering::SeqCst);
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
}

/// What a measured run of the CLI gave.
#[derive(Debug)]
struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set of the child, bytes.
    max_rss: u64,
}

/// Runs the CLI to its end and reads its peak RSS from `wait4`; killed
/// after 120 s.
#[cfg(target_os = "linux")]
fn run_measured(args: &[String]) -> Measured {
    use std::io::Read;
    use std::process::{Command, Stdio};

    let mut child = Command::new(cli_binary())
        .env_remove("SKILLS_VIDEO_API_KEY")
        .env_remove("SKILLS_VIDEO_BASE_URL")
        // The job ledger in a temp state dir, never the real home.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("skills-video-tests-state"),
        )
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if watch.recv_timeout(Duration::from_secs(120)).is_err() {
            // Still running (not yet reaped, so the pid is still ours).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data (all zeroes is valid); wait4 gets
    // pointers to these locals and reaps our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let _ = done.send(());
    let _ = watchdog.join();
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Measured {
        code,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        // Linux reports ru_maxrss in KiB.
        max_rss: usage.ru_maxrss as u64 * 1024,
    }
}

#[cfg(not(target_os = "linux"))]
fn run_measured(_args: &[String]) -> Measured {
    unreachable!("peak RSS is measured through Linux wait4")
}

async fn measured(server: &Server, args: &[&str]) -> Measured {
    let mut all: Vec<String> = [
        "--json",
        "--base-url",
        &format!("{}/api/v1", server.origin),
        "--api-key",
        "sk-peak-rss",
        "--max-retries",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.extend(args.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || run_measured(&all))
        .await
        .unwrap()
}

fn last_line(m: &Measured) -> Value {
    let line = m.stdout.lines().rev().find(|l| !l.trim().is_empty());
    serde_json::from_str(line.unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "peak RSS is measured through Linux /proc or wait4"
)]
async fn a_1_gib_poll_body_is_refused_in_bounded_memory() {
    for id in ["poll-declared", "poll-chunked"] {
        let server = Server::start().await;
        let m = measured(
            &server,
            &["wait", id, "--interval", "0.1", "--timeout", "60"],
        )
        .await;
        let sent = server.sent.load(Ordering::SeqCst);
        eprintln!(
            "{id}: exit {}, peak RSS {} bytes, server sent {sent} bytes",
            m.code, m.max_rss
        );
        assert_ne!(m.code, 0, "{m:?}");
        let error = last_line(&m);
        assert_eq!(error["event"], "error", "{m:?}");
        let message = error.to_string();
        assert!(message.contains("cap"), "{message}\n{}", m.stderr);
        assert!(
            m.max_rss > 0 && m.max_rss < MAX_RSS,
            "{id}: peak RSS {} bytes",
            m.max_rss
        );
        assert!(sent < MAX_SENT, "{id}: the server sent {sent} bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "peak RSS is measured through Linux /proc or wait4"
)]
async fn a_1_gib_download_is_refused_in_bounded_memory_and_leaves_no_file() {
    for (id, why) in [
        ("dl-declared", "Content-Length"),
        ("dl-chunked", "passed the download cap"),
    ] {
        let server = Server::start().await;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let m = measured(
            &server,
            &[
                "wait",
                id,
                "--interval",
                "0.1",
                "--timeout",
                "60",
                "--max-download-bytes",
                "16MiB",
                "--out",
                out.to_str().unwrap(),
            ],
        )
        .await;
        let sent = server.sent.load(Ordering::SeqCst);
        eprintln!(
            "{id}: exit {}, peak RSS {} bytes, server sent {sent} bytes",
            m.code, m.max_rss
        );
        assert_eq!(m.code, 24, "{m:?}");
        let terminal = last_line(&m);
        let e = terminal["download_error"].as_str().unwrap_or_default();
        assert!(
            e.contains(why) && e.contains("--max-download-bytes"),
            "{m:?}"
        );
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "no file left");
        assert!(
            m.max_rss > 0 && m.max_rss < MAX_RSS,
            "{id}: peak RSS {} bytes",
            m.max_rss
        );
        assert!(sent < MAX_SENT, "{id}: the server sent {sent} bytes");
    }
}
