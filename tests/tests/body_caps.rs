//! Every JSON body read whole is capped: a poll answer that declares 1 GiB is
//! refused before reading, and one that streams without end is dropped at
//! the cap, so memory never follows the server. Remove the cap from
//! `read_body` and the first case reads until the poll budget ends (a
//! timeout, not this error) and the second buffers everything it is sent.

use std::time::Duration;

use skills_video::{Client, Error};
use skills_video_tests::canned;
use tokio::io::AsyncWriteExt;

/// A server that answers every request with `head` and then writes spaces in
/// 64 KiB blocks until the client goes away (at most `limit` bytes).
async fn endless_server(head: &'static str, limit: usize) -> std::net::SocketAddr {
    canned::serve(move |mut socket, _| async move {
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < limit {
            if socket.write_all(&chunk).await.is_err() {
                return;
            }
            sent += chunk.len();
        }
    })
    .await
}

fn client(addr: std::net::SocketAddr) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(format!("http://{addr}/api/v1"))
        .max_body_bytes(1024 * 1024)
        .poll_timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn assert_over_cap(result: Result<skills_video::Generation, Error>) {
    match result {
        Err(Error::Decode { message, .. }) => {
            assert!(message.contains("1048576-byte cap"), "{message}");
        }
        other => panic!("expected a capped read, got {other:?}"),
    }
}

#[tokio::test]
async fn a_declared_gigabyte_poll_body_is_refused_before_reading() {
    let addr = endless_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n",
        4 * 1024 * 1024,
    )
    .await;
    assert_over_cap(client(addr).wait("gen_1").await);
}

#[tokio::test]
async fn an_endless_poll_body_is_dropped_at_the_cap() {
    // An endless body needs chunked framing: each 64 KiB of spaces is one chunk.
    let chunked = canned::serve(|mut socket, _| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let payload = vec![b' '; 64 * 1024];
        let frame = [format!("{:x}\r\n", payload.len()).into_bytes(), payload, b"\r\n".to_vec()].concat();
        // Bounded: 64 MiB at most, far past the 1 MiB cap.
        for _ in 0..1024 {
            if socket.write_all(&frame).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert_over_cap(client(chunked).wait("gen_1").await);
}
