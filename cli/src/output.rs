//! Output: JSON lines on stdout (`--json`) or human text (progress on
//! stderr with an indicatif spinner, a short summary on stdout). Every
//! printed string passes through the key redactor; `NO_COLOR` is respected.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::exit::CliError;

/// Where and how a command prints.
pub struct Output {
    json: bool,
    color: bool,
    secret: Option<String>,
    spinner: Mutex<Option<ProgressBar>>,
}

impl Output {
    /// `json`: machine output; `secret`: the API key, never printed.
    pub fn new(json: bool, secret: Option<String>) -> Self {
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal();
        Output {
            json,
            color,
            secret: secret.filter(|s| !s.is_empty()),
            spinner: Mutex::new(None),
        }
    }

    /// Machine output requested.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Replaces the key with `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(s) => text.replace(s.as_str(), "[redacted]"),
            None => text.to_string(),
        }
    }

    /// One JSON line on stdout (JSON mode only), spaced like Python's
    /// `json.dumps` (see [`to_line`]).
    pub fn line(&self, value: &Value) {
        if self.json {
            let text = self.redact(&to_line(value));
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    /// A JSON document on stdout whatever the mode (pretty in human mode).
    pub fn document(&self, value: &Value) {
        let text = if self.json {
            value.to_string()
        } else {
            serde_json::to_string_pretty(value).unwrap_or_default()
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", self.redact(&text));
        let _ = out.flush();
    }

    /// A progress note on stderr (human mode only).
    pub fn note(&self, text: &str) {
        if self.json {
            return;
        }
        let text = self.redact(text);
        let guard = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| eprintln!("{text}")),
            _ => eprintln!("{text}"),
        }
    }

    /// Summary text on stdout (human mode only).
    pub fn summary(&self, text: &str) {
        if !self.json {
            self.stop_spinner();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", self.redact(text));
            let _ = out.flush();
        }
    }

    /// Starts (or updates) the spinner on stderr (human mode; drawn only on a terminal).
    pub fn spinner(&self, message: &str) {
        if self.json {
            return;
        }
        let message = self.redact(message);
        let mut guard = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(bar) => bar.set_message(message),
            None => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                let template = if self.color {
                    "{spinner:.cyan} {elapsed:>4} {msg}"
                } else {
                    "{spinner} {elapsed:>4} {msg}"
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    bar.set_style(style);
                }
                bar.set_message(message);
                bar.enable_steady_tick(Duration::from_millis(120));
                *guard = Some(bar);
            }
        }
    }

    /// Removes the spinner.
    pub fn stop_spinner(&self) {
        let mut guard = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = guard.take() {
            bar.finish_and_clear();
        }
    }

    /// Colours `text` (SGR `code`) when colour is on.
    pub fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Prints an error: the JSON `error` line, or a human message on stderr.
    /// SDK API names in its text become the CLI's flags ([`cli_wording`]).
    pub fn error(&self, e: &CliError) {
        self.stop_spinner();
        let mut e = e.clone();
        e.message = cli_wording(&e.message);
        e.guidance = cli_wording(&e.guidance);
        let e = &e;
        if self.json {
            self.line(&e.to_json());
            return;
        }
        let head = self.paint(&format!("error ({})", e.category), "1;31");
        let mut text = match e.extra.get("violations") {
            // Several problems: one per line under the message's head.
            Some(Value::Array(items)) if items.len() > 1 => {
                let lead = e
                    .message
                    .split_once(": ")
                    .map_or(e.message.as_str(), |(h, _)| h);
                let mut t = format!("{head}: {lead}:");
                for item in items {
                    if let Some(m) = item.get("message").and_then(Value::as_str) {
                        t.push_str(&format!("\n  - {m}"));
                    }
                }
                t
            }
            _ => format!("{head}: {}", e.message),
        };
        if let Some(id) = &e.generation_id {
            text.push_str(&format!("\n  generation id: {id}"));
        }
        for key in ["idempotency_key", "resume_command"] {
            if let Some(Value::String(v)) = e.extra.get(key) {
                text.push_str(&format!("\n  {}: {v}", key.replace('_', " ")));
            }
        }
        if let Some(Value::Array(items)) = e.extra.get("suggestions") {
            let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            if !names.is_empty() && !e.message.contains("did you mean") {
                text.push_str(&format!("\n  did you mean: {}", names.join(", ")));
            }
        }
        text.push_str(&format!("\n  {}", e.guidance));
        eprintln!("{}", self.redact(&text));
    }
}

