//! `mcp`: serve the platform as MCP tools (see [`crate::mcp`]) over stdio,
//! or over Streamable HTTP with `--http ADDR`.
//!
//! stdout carries the protocol in stdio mode: nothing else is printed
//! there (logs go to stderr with `-v`, the key redacted).

use rmcp::ServiceExt;

use crate::args::{Cli, McpArgs};
use crate::exit;
use crate::mcp::server::{McpServer, Shared};

/// Runs the server until the client closes stdin (or Ctrl-C with `--http`).
pub async fn run(cli: &Cli, args: &McpArgs) -> u8 {
    let server = McpServer::new(Shared::new(cli, args));
    if let Some(addr) = &args.http {
        return match crate::mcp::http::serve(server, addr, args.allow_remote).await {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("error: {e}");
                exit::USAGE
            }
        };
    }
    let running = match server.serve(rmcp::transport::stdio_pipes()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the MCP session did not start: {e}");
            return exit::UNKNOWN;
        }
    };
    match running.waiting().await {
        Ok(_) => exit::OK,
        Err(e) => {
            eprintln!("error: the MCP session ended abnormally: {e}");
            exit::UNKNOWN
        }
    }
}
