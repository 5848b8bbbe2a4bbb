//! The runtime's status words and the specs' status enums are one
//! vocabulary: every value of the generated `QueueState` and
//! `PredictionStatus` is understood by `Status::parse` (never `Other`),
//! with the terminal and success meanings the platform gives them. A value
//! added to a spec enum that the runtime does not know fails here.

use skills_video::schemas::{PredictionStatus, QueueState};
use skills_video::status::Status;

fn check(value: &str) {
    let status = Status::parse(value);
    assert!(
        !matches!(status, Status::Other(_)),
        "{value} is not understood by the runtime"
    );
    let upper = value.to_ascii_uppercase();
    let terminal = matches!(
        upper.as_str(),
        "COMPLETED" | "SUCCEEDED" | "FAILED" | "CANCELED" | "CANCELLED"
    );
    assert_eq!(status.is_terminal(), terminal, "{value}: terminal");
    let success = matches!(upper.as_str(), "COMPLETED" | "SUCCEEDED");
    assert_eq!(status.is_success(), success, "{value}: success");
}

#[test]
fn every_spec_status_value_is_understood() {
    assert!(QueueState::ALL.len() >= 5 && PredictionStatus::ALL.len() >= 5);
    for v in QueueState::ALL {
        check(v.as_str());
    }
    for v in PredictionStatus::ALL {
        check(v.as_str());
    }
}
