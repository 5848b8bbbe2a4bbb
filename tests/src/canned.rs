//! A canned HTTP server for cases the simulator cannot produce (bodies that
//! are not JSON, endless streams, ids that change): it accepts connections on
//! 127.0.0.1, reads the request's first bytes, and hands the socket to the
//! test's responder, which writes whatever raw HTTP the case needs.

use std::future::Future;
use std::net::SocketAddr;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// Starts the server; `respond` is called once per connection, after the
/// request's first bytes (up to 16 KiB) were read, with the socket and the
/// connection's number (0-based).
pub async fn serve<F, Fut>(respond: F) -> SocketAddr
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0; 16384];
            let _ = socket.read(&mut buf).await;
            tokio::spawn(respond(socket, n));
            n += 1;
        }
    });
    addr
}
