//! The change report: each kind of spec edit, applied to a fixture, is
//! reported as exactly that change with the right breaking/additive mark.

mod common;

use serde_json::{json, Value};
use skills_video_codegen::diff::{diff, Impact, Report};
use skills_video_codegen::ir::Ir;

fn read(name: &str, file: &str) -> Value {
    let text = std::fs::read_to_string(common::fixture_dir(name).join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ir_of(openapi: Value, docs: Value) -> Ir {
    let specs = skills_video_codegen::load::from_values(openapi, docs, "fixture".as_ref()).unwrap();
    skills_video_codegen::ir_from_specs(&specs).unwrap()
}

/// The report of one edit of the `constructs` (or `workflows`) fixture.
fn report_of(fixture: &str, edit: impl FnOnce(&mut Value, &mut Value)) -> Report {
    let (openapi, docs) = (read(fixture, "openapi.json"), read(fixture, "docs.json"));
    let old = ir_of(openapi.clone(), docs.clone());
    let (mut new_openapi, mut new_docs) = (openapi, docs);
    edit(&mut new_openapi, &mut new_docs);
    diff(&old, &ir_of(new_openapi, new_docs))
}

/// The one change of a report, as (field, what, impact).
fn only(report: &Report) -> (Option<&str>, &str, Impact) {
    assert_eq!(report.changes.len(), 1, "{}", report.to_text());
    let c = &report.changes[0];
    (c.field.as_deref(), c.what.as_str(), c.impact)
}

fn props(openapi: &mut Value) -> &mut Value {
    &mut openapi["components"]["schemas"]["AcmeConstructsRequest"]["properties"]
}

#[test]
fn no_edit_no_change() {
    let report = report_of("constructs", |_, _| {});
    assert!(report.is_empty());
    assert_eq!(report.semver(), "none");
}

#[test]
fn an_enum_value_removed_is_breaking_and_one_added_is_additive() {
    let removed = report_of("constructs", |o, _| {
        props(o)["resolution"]["enum"].as_array_mut().unwrap().pop();
    });
    assert_eq!(
        only(&removed),
        (Some("resolution"), "value \"2K\" removed", Impact::Breaking)
    );
    assert!(removed.semver().starts_with("major"));
    let added = report_of("constructs", |o, _| {
        props(o)["resolution"]["enum"]
            .as_array_mut()
            .unwrap()
            .push(json!("4K"));
    });
    assert_eq!(
        only(&added),
        (Some("resolution"), "value \"4K\" added", Impact::Additive)
    );
    assert_eq!(added.semver(), "minor");
}

#[test]
fn fields_added_removed_and_retyped() {
    let optional = report_of("constructs", |o, _| {
        props(o)["fps"] = json!({"type": "integer", "description": "Frames per second."});
    });
    assert_eq!(
        only(&optional),
        (Some("fps"), "optional field added", Impact::Additive)
    );
    let required = report_of("constructs", |o, _| {
        props(o)["fps"] = json!({"type": "integer", "description": "Frames per second."});
        o["components"]["schemas"]["AcmeConstructsRequest"]["required"]
            .as_array_mut()
            .unwrap()
            .push(json!("fps"));
    });
    assert_eq!(
        only(&required),
        (Some("fps"), "required field added", Impact::Breaking)
    );
    let removed = report_of("constructs", |o, _| {
        props(o)
            .as_object_mut()
            .unwrap()
            .shift_remove("enable_safety");
    });
    assert_eq!(
        only(&removed),
        (Some("enable_safety"), "field removed", Impact::Breaking)
    );
    let retyped = report_of("constructs", |o, _| {
        props(o)["enable_safety"] = json!({"type": "string", "description": "Now a word."});
    });
    assert_eq!(
        only(&retyped),
        (
            Some("enable_safety"),
            "retyped: boolean → string",
            Impact::Breaking
        )
    );
}

#[test]
fn required_ness_and_ranges() {
    let optional = report_of("constructs", |o, _| {
        o["components"]["schemas"]["AcmeConstructsRequest"]["required"] = json!(["prompt"]);
    });
    assert_eq!(
        only(&optional),
        (Some("duration"), "now optional", Impact::Breaking)
    );
    let tighter = report_of("constructs", |o, _| {
        props(o)["strength"]["maximum"] = json!(0.5)
    });
    assert_eq!(
        only(&tighter),
        (Some("strength"), "maximum 1 → 0.5", Impact::Breaking)
    );
    let looser = report_of("constructs", |o, _| {
        props(o)["guidance"]["maximum"] = json!(30)
    });
    assert_eq!(
        only(&looser),
        (Some("guidance"), "maximum 20 → 30", Impact::Additive)
    );
}

/// Removes a page from docs.json wherever it is listed.
fn drop_page(v: &mut Value, page: &str) {
    match v {
        Value::Array(items) => {
            items.retain(|i| i.as_str() != Some(page));
            items.iter_mut().for_each(|i| drop_page(i, page));
        }
        Value::Object(map) => map.values_mut().for_each(|i| drop_page(i, page)),
        _ => {}
    }
}

#[test]
fn models_added_and_removed() {
    let (openapi, docs) = (
        read("constructs", "openapi.json"),
        read("constructs", "docs.json"),
    );
    let mut fewer = docs.clone();
    drop_page(&mut fewer, "POST /generation/acme/shapes");
    let (all, less) = (ir_of(openapi.clone(), docs), ir_of(openapi, fewer));
    let removed = diff(&all, &less);
    assert_eq!(only(&removed), (None, "model removed", Impact::Breaking));
    assert_eq!(removed.changes[0].model, "acme/shapes");
    let added = diff(&less, &all);
    assert_eq!(only(&added), (None, "model added", Impact::Additive));
}

#[test]
fn workflows_added_and_their_fields() {
    let dropped = report_of("workflows", |o, _| {
        let clip = &mut o["components"]["schemas"]["ClipRequest"];
        clip["oneOf"].as_array_mut().unwrap().pop();
        clip["discriminator"]["mapping"]
            .as_object_mut()
            .unwrap()
            .shift_remove("extend-video");
    });
    assert_eq!(
        only(&dropped),
        (Some("extend-video"), "workflow removed", Impact::Breaking)
    );
    let field = report_of("workflows", |o, _| {
        o["components"]["schemas"]["ClipTextToVideoRequest"]["properties"]["duration"]["minimum"] =
            json!(5);
    });
    assert_eq!(
        only(&field),
        (
            Some("text-to-video.duration"),
            "minimum 3 → 5",
            Impact::Breaking
        )
    );
}

#[test]
fn the_markdown_has_a_row_per_change() {
    let report = report_of("constructs", |o, _| {
        props(o)["resolution"]["enum"].as_array_mut().unwrap().pop();
        props(o)["fps"] = json!({"type": "integer", "description": "Frames per second."});
    });
    let md = report.to_markdown();
    assert!(
        md.contains("| breaking | `acme/constructs` | `resolution` | value \"2K\" removed |"),
        "{md}"
    );
    assert!(
        md.contains("| additive | `acme/constructs` | `fps` | optional field added |"),
        "{md}"
    );
}
