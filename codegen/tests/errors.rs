//! Bad specs: each case yields a specific error variant whose message names
//! the JSON pointer (or line and column), and no input makes the generator panic.

mod common;

use std::path::Path;

use serde_json::{json, Value};
use skills_video_codegen::{generate_from_specs, load, CodegenError, Files};

/// A platform spec with one model `acme/m` per given request schema component.
fn spec(models: &[&str], schemas: Value) -> Value {
    let mut paths = serde_json::Map::new();
    for id in models {
        let name = id.replace(['/', '-', '.'], "_");
        paths.insert(
            format!("/generation/{id}"),
            json!({"post": {
                "operationId": format!("create_{name}"),
                "requestBody": {"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}},
                "responses": {"200": {"description": "ok"}}
            }}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

fn docs(models: &[&str]) -> Value {
    let pages: Vec<String> = models
        .iter()
        .map(|id| format!("POST /generation/{id}"))
        .collect();
    json!({"navigation": {"groups": [{"group": "Images", "pages": pages}]}})
}

/// A one-model spec whose request body is `request`.
fn one_model(request: Value) -> (Value, Value) {
    (
        spec(&["acme/m"], json!({"acme_m": request})),
        docs(&["acme/m"]),
    )
}

fn run(openapi: Value, docs: Value) -> Result<Files, CodegenError> {
    let specs = load::from_values(openapi, docs, Path::new("openapi.json"))?;
    generate_from_specs(&specs).map(|(files, _)| files)
}

fn error(openapi: Value, docs: Value) -> CodegenError {
    match run(openapi, docs) {
        Ok(files) => panic!("expected an error, got {} files", files.len()),
        Err(e) => e,
    }
}

fn assert_names(e: &CodegenError, needles: &[&str]) {
    let message = e.to_string();
    for needle in needles {
        assert!(
            message.contains(needle),
            "`{message}` should contain `{needle}`"
        );
    }
}

#[test]
fn the_helper_spec_itself_generates() {
    let (openapi, docs) =
        one_model(json!({"type": "object", "properties": {"p": {"type": "string"}}}));
    let files = run(openapi, docs).expect("a valid spec generates");
    assert!(files.contains_key("models/acme_m.rs"));
}

#[test]
fn missing_ref_target() {
    let (openapi, docs) = one_model(json!({
        "type": "object",
        "properties": {"bar": {"$ref": "#/components/schemas/Nowhere"}}
    }));
    let e = error(openapi, docs);
    assert!(
        matches!(&e, CodegenError::MissingRef { pointer, reference }
            if pointer == "#/components/schemas/acme_m/properties/bar"
            && reference == "#/components/schemas/Nowhere"),
        "{e:?}"
    );
    assert_names(
        &e,
        &[
            "#/components/schemas/acme_m/properties/bar",
            "#/components/schemas/Nowhere",
        ],
    );
}

#[test]
fn missing_request_body_ref_target() {
    let openapi = spec(&["acme/m"], json!({}));
    let e = error(openapi, docs(&["acme/m"]));
    assert!(matches!(&e, CodegenError::MissingRef { .. }), "{e:?}");
    assert_names(
        &e,
        &["#/paths/~1generation~1acme~1m/post/requestBody/content/application~1json/schema"],
    );
}

#[test]
fn docs_page_without_an_operation() {
    let (openapi, _) = one_model(json!({"type": "object", "properties": {}}));
    let docs = json!({"navigation": {"groups": [
        {"group": "Images", "pages": ["POST /generation/acme/m", "POST /generation/acme/ghost"]}
    ]}});
    let e = error(openapi, docs);
    assert!(
        matches!(&e, CodegenError::MissingOperation { pointer, page }
            if pointer == "#/navigation/groups/0/pages/1" && page == "POST /generation/acme/ghost"),
        "{e:?}"
    );
    assert_names(
        &e,
        &["#/navigation/groups/0/pages/1", "/generation/acme/ghost"],
    );
}

#[test]
fn unsupported_not() {
    let (openapi, docs) = one_model(json!({
        "type": "object",
        "properties": {"bar": {"not": {"type": "string"}}}
    }));
    let e = error(openapi, docs);
    assert!(matches!(&e, CodegenError::Unsupported { .. }), "{e:?}");
    assert_names(
        &e,
        &["#/components/schemas/acme_m/properties/bar/not", "`not`"],
    );
}

#[test]
fn unsupported_multi_member_all_of() {
    let (openapi, docs) = one_model(json!({
        "type": "object",
        "properties": {"bar": {"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"b": {"type": "string"}}}
        ]}}
    }));
    let e = error(openapi, docs);
    assert!(matches!(&e, CodegenError::Unsupported { .. }), "{e:?}");
    assert_names(
        &e,
        &[
            "#/components/schemas/acme_m/properties/bar/allOf",
            "allOf with 2 members",
        ],
    );
}

#[test]
fn model_names_collide() {
    let ids = ["a-b/c", "a/b-c"];
    let schemas = json!({
        "a_b_c": {"type": "object", "properties": {"p": {"type": "string"}}}
    });
    // Both ids map to the same component name in the helper; that is fine here.
    let e = error(spec(&ids, schemas), docs(&ids));
    assert!(
        matches!(&e, CodegenError::NameCollision { name, first, second }
            if name == "a_b_c"
            && first == "#/navigation/groups/0/pages/0"
            && second == "#/navigation/groups/0/pages/1"),
        "{e:?}"
    );
    assert_names(
        &e,
        &[
            "a_b_c",
            "#/navigation/groups/0/pages/0",
            "#/navigation/groups/0/pages/1",
        ],
    );
}

#[test]
fn request_struct_names_collide_across_modules() {
    // `x-1` and `x1` are distinct modules (`a_x_1`, `a_x1`) but the same
    // request struct name (`AX1Request`), re-exported side by side.
    let ids = ["a/x-1", "a/x1"];
    let schemas = json!({
        "a_x_1": {"type": "object", "properties": {"p": {"type": "string"}}},
        "a_x1": {"type": "object", "properties": {"p": {"type": "string"}}}
    });
    let e = error(spec(&ids, schemas), docs(&ids));
    assert!(
        matches!(&e, CodegenError::NameCollision { name, .. } if name == "AX1Request"),
        "{e:?}"
    );
    assert_names(
        &e,
        &[
            "AX1Request",
            "#/navigation/groups/0/pages/0",
            "#/navigation/groups/0/pages/1",
        ],
    );
}

#[test]
fn property_names_collide() {
    let (openapi, docs) = one_model(json!({
        "type": "object",
        "properties": {"foo-bar": {"type": "string"}, "foo_bar": {"type": "string"}}
    }));
    let e = error(openapi, docs);
    assert!(
        matches!(&e, CodegenError::NameCollision { name, first, second }
            if name == "foo_bar"
            && first == "#/components/schemas/acme_m/properties/foo-bar"
            && second == "#/components/schemas/acme_m/properties/foo_bar"),
        "{e:?}"
    );
    assert_names(
        &e,
        &[
            "#/components/schemas/acme_m/properties/foo-bar",
            "#/components/schemas/acme_m/properties/foo_bar",
        ],
    );
}

#[test]
fn component_names_collide() {
    let openapi = spec(
        &["acme/m"],
        json!({
            "acme_m": {"type": "object", "properties": {
                "a": {"$ref": "#/components/schemas/Foo_Bar"},
                "b": {"$ref": "#/components/schemas/FooBar"}
            }},
            "FooBar": {"type": "object", "properties": {"x": {"type": "string"}}},
            "Foo_Bar": {"type": "object", "properties": {"y": {"type": "string"}}}
        }),
    );
    let e = error(openapi, docs(&["acme/m"]));
    assert!(
        matches!(&e, CodegenError::NameCollision { name, .. } if name == "FooBar"),
        "{e:?}"
    );
    assert_names(
        &e,
        &[
            "#/components/schemas/FooBar",
            "#/components/schemas/Foo_Bar",
        ],
    );
}

#[test]
fn inline_type_names_collide() {
    // Property `x-1` and `x1` both want the local enum name `X1`.
    let (openapi, docs) = one_model(json!({
        "type": "object",
        "properties": {
            "x-1": {"type": "string", "enum": ["a"]},
            "x1": {"type": "string", "enum": ["b"]}
        }
    }));
    let e = error(openapi, docs);
    assert!(
        matches!(&e, CodegenError::NameCollision { name, .. } if name == "X1"),
        "{e:?}"
    );
    assert_names(
        &e,
        &[
            "#/components/schemas/acme_m/properties/x-1",
            "#/components/schemas/acme_m/properties/x1",
        ],
    );
}

#[test]
fn invalid_json_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let openapi = dir.path().join("openapi.json");
    let docs = dir.path().join("docs.json");
    std::fs::write(
        &openapi,
        "{\n  \"openapi\": \"3.0.3\",\n  \"info\": oops\n}\n",
    )
    .unwrap();
    std::fs::write(&docs, "{}").unwrap();
    let e = skills_video_codegen::generate(&openapi, &docs).unwrap_err();
    assert!(
        matches!(&e, CodegenError::Parse { path, .. } if path == &openapi),
        "{e:?}"
    );
    assert_names(&e, &["openapi.json", "line 3, column"]);
}

#[test]
fn invalid_docs_json_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let openapi = common::fixture_dir("constructs").join("openapi.json");
    let docs = dir.path().join("docs.json");
    std::fs::write(&docs, "{\"navigation\": [1, 2,]}").unwrap();
    let e = skills_video_codegen::generate(&openapi, &docs).unwrap_err();
    assert!(
        matches!(&e, CodegenError::Parse { path, .. } if path == &docs),
        "{e:?}"
    );
    assert_names(&e, &["docs.json", "line 1, column"]);
}

#[test]
fn missing_file_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let e = skills_video_codegen::generate(&missing, &missing).unwrap_err();
    assert!(matches!(&e, CodegenError::Read { .. }), "{e:?}");
    assert_names(&e, &["nope.json"]);
}

#[test]
fn request_body_that_is_not_an_object() {
    let (openapi, docs) = one_model(json!({"type": "array", "items": {"type": "string"}}));
    let e = error(openapi, docs);
    assert!(
        matches!(&e, CodegenError::Unsupported { pointer, .. }
            if pointer == "#/components/schemas/acme_m"),
        "{e:?}"
    );
    assert_names(&e, &["#/components/schemas/acme_m", "not an object"]);
}

#[test]
fn operation_without_request_body() {
    let openapi = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/generation/acme/m": {"post": {"responses": {"200": {"description": "ok"}}}}}
    });
    let e = error(openapi, docs(&["acme/m"]));
    assert!(matches!(&e, CodegenError::InvalidOperation { .. }), "{e:?}");
    assert_names(&e, &["#/paths/~1generation~1acme~1m/post", "requestBody"]);
}

