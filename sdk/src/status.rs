//! Tolerant reading of job state from SSE events and poll bodies, as the
//! platform reference describes: the status and the id are the first string
//! found, depth first, under any of a list of keys; an event is terminal by
//! its status or by its event name.

use serde_json::Value;

/// Keys that may carry the job status, in priority order.
pub const STATUS_KEYS: &[&str] = &[
    "status",
    "state",
    "queue_state",
    "queueState",
    "prediction_status",
    "predictionStatus",
];

/// Keys that may carry the job id, in priority order.
pub const ID_KEYS: &[&str] = &[
    "generation_id",
    "generationId",
    "prediction_id",
    "predictionId",
    "task_id",
    "taskId",
    "id",
];

/// Event names that end a job whatever the payload says.
pub const TERMINAL_EVENT_NAMES: &[&str] = &[
    "completed",
    "complete",
    "succeeded",
    "success",
    "failed",
    "failure",
    "canceled",
    "cancelled",
    "done",
    "finished",
    "terminal",
];

/// A job's state, compared case-insensitively across both vocabularies
/// (`QueueState` and `PredictionStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Status {
    /// `IN_QUEUE` / `starting`.
    InQueue,
    /// `IN_PROGRESS` / `processing`.
    InProgress,
    /// `COMPLETED`.
    Completed,
    /// `SUCCEEDED` / `succeeded`.
    Succeeded,
    /// `FAILED` / `failed`.
    Failed,
    /// `CANCELED` / `CANCELLED` / `canceled`.
    Canceled,
    /// A status this SDK does not know; never terminal.
    Other(String),
}

impl Status {
    /// Reads a status string.
    pub fn parse(text: &str) -> Status {
        match text.trim().to_ascii_uppercase().as_str() {
            "IN_QUEUE" | "QUEUED" | "STARTING" | "PENDING" => Status::InQueue,
            "IN_PROGRESS" | "PROCESSING" | "RUNNING" => Status::InProgress,
            "COMPLETED" => Status::Completed,
            "SUCCEEDED" => Status::Succeeded,
            "FAILED" => Status::Failed,
            "CANCELED" | "CANCELLED" => Status::Canceled,
            _ => Status::Other(text.to_string()),
        }
    }

    /// COMPLETED, SUCCEEDED, FAILED or CANCELED.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Succeeded | Status::Failed | Status::Canceled
        )
    }

    /// COMPLETED or SUCCEEDED.
    pub fn is_success(&self) -> bool {
        matches!(self, Status::Completed | Status::Succeeded)
    }

    /// The canonical upper-case name.
    pub fn as_str(&self) -> &str {
        match self {
            Status::InQueue => "IN_QUEUE",
            Status::InProgress => "IN_PROGRESS",
            Status::Completed => "COMPLETED",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::Canceled => "CANCELED",
            Status::Other(s) => s,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first string under any of `keys`, depth first: the keys of an object
/// are tried (in `keys` order) before its children are searched.
pub(crate) fn find_string<'v>(
    value: &'v Value,
    keys: &[&'static str],
) -> Option<(&'static str, &'v str)> {
    match value {
        Value::Object(map) => {
            for key in keys {
                if let Some(Value::String(s)) = map.get(*key) {
                    return Some((key, s));
                }
            }
            map.values().find_map(|v| find_string(v, keys))
        }
        Value::Array(items) => items.iter().find_map(|v| find_string(v, keys)),
        _ => None,
    }
}

/// The status and the key it was found under.
pub(crate) fn find_status(value: &Value) -> Option<(&'static str, Status)> {
    find_string(value, STATUS_KEYS).map(|(k, s)| (k, Status::parse(s)))
}

/// The job id.
pub(crate) fn find_id(value: &Value) -> Option<String> {
    find_string(value, ID_KEYS)
        .map(|(_, s)| s.to_string())
        .filter(|s| !s.is_empty())
}

/// Whether an SSE event name alone marks the end of the job.
pub(crate) fn is_terminal_event_name(name: &str) -> bool {
    TERMINAL_EVENT_NAMES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name.trim()))
}

/// Whether a terminal event name means failure.
pub(crate) fn is_failure_event_name(name: &str) -> bool {
    ["failed", "failure"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name.trim()))
}

/// Whether a terminal event name means cancellation.
pub(crate) fn is_cancel_event_name(name: &str) -> bool {
    ["canceled", "cancelled"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_compare_case_insensitively() {
        assert_eq!(Status::parse("completed"), Status::Completed);
        assert_eq!(Status::parse("succeeded"), Status::Succeeded);
        assert_eq!(Status::parse("CANCELLED"), Status::Canceled);
        assert!(!Status::parse("IN_PROGRESS").is_terminal());
        assert!(!Status::parse("WARMING_UP").is_terminal());
        assert!(Status::parse("failed").is_terminal());
        assert!(!Status::parse("failed").is_success());
    }

    #[test]
    fn keys_are_found_depth_first() {
        let v = json!({"data": {"state": "IN_PROGRESS", "task_id": "t1"}, "event": "x"});
        assert_eq!(find_status(&v), Some(("state", Status::InProgress)));
        assert_eq!(find_id(&v).as_deref(), Some("t1"));
        let top = json!({"id": "a", "generation": {"generation_id": "b"}});
        assert_eq!(find_id(&top).as_deref(), Some("a"));
        let priority = json!({"id": "a", "generation_id": "b"});
        assert_eq!(find_id(&priority).as_deref(), Some("b"));
        assert_eq!(find_status(&json!({"status": 3})), None);
    }

    #[test]
    fn terminal_event_names() {
        assert!(is_terminal_event_name("Done"));
        assert!(is_terminal_event_name("cancelled"));
        assert!(!is_terminal_event_name("progress"));
        assert!(is_failure_event_name("failure"));
    }
}
