//! The change report: what a spec change does to the generated API, model by
//! model and field by field, each change marked breaking or additive, with
//! the semver bump it implies. `cargo xtask codegen` prints it against the
//! IR of the committed specs, so a spec refresh never rewrites files silently.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::ir::{Constraint, Field, Ir, ModelIr, TypeDef, TypeKind, TypeRef};

/// Whether a change can break a caller's code or a request that worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Nothing that compiled or validated before stops doing so.
    Additive,
    /// Code that compiled, or a request that validated, may no longer.
    Breaking,
}

impl Impact {
    fn as_str(self) -> &'static str {
        match self {
            Impact::Additive => "additive",
            Impact::Breaking => "breaking",
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The model id (`provider/model`).
    pub model: String,
    /// The field's path (`seed`, or `text-to-video.duration` in a workflow), if any.
    pub field: Option<String>,
    /// What changed, in words.
    pub what: String,
    /// Breaking or additive.
    pub impact: Impact,
}

/// Every change between two IRs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The changes, by model, then field.
    pub changes: Vec<Change>,
}

impl Report {
    /// No change at all.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.impact == Impact::Breaking)
    }

    /// The version bump the changes imply (`major`, `minor` or `none`); while
    /// the crate is 0.x a breaking change bumps the minor version.
    pub fn semver(&self) -> &'static str {
        if self.is_breaking() {
            "major (minor while 0.x)"
        } else if self.is_empty() {
            "none"
        } else {
            "minor"
        }
    }

    /// The report as plain text, a line per change.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let breaking = self
            .changes
            .iter()
            .filter(|c| c.impact == Impact::Breaking)
            .count();
        let _ = writeln!(
            out,
            "spec changes: {} ({} breaking, {} additive); semver: {}",
            self.changes.len(),
            breaking,
            self.changes.len() - breaking,
            self.semver()
        );
        for c in &self.changes {
            let at = match &c.field {
                Some(f) => format!("{} {}", c.model, f),
                None => c.model.clone(),
            };
            let _ = writeln!(out, "  [{}] {at}: {}", c.impact.as_str(), c.what);
        }
        out
    }

    /// The report as Markdown, for a changelog.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "## Spec changes\n\nSemver: **{}**.\n\n| impact | model | field | change |\n|---|---|---|---|\n",
            self.semver()
        );
        for c in &self.changes {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                c.impact.as_str(),
                c.model,
                c.field
                    .as_deref()
                    .map(|f| format!("`{f}`"))
                    .unwrap_or_default(),
                c.what.replace('|', "\\|")
            );
        }
        out
    }
}

/// The fields of a model, keyed by path: a plain request's fields by name,
/// a tagged request's as `workflow.field`, plus one entry per workflow.
fn fields_of(model: &ModelIr) -> BTreeMap<String, &Field> {
    fn add<'m>(out: &mut BTreeMap<String, &'m Field>, prefix: &str, def: &'m TypeDef) {
        if let TypeKind::Struct { fields, .. } = &def.kind {
            for f in fields {
                out.insert(format!("{prefix}{}", f.wire), f);
            }
        }
    }
    let mut out = BTreeMap::new();
    match &model.request.kind {
        TypeKind::Tagged { variants, .. } => {
            for v in variants {
                if let Some(def) = model.local_types.iter().find(|t| t.name == v.ty) {
                    add(&mut out, &format!("{}.", v.wire), def);
                }
            }
        }
        _ => add(&mut out, "", &model.request),
    }
    out
}

