//! `cargo xtask update-specs`: new specs from a local server (or a directory)
//! are checked, written, regenerated and reported; specs that fail a check
//! change nothing.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;

use serde_json::{json, Value};

/// Serves `files` by path on 127.0.0.1 (404 otherwise) until the test ends.
fn serve(files: Vec<(&'static str, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => ("200 OK", body.clone()),
                None => ("404 Not Found", b"not here".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The copy's specs with one field added (additive) and one allowed value
/// taken away (breaking) on `black-forest-labs/kontext`.
fn edited_specs(copy: &Path) -> (Value, Value) {
    let mut openapi = read_json(&copy.join("specs/openapi.json"));
    let request = &mut openapi["components"]["schemas"]["BlackForestLabsKontextRequest"];
    request["properties"]["guidance"] = json!({
        "type": "number", "minimum": 1, "maximum": 10, "description": "Guidance scale."
    });
    let values = request["properties"]["aspect_ratio"]["enum"]
        .as_array_mut()
        .expect("kontext's aspect_ratio has allowed values");
    values.retain(|v| v != "4:3");
    let docs = read_json(&copy.join("specs/docs.json"));
    (openapi, docs)
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn new_specs_from_a_server_are_written_regenerated_and_reported() {
    let copy = common::checkout();
    let (openapi, docs) = edited_specs(copy.path());
    let base = serve(vec![
        ("/openapi.json", bytes(&openapi)),
        ("/docs.json", bytes(&docs)),
    ]);
    let report = copy.path().join("CHANGES.md");
    let (ok, text) = common::xtask(
        copy.path(),
        &[
            "update-specs",
            "--from",
            &base,
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("[additive] black-forest-labs/kontext guidance"),
        "{text}"
    );
    assert!(
        text.contains("[breaking] black-forest-labs/kontext aspect_ratio"),
        "{text}"
    );
    assert!(text.contains("semver: major"), "{text}");
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .contains("guidance"));

    // The specs are the served ones; the generated code follows them and is current.
    assert_eq!(read_json(&copy.path().join("specs/openapi.json")), openapi);
    assert_eq!(read_json(&copy.path().join("specs/docs.json")), docs);
    let model = std::fs::read_to_string(
        copy.path()
            .join("sdk/src/generated/models/black_forest_labs_kontext.rs"),
    )
    .unwrap();
    assert!(model.contains("pub guidance: ::std::option::Option<f64>"));
    assert!(!model.contains("\"4:3\""));
    let (ok, text) = common::xtask(copy.path(), &["codegen", "--check"]);
    assert!(ok, "{text}");
}

#[test]
fn specs_that_fail_a_check_change_nothing() {
    let copy = common::checkout();
    let before_openapi = std::fs::read(copy.path().join("specs/openapi.json")).unwrap();
    let before_model = std::fs::read(
        copy.path()
            .join("sdk/src/generated/models/black_forest_labs_kontext.rs"),
    )
    .unwrap();
    let (mut openapi, docs) = edited_specs(copy.path());
    // A model route without a request body fails the generator's checks.
    openapi["paths"]["/generation/black-forest-labs/kontext"]["post"]
        .as_object_mut()
        .unwrap()
        .remove("requestBody");
    let base = serve(vec![
        ("/openapi.json", bytes(&openapi)),
        ("/docs.json", bytes(&docs)),
        ("/broken/openapi.json", b"{ not json".to_vec()),
        ("/broken/docs.json", bytes(&docs)),
    ]);
    let (ok, text) = common::xtask(copy.path(), &["update-specs", "--from", &base]);
    assert!(!ok, "{text}");
    assert!(text.contains("specs/ is unchanged"), "{text}");
    assert!(text.contains("requestBody"), "{text}");

    let (ok, text) = common::xtask(
        copy.path(),
        &["update-specs", "--from", &format!("{base}/broken")],
    );
    assert!(!ok && text.contains("openapi.json is not JSON"), "{text}");
    let (ok, text) = common::xtask(
        copy.path(),
        &["update-specs", "--from", &format!("{base}/missing")],
    );
    assert!(!ok && text.contains("404"), "{text}");

    assert_eq!(
        std::fs::read(copy.path().join("specs/openapi.json")).unwrap(),
        before_openapi
    );
    assert_eq!(
        std::fs::read(
            copy.path()
                .join("sdk/src/generated/models/black_forest_labs_kontext.rs")
        )
        .unwrap(),
        before_model
    );
    let leftovers: Vec<_> = std::fs::read_dir(copy.path().join("specs"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn new_specs_can_come_from_a_directory() {
    let copy = common::checkout();
    let (openapi, docs) = edited_specs(copy.path());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openapi.json"), bytes(&openapi)).unwrap();
    std::fs::write(dir.path().join("docs.json"), bytes(&docs)).unwrap();
    let (ok, text) = common::xtask(
        copy.path(),
        &["update-specs", "--from", dir.path().to_str().unwrap()],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("black-forest-labs/kontext guidance"),
        "{text}"
    );
    assert_eq!(read_json(&copy.path().join("specs/openapi.json")), openapi);
}
