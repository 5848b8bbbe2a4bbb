//! `--out` downloads against a small in-test HTTP server on 127.0.0.1 that
//! answers the poll of `wait ID` with chosen output URLs and serves files
//! that misbehave: a declared length over the cap, an endless body, a
//! redirect to cloud metadata. Each case fails when its rule is removed.
//!
//! No test connects anywhere but 127.0.0.1: the refused addresses
//! (169.254.169.254) are refused before any connection is made.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{bin, run, KEY};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the endless body is allowed to send at most, whatever the client does.
const ENDLESS_BOUND: u64 = 64 << 20;
const CHUNK: usize = 64 << 10;

/// The in-test server: `GET /api/v1/generation/<id>` answers `poll` (with
/// `{origin}` replaced by `http://127.0.0.1:PORT`), `/files/...` the files.
struct Server {
    origin: String,
    heads: Arc<Mutex<Vec<String>>>,
    endless_sent: Arc<AtomicU64>,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(poll: Value) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let poll = poll.to_string().replace("{origin}", &origin);
        let heads = Arc::new(Mutex::new(Vec::new()));
        let endless_sent = Arc::new(AtomicU64::new(0));
        let (h, sent) = (heads.clone(), endless_sent.clone());
        rt.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, poll.clone(), h.clone(), sent.clone()));
            }
        });
        Server {
            origin,
            heads,
            endless_sent,
            _rt: rt,
        }
    }

    /// `skills-video --json --base-url <this> --api-key KEY wait gen-1 --out DIR ...`.
    fn wait(&self, dir: &std::path::Path, extra: &[&str]) -> Command {
        let mut c = bin();
        c.arg("--base-url")
            .arg(format!("{}/api/v1", self.origin))
            .args([
                "--api-key",
                KEY,
                "wait",
                "gen-1",
                "--interval",
                "0.1",
                "--timeout",
                "20",
                "--out",
            ])
            .arg(dir)
            .args(extra)
            .timeout(Duration::from_secs(45));
        c
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    fn file_heads(&self) -> Vec<String> {
        self.heads()
            .into_iter()
            .filter(|h| h.starts_with("GET /files/"))
            .collect()
    }
}

async fn serve(
    mut socket: TcpStream,
    poll: String,
    heads: Arc<Mutex<Vec<String>>>,
    endless_sent: Arc<AtomicU64>,
) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 << 10 {
        match socket.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    heads.lock().unwrap().push(head.clone());
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let simple = |status: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    match path.as_str() {
        p if p.starts_with("/api/v1/generation/") => {
            let _ = socket.write_all(simple("200 OK", &poll).as_bytes()).await;
        }
        "/files/ok.png" => {
            let _ = socket.write_all(simple("200 OK", "hello").as_bytes()).await;
        }
        // 1 GiB declared, nothing sent: a client that reads the body waits
        // here until it gives up; one that checks the length leaves at once.
        "/files/declared.bin" => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1073741824\r\nconnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(60), socket.read(&mut byte)).await;
            }
        }
        // Chunked, no length: sends until the client hangs up, at most
        // ENDLESS_BOUND, then ends the body properly (so a client without a
        // cap would save a complete 64 MiB file).
        "/files/endless.bin" => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut frame = format!("{CHUNK:x}\r\n").into_bytes();
            frame.extend(std::iter::repeat_n(b'x', CHUNK));
            frame.extend_from_slice(b"\r\n");
            while endless_sent.load(Ordering::SeqCst) < ENDLESS_BOUND {
                if socket.write_all(&frame).await.is_err() {
                    return;
                }
                endless_sent.fetch_add(CHUNK as u64, Ordering::SeqCst);
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        }
        // A redirect to cloud metadata: the hop is checked like the first URL.
        "/files/redirect.png" => {
            let r = found("http://169.254.169.254/latest/meta-data/iam/");
            let _ = socket.write_all(r.as_bytes()).await;
        }
        // A redirect loop: `/files/loop/N` sends to `/files/loop/N+1`. It
        // ends (with a file) only after LOOP_END hops, so a client without
        // a hop limit saves a file instead of hanging the test.
        p if p.starts_with("/files/loop/") => {
            let n: usize = p["/files/loop/".len()..].parse().unwrap_or(0);
            if n >= LOOP_END {
                let _ = socket
                    .write_all(simple("200 OK", "looped").as_bytes())
                    .await;
            } else {
                let r = found(&format!("/files/loop/{}", n + 1));
                let _ = socket.write_all(r.as_bytes()).await;
            }
        }
        _ => {
            let _ = socket
                .write_all(simple("404 Not Found", "{}").as_bytes())
                .await;
        }
    }
}

