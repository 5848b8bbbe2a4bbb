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

    /// One JSON line on stdout (JSON mode only).
    pub fn line(&self, value: &Value) {
        if self.json {
            let text = self.redact(&value.to_string());
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
    pub fn error(&self, e: &CliError) {
        self.stop_spinner();
        if self.json {
            self.line(&e.to_json());
            return;
        }
        let head = self.paint(&format!("error ({})", e.category), "1;31");
        let mut text = format!("{head}: {}", e.message);
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
}
