//! The MCP server: `tools/list` and `tools/call` over the six tools (and,
//! with `--per-model-tools`, one per model).
//!
//! `ServerHandler` is implemented by hand rather than with rmcp's tool
//! macros: the per-model tools are built at run time from the catalog, and
//! every argument problem must be an `isError` result naming the argument
//! (a macro's typed `Parameters<T>` turns a bad argument into a JSON-RPC
//! error the agent never sees).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use skills_video::{Client, ModelDescriptor};

use crate::args::{Cli, McpArgs};
use crate::commands::jobs::SharedLedger;
use crate::commands::Timeouts;
use crate::exit::CliError;
use crate::mcp::errors::{redact, ToolError};
use crate::mcp::progress::Progress;
use crate::mcp::tools;
use crate::mcp::{catalog, handlers, schema};

/// How downloads of `download_dir` are bounded.
#[derive(Debug, Clone, Copy)]
pub struct DownloadSettings {
    /// `--max-download-bytes`.
    pub max_bytes: u64,
    /// `--allow-private-downloads`.
    pub allow_private: bool,
}

/// What every call of one server shares.
pub struct Shared {
    /// The client (journaling to the ledger when one is configured), or why
    /// there is none: no key, or a ledger that cannot be opened. The paid
    /// tools answer with that error; the catalog tools work regardless.
    client: Result<(Client, Option<SharedLedger>), CliError>,
    /// The API key, redacted from every result.
    pub secret: Option<String>,
    /// Bounds of the downloads.
    pub download: DownloadSettings,
    /// `wait_seconds` when a call gives none.
    pub default_wait: Duration,
    /// Every tool, in `tools/list` order.
    tools: Vec<Tool>,
    /// The per-model tools by name.
    per_model: HashMap<String, &'static ModelDescriptor>,
}

impl Shared {
    /// The state of `skills-video mcp` from its command line.
    pub fn new(cli: &Cli, args: &McpArgs) -> Self {
        let client = crate::commands::client_with_ledger(
            cli,
            Timeouts {
                sse: Some(args.sse_timeout),
                poll: Some(args.poll_timeout),
                interval: Some(args.poll_interval),
            },
        );
        if let Err(e) = &client {
            tracing::info!(category = %e.category, "paid tools unavailable: {}", e.message);
        }
        let mut tools = tools::static_tools();
        let mut per_model = HashMap::new();
        if args.per_model_tools {
            for m in skills_video::catalog::MODELS {
                let name = catalog::sdk_function_name(m);
                if per_model.contains_key(&name) || tools.iter().any(|t| t.name == name) {
                    tracing::warn!(model = m.id, %name, "per-model tool name taken; skipped");
                    continue;
                }
                tools.push(per_model_tool(m, &name));
                per_model.insert(name, *m);
            }
        }
        Shared {
            client,
            secret: cli
                .api_key
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string),
            download: DownloadSettings {
                max_bytes: args.download.max_download_bytes,
                allow_private: args.download.allow_private_downloads,
            },
            default_wait: args.wait,
            tools,
            per_model,
        }
    }

    /// The client, or the tool error that explains why there is none.
    pub fn client(&self) -> Result<(&Client, Option<SharedLedger>), ToolError> {
        match &self.client {
            Ok((c, l)) => Ok((c, l.clone())),
            Err(e) => {
                let mut t = ToolError::from(e.clone());
                if e.category == "missing_api_key" {
                    t.category = "missing_api_key".into();
                    t.guidance = crate::mcp::errors::missing_key_guidance();
                } else if e.extra.contains_key("ledger_error") {
                    t.category = "ledger".into();
                    t.guidance = "The job ledger could not be opened, so no paid job is started (a job without a record could be lost). Restart the server with --ledger PATH (a writable file) or --no-ledger.".into();
                }
                Err(t)
            }
        }
    }

    /// Every tool (`tools/list`).
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }
}

/// One model's tool: named by its SDK function, its request schema as input.
fn per_model_tool(m: &ModelDescriptor, name: &str) -> Tool {
    let description = format!(
        "{} — {} Runs `generate` for {} with the arguments as its input (checked first; progress while it runs; returns the id to wait for if it takes longer than the server's --wait). Costs credits.",
        m.summary,
        m.description.lines().next().unwrap_or_default().trim(),
        m.id
    );
    Tool::new(
        name.to_string(),
        description,
        Arc::new(schema::input_schema(m)),
    )
    .with_title(m.summary)
    .annotate(
        ToolAnnotations::with_title(m.summary)
            .read_only(false)
            .destructive(false)
            .idempotent(false)
            .open_world(true),
    )
}

/// The server handler (cheap to clone: one per Streamable HTTP session).
#[derive(Clone)]
pub struct McpServer {
    shared: Arc<Shared>,
}

impl McpServer {
    /// A server over `shared`.
    pub fn new(shared: Shared) -> Self {
        McpServer {
            shared: Arc::new(shared),
        }
    }

    /// Runs one tool: its JSON answer or the failure to report; `None`
    /// for a name that is no tool.
    async fn run_tool(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        context: RequestContext<RoleServer>,
    ) -> Option<Result<Value, ToolError>> {
        let shared = &*self.shared;
        let progress = || Progress::new(context.peer.clone(), context.meta.get_progress_token());
        let ct = context.ct.clone();
        Some(match name {
            tools::LIST_MODELS => handlers::list_models(arguments),
            tools::DESCRIBE_MODEL => handlers::describe_model(arguments),
            tools::GENERATE => handlers::generate(shared, arguments, progress(), ct).await,
            tools::WAIT_GENERATION => {
                handlers::wait_generation(shared, arguments, progress(), ct).await
            }
            tools::GET_CREDITS => handlers::get_credits(shared, arguments).await,
            tools::EXPLAIN_ERROR => handlers::explain_error(arguments),
            other => {
                let model = *shared.per_model.get(other)?;
                handlers::per_model(shared, model, arguments, progress(), ct).await
            }
        })
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("skills-video", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Image and video generation on skills.video. list_models finds a model, describe_model shows its fields and a request template, generate runs it (checked first; progress while it renders) and wait_generation resumes by id. Never call generate twice for one job: a generate that returned before the end gives the id to wait for.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.shared.tools().to_vec(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.shared.tools().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let secret = self.shared.secret.clone();
        let Some(result) = self.run_tool(&name, request.arguments, context).await else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {name:?}; tools/list names them"),
                None,
            ));
        };
        let result = match result {
            Ok(value) => CallToolResult::structured(redact(value, secret.as_deref())),
            Err(e) => e.into_result(secret.as_deref()),
        };
        Ok(result.into())
    }
}