/// A `302 Found` to `location`, with an empty body.
fn found(location: &str) -> String {
    format!(
        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
}

/// Where the in-test redirect loop stops redirecting.
const LOOP_END: usize = 40;

fn completed(urls: &[&str]) -> Value {
    json!({
        "id": "gen-1",
        "status": "COMPLETED",
        "outputs": urls.iter().map(|u| json!({"url": u})).collect::<Vec<_>>(),
    })
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_declared_length_over_the_cap_is_refused_before_reading_and_leaves_no_file() {
    let server = Server::start(completed(&["{origin}/files/declared.bin"]));
    let dir = common::tempdir();
    let started = Instant::now();
    let r = run(server
        .wait(dir.path(), &["--max-download-bytes", "1MiB"])
        .arg("--json"));
    // The server never sends a byte of the body: only a client that does not
    // read it can be done quickly.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.code, 24, "{}\n{}", r.stdout, r.stderr);
    let terminal = r.last();
    assert_eq!(terminal["event"], "terminal");
    let e = terminal["download_error"].as_str().unwrap();
    for part in [
        "/files/declared.bin",
        "Content-Length",
        "1073741824 bytes (1 GiB)",
        "1048576 bytes (1 MiB)",
        "--max-download-bytes",
    ] {
        assert!(e.contains(part), "{part:?} missing: {e}");
    }
    assert_eq!(terminal["files"], json!([]));
    assert_eq!(
        listing(dir.path()),
        Vec::<String>::new(),
        "no file, not even a temporary one"
    );
    assert_eq!(server.file_heads().len(), 1);
}

#[test]
fn an_endless_body_is_stopped_at_the_cap_and_leaves_no_file() {
    let server = Server::start(completed(&["{origin}/files/endless.bin"]));
    let dir = common::tempdir();
    let r = run(server
        .wait(dir.path(), &["--max-download-bytes", "1MiB"])
        .arg("--json"));
    assert_eq!(r.code, 24, "{}\n{}", r.stdout, r.stderr);
    let e = r.last()["download_error"].as_str().unwrap().to_string();
    for part in [
        "/files/endless.bin",
        "passed the download cap",
        "1048576 bytes (1 MiB)",
        "--max-download-bytes",
    ] {
        assert!(e.contains(part), "{part:?} missing: {e}");
    }
    assert_eq!(
        listing(dir.path()),
        Vec::<String>::new(),
        "no file, not even a temporary one"
    );
    // The client hung up near the cap: the server sent the cap plus what
    // the socket buffers held, far from its 64 MiB bound.
    let sent = server.endless_sent.load(Ordering::SeqCst);
    assert!(sent < 32 << 20, "the server sent {sent} bytes");

    // Human mode says why and how to raise the cap.
    let dir = common::tempdir();
    let r = run(&mut server.wait(dir.path(), &["--max-download-bytes", "1MiB"]));
    assert_eq!(r.code, 24);
    assert!(
        r.stderr.contains("download failed:") && r.stderr.contains("--max-download-bytes"),
        "{}",
        r.stderr
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

#[test]
fn a_body_within_the_cap_is_saved_and_downloads_never_carry_the_key() {
    let server = Server::start(completed(&["{origin}/files/ok.png"]));
    let dir = common::tempdir();
    let r = run(server
        .wait(dir.path(), &["--max-download-bytes", "5"])
        .arg("--json"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(listing(dir.path()), ["ok.png"]);
    assert_eq!(std::fs::read(dir.path().join("ok.png")).unwrap(), b"hello");
    assert_eq!(r.last()["skipped_outputs"], json!([]));
    // The poll carried the key; the download did not.
    let heads = server.heads();
    assert!(heads
        .iter()
        .any(|h| h.starts_with("GET /api/v1/generation/gen-1") && h.contains(KEY)));
    let files = server.file_heads();
    assert_eq!(files.len(), 1);
    for h in files {
        assert!(!h.to_ascii_lowercase().contains("authorization"), "{h}");
        assert!(!h.contains(KEY), "{h}");
    }
}

#[test]
fn file_and_ftp_outputs_are_listed_as_skipped_with_a_reason() {
    let server = Server::start(completed(&[
        "file:///etc/passwd",
        "{origin}/files/ok.png",
        "ftp://files.example/clip.mp4",
    ]));
    let dir = common::tempdir();
    let r = run(server.wait(dir.path(), &[]).arg("--json"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let terminal = r.last();
    assert_eq!(
        terminal["outputs"],
        json!([format!("{}/files/ok.png", server.origin)])
    );
    let skipped = terminal["skipped_outputs"].as_array().unwrap();
    let urls: Vec<&str> = skipped.iter().map(|s| s["url"].as_str().unwrap()).collect();
    assert_eq!(urls, ["file:///etc/passwd", "ftp://files.example/clip.mp4"]);
    assert!(
        skipped[0]["reason"].as_str().unwrap().starts_with("file:"),
        "{skipped:?}"
    );
    assert!(
        skipped[1]["reason"].as_str().unwrap().starts_with("ftp:"),
        "{skipped:?}"
    );
    assert_eq!(listing(dir.path()), ["ok.png"]);
    assert_eq!(
        server.file_heads().len(),
        1,
        "only the http URL was fetched"
    );

    // Human mode: one line per skipped URL, with the reason; also without --out.
    let r = run(&mut server.wait(dir.path(), &[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "skipped: file:///etc/passwd (file: URLs are not downloaded; only http and https are)"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("skipped: ftp://files.example/clip.mp4 (ftp:"),
        "{}",
        r.stdout
    );
}

/// The CLI refuses 169.254.169.254 (directly, and as a redirect target)
/// from the address alone, before connecting: the unit tests of
/// `download::classify`/`decide` prove the rule; this proves the CLI
/// applies it and reports it. The in-test server (127.0.0.1, like the base
/// URL) stays allowed: the base URL's own address class.
#[test]
fn a_cloud_metadata_output_is_refused_and_reported_without_connecting() {
    let server = Server::start(completed(&[
        "http://169.254.169.254/latest/meta-data/iam/",
        "{origin}/files/redirect.png",
        "{origin}/files/ok.png",
    ]));
    let dir = common::tempdir();
    let r = run(server.wait(dir.path(), &[]).arg("--json"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let terminal = r.last();
    let skipped = terminal["skipped_outputs"].as_array().unwrap().clone();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(
        skipped[0]["url"],
        "http://169.254.169.254/latest/meta-data/iam/"
    );
    assert_eq!(
        skipped[1]["url"],
        format!("{}/files/redirect.png", server.origin)
    );
    for s in &skipped {
        let reason = s["reason"].as_str().unwrap();
        assert!(
            reason.contains("169.254.169.254") && reason.contains("link-local"),
            "{reason}"
        );
        assert!(reason.contains("--allow-private-downloads"), "{reason}");
    }
    assert!(skipped[1]["reason"]
        .as_str()
        .unwrap()
        .starts_with("redirected to"));
    assert_eq!(listing(dir.path()), ["ok.png"]);

    let r = run(&mut server.wait(dir.path(), &[]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("skipped: http://169.254.169.254/latest/meta-data/iam/ (169.254.169.254: a link-local address"), "{}", r.stdout);
}

/// A server that redirects without end cannot keep a download going: the
/// CLI follows 10 redirects (11 requests), then fails with the reason, and
/// saves nothing. A server whose chain is 10 redirects long is followed to
/// its end.
#[test]
fn a_redirect_loop_is_cut_off_after_ten_hops_and_saves_nothing() {
    let server = Server::start(completed(&["{origin}/files/loop/0"]));
    let dir = common::tempdir();
    let r = run(server.wait(dir.path(), &[]).arg("--json"));
    assert_eq!(r.code, 24, "{}\n{}", r.stdout, r.stderr);
    let e = r.last()["download_error"].as_str().unwrap().to_string();
    assert!(
        e.contains("/files/loop/0") && e.contains("more than 10 redirects"),
        "{e}"
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new());
    assert_eq!(server.file_heads().len(), 11, "{:#?}", server.file_heads());

    // Ten redirects, then the file: followed to the end.
    let server = Server::start(completed(&[&format!(
        "{{origin}}/files/loop/{}",
        LOOP_END - 10
    )]));
    let dir = common::tempdir();
    let r = run(server.wait(dir.path(), &[]).arg("--json"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(server.file_heads().len(), 11);
    let files = listing(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::read(dir.path().join(&files[0])).unwrap(),
        b"looped"
    );
}
