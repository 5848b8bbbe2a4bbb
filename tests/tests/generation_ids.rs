//! An id that would not name a generation in a URL is refused before any
//! request: `.` and `..` would be normalised away by the URL library and send
//! the poll to another route. Remove `check_generation_id` from the poll
//! phase and these polls reach the simulator (and the error is a 404 or a
//! poll of `/generation`), so the test fails.

use skills_video::{Error, ErrorCategory};
use skills_video_tests::matrix::{self, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_empty_and_control_character_ids_are_refused_without_a_request() {
    let setup = Setup::default();
    let sim = matrix::simulator_serving(&setup, vec![], &[matrix::CASE_MODEL]).await;
    let client = matrix::client(&sim, &setup);
    for id in ["", ".", "..", "gen\r\nX-Injected: 1", "gen\u{7f}"] {
        match client.wait(id).await {
            Err(e @ Error::InvalidId { .. }) => {
                assert_eq!(e.category(), ErrorCategory::Validation);
                let text = e.to_string();
                assert!(!text.contains('\r') && !text.contains('\n'), "{text:?}");
            }
            other => panic!("{id:?}: expected InvalidId, got {other:?}"),
        }
    }
    assert_eq!(
        sim.requests().len(),
        0,
        "no request may be sent for an invalid id"
    );
    // An ordinary id with reserved characters is one percent-encoded segment.
    let err = client.wait("no/such id").await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::NotFound, "{err}");
    let log = sim.requests();
    assert_eq!(log.len(), 1, "{log:?}");
}
