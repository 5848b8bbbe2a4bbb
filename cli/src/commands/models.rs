//! `models`: the catalog from the generated code.

use serde_json::{json, Value};
use skills_video::catalog::MODELS;
use skills_video::{Category, ModelDescriptor};

use crate::args::{CategoryFilter, ModelsArgs};
use crate::exit;
use crate::output::Output;

/// One model as the seed's `--list-endpoints` describes it.
pub fn describe(m: &ModelDescriptor) -> Value {
    let sse = m.sse_route.map(|r| format!("POST {r}"));
    let polling = m.create_route.map(|r| format!("POST {r}"));
    json!({
        "model": m.id,
        "provider": m.provider,
        "name": m.model,
        "category": m.category.as_str(),
        "summary": m.summary,
        "default_result_mode": if m.sse_route.is_some() { "sse" } else { "polling" },
        "default_endpoint": sse.clone().or_else(|| polling.clone()),
        "sse_endpoint": sse,
        "polling_endpoint": polling,
        "poll_endpoint": format!("GET {}", m.poll_route),
    })
}

/// Runs the command.
pub fn run(args: &ModelsArgs, out: &Output) -> u8 {
    let selected: Vec<&ModelDescriptor> = MODELS
        .iter()
        .copied()
        .filter(|m| match args.category {
            CategoryFilter::All => true,
            CategoryFilter::Images => m.category == Category::Images,
            CategoryFilter::Videos => m.category == Category::Videos,
        })
        .collect();
    if out.is_json() {
        for m in &selected {
            out.line(&describe(m));
        }
        return exit::OK;
    }
    let width = selected.iter().map(|m| m.id.len()).max().unwrap_or(10);
    let mut text = format!(
        "{:<width$}  {:<6}  {:<7}  SSE ROUTE / POLLING ROUTE",
        "MODEL", "KIND", "MODE"
    );
    for m in &selected {
        text.push_str(&format!(
            "\n{:<width$}  {:<6}  {:<7}  {} | {}",
            m.id,
            m.category.as_str(),
            if m.sse_route.is_some() {
                "sse"
            } else {
                "polling"
            },
            m.sse_route.unwrap_or("-"),
            m.create_route.unwrap_or("-"),
        ));
    }
    text.push_str(&format!(
        "\n{} models; poll route GET /generation/{{id}}. Details: skills-video inspect MODEL --template",
        selected.len()
    ));
    out.summary(&text);
    exit::OK
}