#[test]
fn wrong_schema_type_names_the_place() {
    let (openapi, docs) = one_model(json!({
        "type": "object",
        "properties": {"bar": {"type": "string", "maxLength": "long"}}
    }));
    let e = error(openapi, docs);
    assert!(matches!(&e, CodegenError::Parse { .. }), "{e:?}");
    assert_names(&e, &["openapi.json"]);
}

/// Documents that are malformed in assorted ways: each is an `Err`, never a panic.
#[test]
fn malformed_documents_are_errors_not_panics() {
    let good_docs = docs(&["acme/m"]);
    let cases: Vec<(&str, Value, Value)> = vec![
        ("empty object", json!({}), json!({})),
        ("not an object", json!([1, 2, 3]), good_docs.clone()),
        ("null", Value::Null, good_docs.clone()),
        (
            "paths not an object",
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": []}),
            good_docs.clone(),
        ),
        (
            "paths a string",
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": "x"}),
            good_docs.clone(),
        ),
        (
            "schema type is a number",
            spec(&["acme/m"], json!({"acme_m": {"type": 7}})),
            good_docs.clone(),
        ),
        (
            "properties is a list",
            spec(
                &["acme/m"],
                json!({"acme_m": {"type": "object", "properties": ["a"]}}),
            ),
            good_docs.clone(),
        ),
        (
            "required is a string",
            spec(
                &["acme/m"],
                json!({"acme_m": {"type": "object", "required": "p", "properties": {"p": {"type": "string"}}}}),
            ),
            good_docs.clone(),
        ),
        (
            "enum is an object",
            spec(
                &["acme/m"],
                json!({"acme_m": {"type": "object", "properties": {"p": {"type": "string", "enum": {"a": 1}}}}}),
            ),
            good_docs.clone(),
        ),
        (
            "items is a string",
            spec(
                &["acme/m"],
                json!({"acme_m": {"type": "object", "properties": {"p": {"type": "array", "items": "x"}}}}),
            ),
            good_docs.clone(),
        ),
        (
            "components is a list",
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}, "components": []}),
            good_docs.clone(),
        ),
        (
            "self-referencing $ref",
            spec(
                &["acme/m"],
                json!({"acme_m": {"$ref": "#/components/schemas/acme_m"}}),
            ),
            good_docs.clone(),
        ),
        (
            "$ref outside components",
            spec(
                &["acme/m"],
                json!({"acme_m": {"type": "object", "properties": {"p": {"$ref": "#/paths/x"}}}}),
            ),
            good_docs.clone(),
        ),
        (
            "empty enum",
            spec(
                &["acme/m"],
                json!({"acme_m": {"type": "object", "properties": {"p": {"anyOf": []}, "q": {"not": {}}}}}),
            ),
            good_docs.clone(),
        ),
        (
            "docs page is a number",
            spec(
                &["acme/m"],
                json!({"acme_m": {"type": "object", "properties": {}}}),
            ),
            json!({"navigation": {"groups": [{"group": "Images", "pages": [1, null, {"group": 5}]}, {"group": "Videos", "pages": ["POST /generation/acme/none"]}]}}),
        ),
    ];
    for (what, openapi, docs) in cases {
        let outcome = std::panic::catch_unwind(|| run(openapi, docs));
        match outcome {
            Ok(Err(_)) => {}
            Ok(Ok(_)) => panic!("{what}: expected an error, the spec generated"),
            Err(_) => panic!("{what}: the generator panicked"),
        }
    }
}

