//! Every model in the generated catalog (which follows docs.json) accepts a
//! request built by the seed's template rule, both in the SDK's typed
//! validation and in the simulator's schema validation, and runs to a
//! terminal result through the SDK.

use futures::StreamExt;
use serde_json::{Map, Value};
use skills_video::{Event, FieldInfo, FieldKind, GenerateOptions};
use skills_video_tests::matrix::{self, Setup};

/// Required fields only: the default, else the first allowed value, else the
/// example, else a value of the declared type.
fn template_value(field: &FieldInfo) -> Value {
    let parse = |text: &str| serde_json::from_str::<Value>(text).ok();
    field
        .default_json
        .and_then(parse)
        .or_else(|| field.allowed_values_json.first().and_then(|t| parse(t)))
        .or_else(|| field.example_json.and_then(parse))
        .unwrap_or_else(|| match field.kind {
            FieldKind::String if field.format == Some("uri") => {
                "https://example.com/input.png".into()
            }
            FieldKind::String => "a lighthouse at dusk".into(),
            FieldKind::Integer | FieldKind::Number => 1.into(),
            FieldKind::Boolean => false.into(),
            FieldKind::Array => Value::Array(Vec::new()),
            FieldKind::Object | FieldKind::Json => Value::Object(Map::new()),
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_model_runs_from_its_template() {
    let setup = Setup::default();
    let sim = matrix::simulator(&setup, vec![]).await;
    let client = matrix::client(&sim, &setup);
    let models = skills_video::catalog::MODELS;
    assert!(models.len() > 50, "the catalog lost models");
    let mut failures = Vec::new();
    for model in models {
        let body: Map<String, Value> = model
            .template_fields()
            .into_iter()
            .filter(|f| f.required)
            .map(|f| (f.name.to_string(), template_value(f)))
            .collect();
        let body = Value::Object(body);
        if let Err(e) = (model.check_json)(&body) {
            failures.push(format!(
                "{}: typed validation rejects its template {body}: {e}",
                model.id
            ));
            continue;
        }
        let events: Vec<_> = client
            .events_json(model, body.clone(), GenerateOptions::default())
            .collect()
            .await;
        match events.last() {
            Some(Ok(Event::Terminal(g))) if g.is_success() && !g.output_urls().is_empty() => {}
            other => failures.push(format!("{}: {body} ended with {other:?}", model.id)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(matrix::create_counts(&sim).1, models.len());
}
