//! `skills-video mcp`: the platform as typed tools for AI agents, over the
//! Model Context Protocol (rmcp, the official Rust SDK).
//!
//! - [`server`]: the handler (`tools/list`, `tools/call`) and the state calls share;
//! - [`tools`]: the six tools, their input schemas, reading their arguments;
//! - [`handlers`]: one function per tool;
//! - [`catalog`]: `list_models`, `describe_model` (offline);
//! - [`lifecycle`]: `generate`, `wait_generation` (progress, `wait_seconds`,
//!   downloads, the ledger);
//! - [`progress`]: MCP progress notifications from the SDK's events;
//! - [`schema`]: `--per-model-tools` input schemas from the spec;
//! - [`errors`]: failures as `isError` results (category, message, guidance,
//!   id, idempotency key; never the key);
//! - [`http`]: `--http ADDR`, Streamable HTTP on loopback by default.

pub mod catalog;
pub mod errors;
pub mod handlers;
pub mod http;
pub mod lifecycle;
pub mod progress;
pub mod schema;
pub mod server;
pub mod tools;
