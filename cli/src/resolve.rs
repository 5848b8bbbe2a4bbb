//! Model names: every accepted spelling, and suggestions for unknown ones.

use skills_video::catalog::MODELS;
use skills_video::model::{find_model, model_id_of};
use skills_video::ModelDescriptor;

use crate::exit::CliError;
use crate::suggest::closest;

/// The model named by any accepted spelling, or an input error (exit 1)
/// naming the closest models.
pub fn resolve_model(name: &str) -> Result<&'static ModelDescriptor, CliError> {
    if let Some(m) = find_model(name) {
        return Ok(m);
    }
    let id = model_id_of(name);
    let suggestions = suggestions(name);
    let mut message = unknown_model_message(name, &suggestions);
    // A model the platform added after this release: the script's way, unchecked.
    let raw_command = format!(
        "skills-video generate {} --raw --payload '{{\"prompt\": \"...\"}}'",
        crate::run::shell_quote(id)
    );
    message.push_str(&format!(
        " If the platform has it, send the request unchecked with --raw: {raw_command}"
    ));
    Err(CliError::input(message)
        .with("suggestions", suggestions)
        .with("models_command", "skills-video models")
        .with("raw_command", raw_command))
}

/// The catalog's closest model ids to an unknown name, best first (at most
/// three); the last path segment is tried too (`nano-banana-pr` →
/// `google/nano-banana-pro`). One rule for `generate`, `batch` and `mcp`.
pub fn suggestions(name: &str) -> Vec<&'static str> {
    let id = model_id_of(name);
    let found = closest(id, MODELS.iter().map(|m| m.id), 3);
    if !found.is_empty() {
        return found;
    }
    let tail = id.rsplit('/').next().unwrap_or(id);
    closest(tail, MODELS.iter().map(|m| m.id), 3)
}

/// "unknown model X: not in the built-in catalog; did you mean A, B?"
pub fn unknown_model_message(name: &str, suggestions: &[&str]) -> String {
    let mut message = format!("unknown model {name:?}: not in the built-in catalog");
    if !suggestions.is_empty() {
        message.push_str(&format!("; did you mean {}?", suggestions.join(", ")));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_resolves() {
        for s in [
            "google/nano-banana-pro",
            "/generation/google/nano-banana-pro",
            "POST /generation/sse/google/nano-banana-pro",
            "/v1/generation/sse/google/nano-banana-pro",
            "POST /v1/generation/google/nano-banana-pro",
        ] {
            assert_eq!(
                resolve_model(s).unwrap().id,
                "google/nano-banana-pro",
                "{s}"
            );
        }
    }

    #[test]
    fn unknown_models_get_suggestions() {
        let e = resolve_model("google/nano-banana-prp").unwrap_err();
        assert_eq!(e.code, 1);
        assert!(
            e.message.contains("google/nano-banana-pro"),
            "{}",
            e.message
        );
        let e = resolve_model("/generation/acme/brand-new-model").unwrap_err();
        assert!(
            e.message
                .contains("--raw: skills-video generate acme/brand-new-model --raw --payload"),
            "{}",
            e.message
        );
    }
}