/// Every node of every fixture replaced, one at a time, by values of the wrong
/// type: the generator returns (`Ok` or `Err`) and never panics.
#[test]
fn mutated_fixtures_never_panic() {
    fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    out.push(p.clone());
                    pointers(v, p, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let p = format!("{at}/{i}");
                    out.push(p.clone());
                    pointers(v, p, out);
                }
            }
            _ => {}
        }
    }
    let replacements = [json!(null), json!(-1), json!("x"), json!([]), json!({})];
    let mut runs = 0;
    for name in &common::fixtures() {
        let dir = common::fixture_dir(name);
        let read = |f: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
        };
        let (openapi, docs) = (read("openapi.json"), read("docs.json"));
        for (which, doc) in [("openapi", &openapi), ("docs", &docs)] {
            let mut all = Vec::new();
            pointers(doc, String::new(), &mut all);
            for (i, pointer) in all.iter().enumerate() {
                // One wrong kind per node, cycling, keeps the run short in debug builds.
                let replacement = &replacements[i % replacements.len()];
                let (mut o, mut d) = (openapi.clone(), docs.clone());
                let target = if which == "openapi" { &mut o } else { &mut d };
                *target.pointer_mut(pointer).unwrap() = replacement.clone();
                let outcome = std::panic::catch_unwind(|| run(o, d));
                assert!(
                    outcome.is_ok(),
                    "{name}/{which}.json with {pointer} = {replacement}: the generator panicked"
                );
                runs += 1;
            }
        }
    }
    assert!(runs > 500, "only {runs} mutations ran");
}

#[test]
fn extreme_integers_do_not_panic() {
    let (openapi, docs) = one_model(json!({
        "type": "object",
        "properties": {
            "level": {"type": "integer", "enum": [-9223372036854775808i64, 9223372036854775807i64]},
            "n": {"type": "integer", "minimum": -9223372036854775808i64, "maximum": 9223372036854775807i64}
        }
    }));
    let outcome = std::panic::catch_unwind(|| run(openapi, docs));
    let files = outcome
        .expect("the generator does not panic")
        .expect("extreme integers generate");
    let model = &files["models/acme_m.rs"];
    assert!(model.contains("-9223372036854775808"), "{model}");
}
