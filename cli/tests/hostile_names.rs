//! `--out` against a hostile server whose output URLs carry path-traversal
//! file names. The simulator always names files `output.png`, so this test
//! serves the SSE create and the files from a tiny fake platform.

mod common;

use std::path::Path;

use common::{bin, decode_png, run, KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const HOSTILE: &[&str] = &[
    "..%2F..%2Fescape.png",
    "%2e%2e%2Fdot.png",
    "..%5C..%5Cwin.png",
    ".hidden.png",
];

async fn serve(listener: TcpListener) {
    let port = listener.local_addr().unwrap().port();
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then the body by Content-Length.
            let head_end = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < head_end + len {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let response: Vec<u8> = if path.starts_with("/api/v1/generation/sse/") {
                let images: Vec<String> = HOSTILE
                    .iter()
                    .map(|n| format!(r#"{{"url":"http://127.0.0.1:{port}/files/{n}"}}"#))
                    .collect();
                let data = format!(
                    r#"{{"generation_id":"gen-hostile","status":"COMPLETED","output":{{"images":[{}]}}}}"#,
                    images.join(",")
                );
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nevent: completed\ndata: {data}\n\n"
                )
                .into_bytes()
            } else if path.starts_with("/files/") {
                let body = skills_video_simulator::files::png_bytes(&path);
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            let _ = sock.write_all(&response).await;
            let _ = sock.shutdown().await;
        });
    }
}

#[test]
fn hostile_file_names_stay_inside_out_dir() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    rt.spawn(serve(listener));

    let root = common::tempdir();
    let out = root.path().join("a").join("b").join("out");
    let r = run(bin()
        .args([
            "--json",
            "generate",
            "google/nano-banana-pro",
            "--prompt",
            "x",
        ])
        .args(["--base-url", &base, "--api-key", KEY, "--out"])
        .arg(&out));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let last = r.last();
    assert_eq!(last["source"], "sse");
    let files: Vec<String> = last["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(files.len(), HOSTILE.len());
    for f in &files {
        let p = Path::new(f);
        assert_eq!(p.parent().unwrap(), out, "{f} escaped the out dir");
        let name = p.file_name().unwrap().to_string_lossy();
        assert!(!name.starts_with('.') && !name.contains(".."), "{name}");
        decode_png(p);
    }
    // Nothing was written outside DIR.
    let escaped = ["escape.png", "dot.png", "win.png"];
    for dir in [
        root.path().to_path_buf(),
        root.path().join("a"),
        root.path().join("a/b"),
    ] {
        for name in escaped {
            assert!(
                !dir.join(name).exists(),
                "{} exists",
                dir.join(name).display()
            );
        }
    }
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            Path::new(f)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["escape.png", "dot.png", "win.png", "hidden.png"]);
}
