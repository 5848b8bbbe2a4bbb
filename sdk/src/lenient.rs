//! Best-effort deserialisation for response types: a field that is missing or
//! shaped differently becomes `None` instead of turning a finished job into an
//! error (the raw JSON is always kept beside the typed view).

use serde::{Deserialize, Deserializer};

/// Deserialises `Option<T>`, yielding `None` when the value does not fit `T`.
pub fn deserialize_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}