fn workflows_of(model: &ModelIr) -> Vec<String> {
    match &model.request.kind {
        TypeKind::Tagged { variants, .. } => variants.iter().map(|v| v.wire.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The wire type of a field as a reader would name it.
fn type_text(ty: &TypeRef) -> String {
    match ty {
        TypeRef::String => "string".into(),
        TypeRef::Media => "media (URL or file)".into(),
        TypeRef::Integer => "integer".into(),
        TypeRef::Number => "number".into(),
        TypeRef::Boolean => "boolean".into(),
        TypeRef::Json => "any JSON".into(),
        TypeRef::Shared(n) | TypeRef::Local(n) => format!("object/enum {n}"),
        TypeRef::Vec(inner) => format!("list of {}", type_text(inner)),
        TypeRef::Map(inner) => format!("map of {}", type_text(inner)),
    }
}

/// The field's type, with a value enum reduced to its kind (its values are compared apart).
fn shape(f: &Field) -> String {
    match (&f.ty, f.allowed.first()) {
        (TypeRef::Local(_) | TypeRef::Shared(_), Some(v)) => match v {
            Value::String(_) => "string enum".into(),
            Value::Number(_) => "number enum".into(),
            _ => "enum".into(),
        },
        (ty, _) => type_text(ty),
    }
}

fn bound(cs: &[Constraint], min: bool) -> Option<f64> {
    cs.iter().find_map(|c| match (c, min) {
        (Constraint::Minimum { value, .. }, true) => Some(*value),
        (Constraint::Maximum { value, .. }, false) => Some(*value),
        _ => None,
    })
}

fn count(cs: &[Constraint], min: bool) -> Option<u64> {
    cs.iter().find_map(|c| match (c, min) {
        (Constraint::MinItems(n) | Constraint::MinLength(n), true) => Some(*n),
        (Constraint::MaxItems(n) | Constraint::MaxLength(n), false) => Some(*n),
        _ => None,
    })
}

/// A changed lower (`min`) or upper limit: tightening it (or adding one)
/// rejects requests that passed before, so it is breaking.
fn limit_change(
    name: &str,
    min: bool,
    old: Option<f64>,
    new: Option<f64>,
) -> Option<(String, Impact)> {
    if old == new {
        return None;
    }
    let tighter = match (old, new) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(b)) => (min && b > a) || (!min && b < a),
    };
    let impact = if tighter {
        Impact::Breaking
    } else {
        Impact::Additive
    };
    let show = |v: Option<f64>| v.map_or("none".to_string(), |v| v.to_string());
    Some((format!("{name} {} → {}", show(old), show(new)), impact))
}

/// Changes of one field present on both sides.
fn field_changes(model: &str, path: &str, old: &Field, new: &Field, out: &mut Vec<Change>) {
    let mut push = |what: String, impact: Impact| {
        out.push(Change {
            model: model.to_string(),
            field: Some(path.to_string()),
            what,
            impact,
        })
    };
    let (old_shape, new_shape) = (shape(old), shape(new));
    if old_shape != new_shape {
        push(
            format!("retyped: {old_shape} → {new_shape}"),
            Impact::Breaking,
        );
        return;
    }
    if old.required != new.required {
        let what = if new.required {
            "now required"
        } else {
            "now optional"
        };
        // Either way the constructor's arguments change.
        push(what.to_string(), Impact::Breaking);
    }
    if old.nullable != new.nullable {
        let what = if new.nullable {
            "now nullable"
        } else {
            "no longer nullable"
        };
        let impact = if new.nullable {
            Impact::Additive
        } else {
            Impact::Breaking
        };
        push(what.to_string(), impact);
    }
    for v in &old.allowed {
        if !new.allowed.contains(v) {
            push(format!("value {v} removed"), Impact::Breaking);
        }
    }
    for v in &new.allowed {
        if !old.allowed.contains(v) {
            push(format!("value {v} added"), Impact::Additive);
        }
    }
    for (min, name) in [(true, "minimum"), (false, "maximum")] {
        let (a, b) = (bound(&old.constraints, min), bound(&new.constraints, min));
        if let Some(change) = limit_change(name, min, a, b) {
            push(change.0, change.1);
        }
    }
    let all = |f: &Field| -> Vec<Constraint> {
        f.constraints
            .iter()
            .chain(&f.item_constraints)
            .cloned()
            .collect()
    };
    for (min, name) in [
        (true, "minimum length/items"),
        (false, "maximum length/items"),
    ] {
        let (a, b) = (count(&all(old), min), count(&all(new), min));
        if let Some(change) = limit_change(name, min, a.map(|n| n as f64), b.map(|n| n as f64)) {
            push(change.0, change.1);
        }
    }
    if old.default != new.default {
        let show = |v: &Option<Value>| v.as_ref().map_or("none".to_string(), Value::to_string);
        push(
            format!("default {} → {}", show(&old.default), show(&new.default)),
            Impact::Additive,
        );
    }
}

/// Compares two IRs: `old` from the committed specs, `new` from the edited ones.
pub fn diff(old: &Ir, new: &Ir) -> Report {
    let mut changes = Vec::new();
    let old_models: BTreeMap<&str, &ModelIr> =
        old.models.iter().map(|m| (m.id.as_str(), m)).collect();
    let new_models: BTreeMap<&str, &ModelIr> =
        new.models.iter().map(|m| (m.id.as_str(), m)).collect();
    for (id, _) in old_models
        .iter()
        .filter(|(id, _)| !new_models.contains_key(*id))
    {
        changes.push(Change {
            model: id.to_string(),
            field: None,
            what: "model removed".into(),
            impact: Impact::Breaking,
        });
    }
    for (id, _) in new_models
        .iter()
        .filter(|(id, _)| !old_models.contains_key(*id))
    {
        changes.push(Change {
            model: id.to_string(),
            field: None,
            what: "model added".into(),
            impact: Impact::Additive,
        });
    }
    for (id, old_model) in &old_models {
        let Some(new_model) = new_models.get(id) else {
            continue;
        };
        if old_model.category != new_model.category {
            changes.push(Change {
                model: id.to_string(),
                field: None,
                what: format!(
                    "moved from {:?} to {:?}",
                    old_model.category, new_model.category
                ),
                impact: Impact::Breaking,
            });
        }
        let (old_flows, new_flows) = (workflows_of(old_model), workflows_of(new_model));
        if old_flows.is_empty() != new_flows.is_empty() {
            changes.push(Change {
                model: id.to_string(),
                field: None,
                what: if new_flows.is_empty() {
                    "workflows replaced by one request".into()
                } else {
                    "request split into workflows".into()
                },
                impact: Impact::Breaking,
            });
            continue;
        }
        for w in old_flows.iter().filter(|w| !new_flows.contains(w)) {
            changes.push(Change {
                model: id.to_string(),
                field: Some(w.clone()),
                what: "workflow removed".into(),
                impact: Impact::Breaking,
            });
        }
        for w in new_flows.iter().filter(|w| !old_flows.contains(w)) {
            changes.push(Change {
                model: id.to_string(),
                field: Some(w.clone()),
                what: "workflow added".into(),
                impact: Impact::Additive,
            });
        }
        let (old_fields, new_fields) = (fields_of(old_model), fields_of(new_model));
        for (path, f) in &old_fields {
            if !new_fields.contains_key(path) && workflow_kept(path, &new_flows) {
                let _ = f;
                changes.push(Change {
                    model: id.to_string(),
                    field: Some(path.clone()),
                    what: "field removed".into(),
                    impact: Impact::Breaking,
                });
            }
        }
        for (path, f) in &new_fields {
            match old_fields.get(path) {
                None if workflow_kept(path, &old_flows) => changes.push(Change {
                    model: id.to_string(),
                    field: Some(path.clone()),
                    what: if f.required {
                        "required field added".into()
                    } else {
                        "optional field added".into()
                    },
                    impact: if f.required {
                        Impact::Breaking
                    } else {
                        Impact::Additive
                    },
                }),
                None => {}
                Some(old_field) => field_changes(id, path, old_field, f, &mut changes),
            }
        }
    }
    changes.sort_by(|a, b| (&a.model, &a.field).cmp(&(&b.model, &b.field)));
    Report { changes }
}

/// Whether a field path's workflow (if any) exists on the other side: the
/// fields of an added or removed workflow are reported as the workflow.
fn workflow_kept(path: &str, flows: &[String]) -> bool {
    match path.split_once('.') {
        Some((w, _)) if !flows.is_empty() => flows.iter().any(|f| f == w),
        _ => true,
    }
}
