//! Generation ids come from the server (or a caller resuming one) and become
//! a path segment of `GET /generation/{id}`: an id the URL library would
//! normalise away (`.`, `..`) or that carries control characters would send
//! the poll to another route, so such ids are refused before any request.

use crate::Error;

/// The longest id accepted; platform ids are short opaque tokens.
const MAX_ID_BYTES: usize = 512;

/// Checks that `id` can name a generation in a URL path.
pub(crate) fn check_generation_id(id: &str) -> Result<(), Error> {
    let reason = if id.is_empty() {
        Some("it is empty")
    } else if id == "." || id == ".." {
        Some("`.` and `..` are path navigation, not ids")
    } else if id.chars().any(char::is_control) {
        Some("it contains a control character")
    } else if id.len() > MAX_ID_BYTES {
        Some("it is longer than 512 bytes")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidId {
            id: escaped(id),
            reason: reason.to_string(),
        }),
    }
}

/// The id as a quoted, escaped string of at most 80 characters, safe to print.
fn escaped(id: &str) -> String {
    let short: String = id.chars().take(80).collect();
    let mut text = format!("{short:?}");
    if id.chars().count() > 80 {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_pass() {
        for id in ["gen_123", "a/b c", "ünï", "x.y", "...", "%2e%2e"] {
            assert!(check_generation_id(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn path_tricks_and_control_characters_are_refused_with_the_id_escaped() {
        for (id, needle) in [
            ("", "empty"),
            (".", "path navigation"),
            ("..", "path navigation"),
            ("gen\n1", "control"),
            ("gen\u{0}", "control"),
        ] {
            let e = check_generation_id(id).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(needle), "{id:?}: {text}");
            assert!(!text.contains('\n') && !text.contains('\u{0}'), "{text:?}");
            assert_eq!(e.category(), crate::ErrorCategory::Validation);
        }
        let long = "x".repeat(600);
        let text = check_generation_id(&long).unwrap_err().to_string();
        assert!(text.contains("512") && text.len() < 300, "{text}");
    }
}
