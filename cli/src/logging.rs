//! `-v`: tracing to stderr through an env filter, with the API key redacted
//! from every line whatever produced it.

use std::io::Write;
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// A stderr writer that replaces the key with `[redacted]`.
#[derive(Clone)]
pub struct Redacting {
    secret: Option<Arc<str>>,
}

impl Redacting {
    /// Redacts `secret` (nothing when `None` or empty).
    pub fn new(secret: Option<String>) -> Self {
        Redacting {
            secret: secret
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .map(Arc::from),
        }
    }

    /// `text` with the key replaced.
    pub fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(s) => text.replace(&**s, "[redacted]"),
            None => text.to_string(),
        }
    }
}

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // tracing-subscriber writes one formatted event per call.
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(self.redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = Redacting;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the subscriber when `verbose > 0` (`RUST_LOG`, when set, replaces the default filter).
pub fn init(verbose: u8, secret: Option<String>) {
    let default = match verbose {
        0 => None,
        1 => Some("skills_video=debug,skills_video_cli=debug,skills_video_simulator=info"),
        _ => Some(
            "skills_video=trace,skills_video_cli=trace,skills_video_simulator=debug,reqwest=debug",
        ),
    };
    let filter = match (
        std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()),
        default,
    ) {
        (Some(env), _) if verbose > 0 => EnvFilter::try_new(env).ok(),
        (_, Some(d)) => EnvFilter::try_new(d).ok(),
        _ => None,
    };
    let Some(filter) = filter else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redacting::new(secret))
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .with_target(true)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts() {
        let r = Redacting::new(Some("sk-abc".into()));
        assert_eq!(r.redact("key=sk-abc;"), "key=[redacted];");
        assert_eq!(Redacting::new(None).redact("sk-abc"), "sk-abc");
    }
}
