//! Requests with workflows (`feature` selects one): the generated enum writes
//! the tag from the variant, reads it back to the right variant, refuses an
//! unknown workflow, and an open workflow carries fields the spec does not name.

use serde_json::json;
use skills_video::model::find_model;
use skills_video::models::kling_ai_kling_v2_6::KlingAiKlingV2_6TextImageToVideo;
use skills_video::models::kling_ai_o3_video::KlingAiO3VideoTextImageToVideo;
use skills_video::models::{KlingAiKlingV2_6Request, KlingAiO3VideoRequest};

#[test]
fn the_tag_comes_from_the_variant() {
    let request: KlingAiO3VideoRequest = KlingAiO3VideoTextImageToVideo::new("a fox in the snow")
        .duration(7)
        .into();
    assert_eq!(request.workflow(), "text-image-to-video");
    let body = serde_json::to_value(&request).unwrap();
    assert_eq!(body["feature"], "text-image-to-video");
    assert_eq!(body["prompt"], "a fox in the snow");
    assert_eq!(body["duration"], 7);
    let back: KlingAiO3VideoRequest = serde_json::from_value(body).unwrap();
    assert_eq!(back, request);
}

#[test]
fn an_unknown_or_missing_workflow_is_refused() {
    let model = find_model("kling-ai/o3/video").expect("in the catalog");
    let unknown = (model.check_json)(&json!({"feature": "teleport", "prompt": "x"})).unwrap_err();
    assert!(unknown.to_string().contains("teleport"), "{unknown}");
    let missing = (model.check_json)(&json!({"prompt": "x"})).unwrap_err();
    assert!(missing.to_string().contains("feature"), "{missing}");
    // The workflow's own rules still apply.
    let out_of_range = (model.check_json)(
        &json!({"feature": "text-image-to-video", "prompt": "x", "duration": 99}),
    )
    .unwrap_err();
    assert!(
        out_of_range.to_string().contains("duration"),
        "{out_of_range}"
    );
}

#[test]
fn the_descriptor_lists_the_workflows_and_their_fields() {
    let model = find_model("kling-ai/o3/video").expect("in the catalog");
    assert_eq!(model.discriminator, Some("feature"));
    let workflow = model
        .workflow("text-image-to-video")
        .expect("the first workflow");
    assert!(workflow
        .fields
        .iter()
        .any(|f| f.name == "prompt" && f.required));
    assert!(workflow.fields.iter().all(|f| f.name != "feature"));
    let template = model.template_fields();
    assert_eq!(template[0].name, "feature");
    assert!(template[0].required);
    // A plain request has no workflows.
    let plain = find_model("bytedance/seedream-4.5").expect("in the catalog");
    assert_eq!(plain.discriminator, None);
    assert!(plain.workflows.is_empty());
}

#[test]
fn an_open_workflow_sends_extra_fields_as_given() {
    let request: KlingAiKlingV2_6Request = KlingAiKlingV2_6TextImageToVideo::new("a fox")
        .extra_field("camera_control", json!({"type": "simple"}))
        .into();
    let body = serde_json::to_value(&request).unwrap();
    assert_eq!(body["camera_control"]["type"], "simple");
    assert_eq!(body["feature"], "text-image-to-video");
    let back: KlingAiKlingV2_6Request = serde_json::from_value(body).unwrap();
    assert_eq!(back, request);
}

/// Serde reads a struct from a positional array; a request body must be an
/// object, whatever the model (found by the property tests).
#[test]
fn a_body_that_is_not_an_object_is_refused() {
    for id in [
        "runwayml/gen-4.5",
        "kling-ai/o3/video",
        "bytedance/seedream-4.5",
    ] {
        let model = find_model(id).expect("in the catalog");
        for body in [
            json!(["a cat"]),
            json!(["text-image-to-video", "a cat"]),
            json!("a cat"),
            json!(null),
        ] {
            let e = (model.check_json)(&body).unwrap_err();
            assert!(
                e.to_string().contains("must be a JSON object"),
                "{id} {body}: {e}"
            );
        }
    }
}

/// A 503 answer is worth trying again later, whichever variant carries it.
#[test]
fn a_transient_status_is_retryable() {
    let e = skills_video::Error::from_response(503, r#"{"message":"busy"}"#, None);
    assert_eq!(e.category(), skills_video::ErrorCategory::Transient);
    assert!(e.is_retryable());
    let e = skills_video::Error::from_response(422, r#"{"message":"bad"}"#, None);
    assert!(!e.is_retryable());
}
