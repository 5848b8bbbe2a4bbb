//! MCP progress notifications for a running generation.
//!
//! The caller's `progressToken` (from the request's `_meta`) is optional:
//! without one nothing is sent. Each notification carries a `progress` that
//! strictly increases (as the spec requires), `total: 100`, and a message
//! with the status, the platform's own percentage when it reports one, and
//! the generation id once known.

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use skills_video::Event;

/// Sends the progress of one `tools/call`.
pub struct Progress {
    target: Option<(Peer<RoleServer>, ProgressToken)>,
    last: f64,
    last_message: String,
    /// The generation id, once the lifecycle named it.
    pub generation_id: Option<String>,
    /// The last status read (`IN_QUEUE`, `IN_PROGRESS`, ...).
    pub last_status: Option<String>,
    /// Whether the lifecycle moved from the stream to polling.
    pub fell_back: bool,
}

impl Progress {
    /// Progress for `token` (none sent without one).
    pub fn new(peer: Peer<RoleServer>, token: Option<ProgressToken>) -> Self {
        Progress {
            target: token.map(|t| (peer, t)),
            last: 0.0,
            last_message: String::new(),
            generation_id: None,
            last_status: None,
            fell_back: false,
        }
    }

    /// Notes `event` and tells the caller when it moves the job on.
    pub async fn on_event(&mut self, event: &Event) {
        let (at, message): (f64, String) = match event {
            Event::Started { .. } => (1.0, "creating".to_string()),
            Event::SseOpen { .. } => (2.0, "stream open".to_string()),
            Event::Created { generation_id } => {
                self.generation_id = Some(generation_id.clone());
                (5.0, format!("created {generation_id}"))
            }
            Event::Message(m) => {
                if let Some(id) = &m.generation_id {
                    self.generation_id.get_or_insert_with(|| id.clone());
                }
                let Some(status) = m.status.as_ref().map(|s| s.as_str().to_string()) else {
                    return;
                };
                self.last_status = Some(status.clone());
                let pct = m.progress.map(|p| (p * 100.0).clamp(0.0, 100.0));
                let message = match pct {
                    Some(p) => format!("{status} {p:.0}%"),
                    None => status,
                };
                (5.0 + pct.unwrap_or(0.0) * 0.9, message)
            }
            Event::FallbackToPolling { generation_id, .. } => {
                self.fell_back = true;
                if let Some(id) = generation_id {
                    self.generation_id = Some(id.clone());
                }
                (self.last, "the stream ended early; polling".to_string())
            }
            Event::Poll {
                generation_id,
                status,
                ..
            } => {
                self.generation_id = Some(generation_id.clone());
                let status = status
                    .as_ref()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "unknown".into());
                self.last_status = Some(status.clone());
                (self.last, format!("{status} (poll)"))
            }
            Event::Retrying {
                attempt, reason, ..
            } => (self.last, format!("retry {attempt}: {reason}")),
            Event::Terminal(g) => {
                self.last_status = Some(g.status().as_str().to_string());
                (100.0, g.status().as_str().to_string())
            }
            _ => return,
        };
        self.send(at, message).await;
    }

    /// One notification (`progress` kept strictly increasing; an unchanged
    /// message at the same point is not repeated).
    pub async fn send(&mut self, at: f64, message: String) {
        let message = match &self.generation_id {
            Some(id) if !message.contains(id.as_str()) => format!("{message} ({id})"),
            _ => message,
        };
        if (at <= self.last && message == self.last_message) || self.last >= 100.0 {
            return;
        }
        // Strictly increasing, and below 100 until the end.
        let value = if at > self.last {
            at
        } else {
            self.last + (99.99 - self.last).max(0.0) * 0.01
        };
        let value = if at >= 100.0 {
            value.max(100.0)
        } else {
            value.min(99.99)
        };
        // Two decimals on the wire (still strictly increasing).
        let value = (value * 100.0).round() / 100.0;
        let value = if value <= self.last {
            self.last + 0.01
        } else {
            value
        };
        if at < 100.0 && value >= 100.0 {
            return;
        }
        self.last = value;
        self.last_message = message.clone();
        let Some((peer, token)) = &self.target else {
            return;
        };
        let param = ProgressNotificationParam::new(token.clone(), value)
            .with_total(100.0)
            .with_message(message);
        if let Err(e) = peer.notify_progress(param).await {
            tracing::debug!(error = %e, "a progress notification could not be sent");
        }
    }
}
