//! `--http ADDR`: the server over Streamable HTTP (rmcp's tower service,
//! served with hyper; one handler per session). Loopback addresses only
//! unless `--allow-remote`: the server has no authentication of its own,
//! and rmcp checks the `Host` header against the allowed hosts (DNS
//! rebinding).

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use crate::mcp::server::McpServer;

/// The address to listen on: `HOST:PORT` (a name is resolved; the first
/// address is used) or `:PORT` / `PORT` for 127.0.0.1.
pub async fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    let t = text.trim();
    let t = if let Some(port) = t.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else if t.parse::<u16>().is_ok() {
        format!("127.0.0.1:{t}")
    } else {
        t.to_string()
    };
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    tokio::net::lookup_host(&t)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("--http {text:?} is not an address (e.g. 127.0.0.1:8765)"))
}

/// Serves `server` at `addr` until Ctrl-C; `Err` says why it could not.
pub async fn serve(server: McpServer, addr: &str, allow_remote: bool) -> Result<(), String> {
    let addr = listen_addr(addr).await?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "--http {addr} is not a loopback address; the server has no authentication of its own: pass --allow-remote to listen there anyway"
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let mut config = StreamableHttpServerConfig::default();
    if !local.ip().is_loopback() {
        let mut hosts = config.allowed_hosts.clone();
        hosts.push(local.ip().to_string());
        hosts.push(local.to_string());
        config = config.with_allowed_hosts(hosts);
    }
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    // The one line a wrapper waits for (stdout is free: no stdio protocol here).
    println!("skills-video mcp: Streamable HTTP on http://{local}/mcp");
    eprintln!("skills-video mcp: Streamable HTTP on http://{local}/mcp");
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let (stream, _) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let svc = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}
