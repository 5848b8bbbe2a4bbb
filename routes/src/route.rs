//! Model routes. Routes are relative to the API base (`.../api/v1`); a
//! model-scoped spec's `/v1/generation/...` paths (served under `/api`) name
//! the same routes as the platform spec's `/generation/...`.

/// The prefix of every model route.
pub const GENERATION: &str = "/generation/";
/// The segment that marks the SSE twin of a model route.
pub const SSE: &str = "sse/";
/// The poll route the platform documents, when a spec carries none.
pub const DEFAULT_POLL_ROUTE: &str = "/generation/{id}";

/// `/v1/generation/x` → `/generation/x`; anything else unchanged.
pub fn strip_v1(path: &str) -> &str {
    path.strip_prefix("/v1")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path)
}

/// Reduces any accepted spelling of a model to its id: `google/nano-banana-pro`,
/// `/generation/google/nano-banana-pro`, `POST /generation/sse/google/nano-banana-pro`,
/// and the `/v1/...` forms all give `google/nano-banana-pro`.
pub fn model_id(spelling: &str) -> &str {
    let mut s = spelling.trim();
    s = s.strip_prefix("POST ").unwrap_or(s).trim();
    s = strip_v1(s);
    s = s.strip_prefix(GENERATION).unwrap_or(s);
    s = s.strip_prefix(SSE).unwrap_or(s);
    s.trim_matches('/')
}

/// A model route read from a path: the model id and whether it is the SSE
/// twin. `None` for paths that are not model routes (the poll route
/// `/generation/{id}`, `/credits`, an empty id).
pub fn parse(path: &str) -> Option<(&str, bool)> {
    let rest = strip_v1(path).strip_prefix(GENERATION)?;
    let (model, sse) = match rest.strip_prefix(SSE) {
        Some(model) => (model, true),
        None => (rest, false),
    };
    (!model.is_empty() && !model.contains('{')).then_some((model, sse))
}

/// The polling create route of a model id.
pub fn create_route(id: &str) -> String {
    format!("{GENERATION}{id}")
}

/// The SSE create route of a model id.
pub fn sse_route(id: &str) -> String {
    format!("{GENERATION}{SSE}{id}")
}

/// `/generation/sse/x` → `/generation/x` (the reverse of [`sse_twin`]).
pub fn polling_twin(route: &str) -> String {
    match route.strip_prefix("/generation/sse/") {
        Some(rest) => create_route(rest),
        None => route.to_string(),
    }
}

/// The SSE twin: the first `/generation/` becomes `/generation/sse/`.
pub fn sse_twin(route: &str) -> String {
    match route.strip_prefix(GENERATION) {
        Some(rest) if !rest.starts_with(SSE) => sse_route(rest),
        _ => route.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_gives_the_id() {
        for s in [
            "google/nano-banana-pro",
            "/generation/google/nano-banana-pro",
            "/generation/sse/google/nano-banana-pro",
            "POST /generation/sse/google/nano-banana-pro",
            "/v1/generation/google/nano-banana-pro",
            " POST /v1/generation/sse/google/nano-banana-pro/ ",
        ] {
            assert_eq!(model_id(s), "google/nano-banana-pro", "{s}");
        }
        // `/v1x/...` is not the v1 prefix.
        assert_eq!(strip_v1("/v1x/generation/a"), "/v1x/generation/a");
    }

    #[test]
    fn twins_and_parse_agree() {
        assert_eq!(sse_twin("/generation/a/b"), "/generation/sse/a/b");
        assert_eq!(sse_twin("/generation/sse/a/b"), "/generation/sse/a/b");
        assert_eq!(polling_twin("/generation/sse/a/b"), "/generation/a/b");
        assert_eq!(parse("/v1/generation/sse/a/b"), Some(("a/b", true)));
        assert_eq!(parse("/generation/a/b"), Some(("a/b", false)));
        assert_eq!(parse("/generation/{id}"), None);
        assert_eq!(parse("/generation/"), None);
        assert_eq!(parse("/credits"), None);
        for id in ["a/b", "kling-ai/v3/image"] {
            assert_eq!(parse(&create_route(id)), Some((id, false)));
            assert_eq!(parse(&sse_route(id)), Some((id, true)));
            assert_eq!(model_id(&sse_route(id)), id);
        }
    }
}
