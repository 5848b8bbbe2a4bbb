//! The generated value enums (one macro of `sdk/src/wire_enum.rs` each):
//! wire text both ways, integers as integers, unknown request values
//! rejected with the allowed list, unknown server statuses kept.

use skills_video::models::black_forest_labs_kontext::Resolution;
use skills_video::models::runwayml_gen4_turbo::DurationValue;
use skills_video::schemas::{PredictionStatus, QueueState};

#[test]
fn string_values_round_trip_as_wire_text() {
    for value in Resolution::ALL {
        let json = serde_json::to_string(value).unwrap();
        assert_eq!(json, format!("\"{}\"", value.as_str()));
        let back: Resolution = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, value);
        assert_eq!(value.as_str().parse::<Resolution>().unwrap(), *value);
        assert_eq!(value.to_string(), value.as_str());
    }
    assert_eq!(Resolution::V2k.as_str(), "2K");
}

#[test]
fn an_unknown_request_value_is_an_error_listing_the_allowed_ones() {
    let err = serde_json::from_str::<Resolution>("\"8K\"").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("8K") && text.contains("1K, 2K, 4K"), "{text}");
    let err = "8K".parse::<Resolution>().unwrap_err();
    assert_eq!(err.allowed, ["1K", "2K", "4K"]);
    assert!(serde_json::from_str::<Resolution>("2").is_err());
}

#[test]
fn integer_values_are_json_integers() {
    assert_eq!(serde_json::to_string(&DurationValue::V10).unwrap(), "10");
    assert_eq!(
        serde_json::from_str::<DurationValue>("5").unwrap(),
        DurationValue::V5
    );
    // A whole-number float is the same integer; a fraction or a string is not.
    assert_eq!(
        serde_json::from_str::<DurationValue>("10.0").unwrap(),
        DurationValue::V10
    );
    assert!(serde_json::from_str::<DurationValue>("7").is_err());
    assert!(serde_json::from_str::<DurationValue>("5.5").is_err());
    assert!(serde_json::from_str::<DurationValue>("\"5\"").is_err());
    assert_eq!("5".parse::<DurationValue>().unwrap(), DurationValue::V5);
    assert_eq!(DurationValue::V5.to_string(), "5");
}

#[test]
fn a_status_the_sdk_does_not_know_is_kept_not_rejected() {
    let known: QueueState = serde_json::from_str("\"IN_PROGRESS\"").unwrap();
    assert_eq!(known, QueueState::InProgress);
    assert!(known.is_known());
    let new: QueueState = serde_json::from_str("\"PAUSED\"").unwrap();
    assert_eq!(new, QueueState::Unknown("PAUSED".into()));
    assert!(!new.is_known());
    assert_eq!(serde_json::to_string(&new).unwrap(), "\"PAUSED\"");
    assert!(!QueueState::ALL.contains(&new));
    let p: PredictionStatus = "warming_up".parse().unwrap();
    assert_eq!(p.as_str(), "warming_up");
}

#[test]
fn descriptors_take_allowed_values_from_the_typed_enums() {
    // The descriptor's list is the enum's own (written once, by its macro).
    let kontext = skills_video::models::black_forest_labs_kontext::MODEL.field("resolution");
    let listed = kontext.expect("kontext has resolution").allowed_values_json;
    let typed: Vec<String> = Resolution::ALL
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect();
    assert_eq!(listed, typed.as_slice());
    let duration = skills_video::models::runwayml_gen4_turbo::MODEL
        .field("duration")
        .expect("gen4 turbo has duration")
        .allowed_values_json;
    assert_eq!(duration, ["5", "10"]);
    // Every allowed value of every model is valid JSON that the field accepts.
    for model in skills_video::catalog::MODELS {
        for field in model.fields {
            for text in field.allowed_values_json {
                let value: serde_json::Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("{} {}: {text:?}: {e}", model.id, field.name));
                let body = serde_json::json!({ field.name: value });
                let violations = match (model.check_json)(&body) {
                    Ok(()) => Vec::new(),
                    Err(e) => e.violations,
                };
                assert!(
                    !violations
                        .iter()
                        .any(|v| v.field == field.name && v.rule == "allowed_values"),
                    "{} {} = {text} is listed but refused: {violations:?}",
                    model.id,
                    field.name
                );
            }
        }
    }
}
