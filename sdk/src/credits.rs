//! The credit balance (`GET /credits`).

use serde_json::Value;

/// The account's balance.
#[derive(Debug, Clone, PartialEq)]
pub struct Credits {
    /// The balance, read tolerantly from `credits`, `balance` or `remaining` (top level or under `data`).
    pub balance: Option<f64>,
    /// The raw JSON.
    pub raw: Value,
}

impl Credits {
    /// Reads a `GET /credits` body.
    pub fn from_body(raw: Value) -> Self {
        let pick = |v: &Value| {
            ["credits", "balance", "remaining", "remaining_credits"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_f64))
        };
        let balance = pick(&raw).or_else(|| raw.get("data").and_then(pick));
        Credits { balance, raw }
    }
}