/// SDK API names that error text from the SDK may carry, and what a user
/// of the command line writes instead.
const CLI_WORDING: &[(&str, &str)] = &[
    ("call ClientBuilder::api_key", "pass --api-key"),
    ("ClientBuilder::api_key", "--api-key"),
    ("ClientBuilder::base_url", "--base-url"),
    ("ClientBuilder::max_body_bytes", "--max-body-bytes"),
    ("ClientBuilder::max_event_bytes", "--max-event-bytes"),
    ("ClientBuilder::max_upload_bytes", "--max-upload-bytes"),
    ("ClientBuilder::ledger", "--ledger"),
    (
        "use https:// or call allow_insecure_http(true)",
        "use an https:// --base-url (or SKILLS_VIDEO_BASE_URL); plain http:// is accepted only for a loopback host",
    ),
    ("`Client::wait(id)`", "`skills-video wait ID`"),
    ("`Client::credits()`", "`skills-video credits`"),
    (
        "(each model's fields, allowed values and ranges: `ModelDescriptor::fields`)",
        "(see `skills-video inspect MODEL`)",
    ),
    ("(`catalog::MODELS` lists them)", "(`skills-video models`)"),
];

/// `text` with the SDK's API names replaced by the CLI's flags and
/// environment variables (`ClientBuilder::api_key` → `--api-key`,
/// `wait("ID")` → `skills-video wait ID`).
pub fn cli_wording(text: &str) -> String {
    let mut out = text.to_string();
    for (sdk, cli) in CLI_WORDING {
        if out.contains(sdk) {
            out = out.replace(sdk, cli);
        }
    }
    // `resume with wait("ID")` (the SDK's timeout message).
    while let Some(start) = out.find("wait(\"") {
        let rest = &out[start + 6..];
        let Some(end) = rest.find("\")") else { break };
        let id = rest[..end].to_string();
        out.replace_range(
            start..start + 6 + end + 2,
            &format!("`skills-video wait {id}`"),
        );
    }
    out
}

/// Python's default `json.dumps` spacing (`", "` between items, `": "` after
/// a key) with non-ASCII kept as is (`ensure_ascii=False`): the separators of
/// the platform's helper scripts, so a `grep '"event": "terminal"'` written
/// for them matches our lines too. Only the separators differ from
/// serde_json's compact output; escaping is serde_json's.
#[derive(Debug, Default, Clone, Copy)]
pub struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// `value` as one line with [`PythonFormatter`]'s spacing.
pub fn to_line(value: &Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, PythonFormatter);
    // Serialising a `Value` into memory cannot fail.
    let _ = value.serialize(&mut ser);
    String::from_utf8(buf).unwrap_or_default()
}

impl Drop for Output {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_key() {
        let out = Output::new(true, Some("sk-123".into()));
        assert_eq!(out.redact("Bearer sk-123!"), "Bearer [redacted]!");
        let none = Output::new(true, Some(String::new()));
        assert_eq!(none.redact("abc"), "abc");
    }

    #[test]
    fn errors_name_flags_and_environment_variables_never_sdk_methods() {
        use skills_video::Error;
        let insecure = skills_video::Client::builder()
            .api_key("k")
            .base_url("http://example.com/api/v1")
            .build()
            .unwrap_err();
        let errors = [
            Error::MissingApiKey,
            insecure,
            Error::Timeout {
                generation_id: "g-1".into(),
                last_status: "IN_PROGRESS".into(),
                waited: Duration::from_secs(2),
            },
            Error::Decode {
                message: "over the 8-byte cap (raise it with ClientBuilder::max_body_bytes)".into(),
                body: String::new(),
            },
            Error::Config(
                "x is 9 MiB, over the upload cap (ClientBuilder::max_upload_bytes)".into(),
            ),
            Error::Config(
                "event too large; raise the limit with ClientBuilder::max_event_bytes".into(),
            ),
        ];
        for e in &errors {
            let cli = CliError::from(e);
            for text in [cli_wording(&cli.message), cli_wording(&cli.guidance)] {
                for sdk in [
                    "ClientBuilder",
                    "Client::",
                    "allow_insecure_http",
                    "wait(",
                    "::",
                ] {
                    assert!(!text.contains(sdk), "{sdk} in {text:?}");
                }
            }
        }
        let key = cli_wording(&CliError::from(&Error::MissingApiKey).message);
        assert!(
            key.contains("SKILLS_VIDEO_API_KEY") && key.contains("--api-key"),
            "{key}"
        );
        let timeout = cli_wording(&errors[2].to_string());
        assert!(
            timeout.ends_with("resume with `skills-video wait g-1`"),
            "{timeout}"
        );
        assert!(cli_wording(&errors[1].to_string()).contains("--base-url"));
    }

    #[test]
    fn lines_use_python_separators_and_keep_non_ascii() {
        let v = serde_json::json!({"event": "start", "a": [1, 2.5, {"b": null}], "c": "café ☕\n\"", "d": {}, "e": []});
        assert_eq!(
            to_line(&v),
            r#"{"event": "start", "a": [1, 2.5, {"b": null}], "c": "café ☕\n\"", "d": {}, "e": []}"#
        );
    }
}
