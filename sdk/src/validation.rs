//! Client-side validation: the generated `validate()` of every request checks
//! the spec's constraints here, before any network traffic, so a bad payload
//! never costs credits.

use std::fmt;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field's path in the request, e.g. `image_size.width` or `image_urls[2]`.
    pub field: String,
    /// The rule, e.g. `minimum`, `max_length`, `pattern`, `uri`, `schema`.
    pub rule: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.rule)
    }
}

/// Every violation found in one request (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    /// The violations, in field order.
    pub violations: Vec<Violation>,
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.violations.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Implemented by every generated type: adds its violations under `path`.
pub trait Validate {
    /// Appends every violation of `self`, with field paths under `path`.
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>);
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>) {
        for (i, item) in self.iter().enumerate() {
            item.validate_into(&format!("{path}[{i}]"), out);
        }
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>) {
        if let Some(v) = self {
            v.validate_into(path, out);
        }
    }
}

impl<T: Validate> Validate for std::collections::BTreeMap<String, T> {
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>) {
        for (k, v) in self {
            v.validate_into(&join(path, k), out);
        }
    }
}

/// Runs a root-level validation and turns the violations into a result.
///
/// Takes `&dyn Validate`, not a generic `T`: every request type's
/// `validate()` calls it, and one copy serves them all (issue 18, compile
/// time).
pub(crate) fn validate_root(value: &dyn Validate) -> Result<(), ValidationErrors> {
    let out = violations_of(value);
    if out.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors { violations: out })
    }
}

/// Every violation of `value` at the root (none: valid). Non-generic for the
/// same reason as [`validate_root`].
pub(crate) fn violations_of(value: &dyn Validate) -> Vec<Violation> {
    let mut out = Vec::new();
    value.validate_into("", &mut out);
    out
}

/// `path.field`, or `field` at the root.
pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// `field[i]`.
pub(crate) fn index(field: &str, i: usize) -> String {
    format!("{field}[{i}]")
}

fn push(out: &mut Vec<Violation>, path: &str, field: &str, rule: &'static str, message: String) {
    out.push(Violation {
        field: join(path, field),
        rule,
        message,
    });
}

/// `minimum` / `exclusiveMinimum`.
pub(crate) fn check_minimum(
    out: &mut Vec<Violation>,
    path: &str,
    field: &str,
    value: f64,
    min: f64,
    exclusive: bool,
) {
    let ok = if exclusive { value > min } else { value >= min };
    if !ok {
        let rel = if exclusive {
            "greater than"
        } else {
            "at least"
        };
        push(
            out,
            path,
            field,
            "minimum",
            format!("must be {rel} {min}, got {value}"),
        );
    }
}

/// `maximum` / `exclusiveMaximum`.
pub(crate) fn check_maximum(
    out: &mut Vec<Violation>,
    path: &str,
    field: &str,
    value: f64,
    max: f64,
    exclusive: bool,
) {
    let ok = if exclusive { value < max } else { value <= max };
    if !ok {
        let rel = if exclusive { "less than" } else { "at most" };
        push(
            out,
            path,
            field,
            "maximum",
            format!("must be {rel} {max}, got {value}"),
        );
    }
}

/// `minLength`, counted in characters as JSON Schema does.
pub(crate) fn check_min_length(
    out: &mut Vec<Violation>,
    path: &str,
    field: &str,
    value: &str,
    min: u64,
) {
    let len = value.chars().count() as u64;
    if len < min {
        push(
            out,
            path,
            field,
            "min_length",
            format!("must have at least {min} character(s), got {len}"),
        );
    }
}

/// `maxLength`, counted in characters.
pub(crate) fn check_max_length(
    out: &mut Vec<Violation>,
    path: &str,
    field: &str,
    value: &str,
    max: u64,
) {
    let len = value.chars().count() as u64;
    if len > max {
        push(
            out,
            path,
            field,
            "max_length",
            format!("must have at most {max} character(s), got {len}"),
        );
    }
}

/// `minItems`.
pub(crate) fn check_min_items(
    out: &mut Vec<Violation>,
    path: &str,
    field: &str,
    len: usize,
    min: u64,
) {
    if (len as u64) < min {
        push(
            out,
            path,
            field,
            "min_items",
            format!("must have at least {min} item(s), got {len}"),
        );
    }
}

/// `maxItems`.
pub(crate) fn check_max_items(
    out: &mut Vec<Violation>,
    path: &str,
    field: &str,
    len: usize,
    max: u64,
) {
    if len as u64 > max {
        push(
            out,
            path,
            field,
            "max_items",
            format!("must have at most {max} item(s), got {len}"),
        );
    }
}

/// `pattern` (unanchored, as JSON Schema specifies).
pub(crate) fn check_pattern(
    out: &mut Vec<Violation>,
    path: &str,
    field: &str,
    value: &str,
    pattern: &str,
) {
    match regex::Regex::new(pattern) {
        Ok(re) if re.is_match(value) => {}
        Ok(_) => push(
            out,
            path,
            field,
            "pattern",
            format!("must match the pattern `{pattern}`, got {value:?}"),
        ),
        // A pattern the regex crate cannot compile is the spec's problem, not the caller's.
        Err(_) => {}
    }
}

/// `format: uri`: an absolute URI with a scheme.
pub(crate) fn check_uri(out: &mut Vec<Violation>, path: &str, field: &str, value: &str) {
    if url::Url::parse(value).is_err() {
        push(
            out,
            path,
            field,
            "uri",
            format!("must be an absolute URI such as https://example.com/input.png, got {value:?}"),
        );
    }
}

/// A media input: a URL must be absolute; a local file is checked when the
/// request is encoded (it must exist, be a regular file and fit the upload cap).
pub(crate) fn check_media(out: &mut Vec<Violation>, path: &str, field: &str, value: &crate::Media) {
    if let Some(url) = value.as_url() {
        check_uri(out, path, field, url);
    }
}

/// Whether two JSON literals are the same value (numbers compared numerically).
#[allow(dead_code)] // Used by generated enums of mixed literals (none in today's specs).
pub(crate) fn same_literal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A value that is not one of an enum's allowed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// The value given.
    pub value: String,
    /// The values allowed.
    pub allowed: Vec<String>,
}

impl UnknownValue {
    /// Builds the error from the value given and the allowed ones.
    pub fn new<S: ToString>(value: &str, allowed: impl Iterator<Item = S>) -> Self {
        UnknownValue {
            value: value.to_string(),
            allowed: allowed.map(|s| s.to_string()).collect(),
        }
    }
}

impl UnknownValue {
    /// The same from a list of wire texts. Not generic, so the ~140 generated
    /// enums share one copy instead of an iterator chain each.
    pub fn of_wire(value: &str, allowed: &[&str]) -> Self {
        UnknownValue {
            value: value.to_string(),
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown value {:?}; allowed: {}",
            self.value,
            self.allowed.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}
