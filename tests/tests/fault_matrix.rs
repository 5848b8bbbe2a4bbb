//! The fault matrix against the SDK over real HTTP on 127.0.0.1, plus the
//! lifecycle's event order, a 1,000-generation load case, validation,
//! resume by id and decode errors.

use std::time::Duration;

use futures::StreamExt;
use skills_video::models::GoogleNanoBananaProRequest;
use skills_video::{Client, ErrorCategory, Event, Source};
use skills_video_tests::matrix::{self, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_of_the_matrix() {
    let verdicts = matrix::run_all().await;
    let report = matrix::report(&verdicts);
    println!("{report}");
    assert!(verdicts.len() >= 43, "the matrix lost cases");
    assert!(verdicts.iter().all(|v| v.problems.is_empty()), "{report}");
}

/// A create whose connection is refused never reached the platform: it is
/// retried as transient (each wait `initial × 2^retry`, from the first),
/// never reported as ambiguous. The other side of the money rule, where a
/// create that was sent and got no answer is ambiguous, is the matrix's
/// `CloseBeforeAnswer` cases.
///
/// Mutations tried (cargo-mutants on `lifecycle/send.rs`): the connect-error
/// guard of `create_attempt` made false → the first refusal is `Ambiguous`;
/// `next_retry` passing `retries + 1` or `retries / 1` as the 0-based retry
/// → the waits start at 40 or 20 ms. Each fails here.
#[tokio::test]
async fn a_refused_connection_is_retried_from_the_first_backoff_never_ambiguous() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }; // The listener is dropped: nothing listens on the port now.
    let policy = skills_video::RetryPolicy {
        max_retries: 3,
        jitter: false,
        ..matrix::fast_retry()
    };
    let client = Client::builder()
        .api_key(matrix::KEY)
        .base_url(format!("http://127.0.0.1:{port}/api/v1"))
        .retry_policy(policy)
        .build()
        .expect("client");
    let items: Vec<_> = client
        .events(GoogleNanoBananaProRequest::new("a red kite"))
        .collect()
        .await;
    let waits: Vec<Duration> = items
        .iter()
        .filter_map(|item| match item {
            Ok(Event::Retrying { delay, status, .. }) => {
                assert_eq!(*status, None, "a refusal has no status");
                Some(*delay)
            }
            _ => None,
        })
        .collect();
    let ms = Duration::from_millis;
    assert_eq!(waits, [ms(10), ms(20), ms(40)]);
    match items.last() {
        Some(Err(skills_video::Error::Transient {
            attempts,
            status: None,
            generation_id: None,
            ..
        })) => assert_eq!(*attempts, 4),
        other => panic!("expected a transient error after 4 attempts, got {other:?}"),
    }
}

#[tokio::test]
async fn fallback_events_come_in_order_with_the_id_first() {
    let setup = Setup::default();
    let sim = matrix::simulator_serving(
        &setup,
        vec![skills_video_simulator::FaultRule::always(
            skills_video_simulator::Fault::DropAfterId,
        )],
        &[matrix::CASE_MODEL],
    )
    .await;
    let client = matrix::client(&sim, &setup);
    let events: Vec<Event> = client
        .events(GoogleNanoBananaProRequest::new("a red kite"))
        .map(|e| e.expect("no error"))
        .collect()
        .await;
    let names: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::Started { .. } => "started",
            Event::SseOpen { .. } => "sse_open",
            Event::Created { .. } => "created",
            Event::Message(_) => "message",
            Event::Heartbeat => "heartbeat",
            Event::Retrying { .. } => "retrying",
            Event::FallbackToPolling { .. } => "fallback",
            Event::Poll { .. } => "poll",
            Event::Terminal(_) => "terminal",
            _ => "other",
        })
        .collect();
    assert_eq!(
        &names[..5],
        ["started", "sse_open", "created", "message", "fallback"],
        "{names:?}"
    );
    assert_eq!(names.last(), Some(&"terminal"));
    assert!(names.contains(&"poll"));
    let id = events.iter().find_map(|e| match e {
        Event::Created { generation_id } => Some(generation_id.clone()),
        _ => None,
    });
    match events.last() {
        Some(Event::Terminal(g)) => {
            assert_eq!(g.id().map(str::to_string), id);
            assert_eq!(g.source(), Source::Poll);
            assert!(g.output_urls()[0].ends_with(".png"));
        }
        other => panic!("last event {other:?}"),
    }
    // Every request of this generation carried the same idempotency key.
    let keys: Vec<_> = sim
        .requests()
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert!(keys.len() >= 2);
    assert!(keys.iter().all(|k| k == &keys[0]));
}

#[tokio::test]
async fn client_side_validation_sends_nothing() {
    let setup = Setup::default();
    let sim = matrix::simulator_serving(&setup, vec![], &[matrix::CASE_MODEL]).await;
    let client = matrix::client(&sim, &setup);
    let err = client
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("").num_images(99))
        .await
        .expect_err("invalid");
    assert_eq!(err.category(), ErrorCategory::Validation);
    let text = err.to_string();
    assert!(
        text.contains("prompt") && text.contains("num_images"),
        "{text}"
    );
    assert!(!err.guidance().is_empty());
    assert_eq!(sim.requests().len(), 0);
}

#[tokio::test]
async fn wait_resumes_by_id_and_unknown_ids_are_not_found() {
    let setup = Setup::default();
    let sim = matrix::simulator_serving(&setup, vec![], &[matrix::CASE_MODEL]).await;
    let client = matrix::client(&sim, &setup);
    let done = client
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("a boat"))
        .await
        .unwrap();
    let again = client.wait(done.id().unwrap()).await.unwrap();
    assert_eq!(again.id(), done.id());
    assert_eq!(again.source(), Source::Poll);
    let missing = client.wait("no-such-generation").await.unwrap_err();
    assert_eq!(missing.category(), ErrorCategory::NotFound);
    assert_eq!(missing.generation_id(), Some("no-such-generation"));
    let credits = client.credits().await.unwrap();
    assert_eq!(credits.balance, Some(999.0));
    assert_eq!(matrix::create_counts(&sim), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_generations_through_one_client() {
    let setup = Setup {
        step_delay: Duration::ZERO,
        credits: 5000.0,
        ..Setup::default()
    };
    let sim = matrix::simulator_serving(&setup, vec![], &[matrix::CASE_MODEL]).await;
    let client = matrix::client(&sim, &setup);
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .images()
                    .google_nano_banana_pro(GoogleNanoBananaProRequest::new(format!("image {i}")))
                    .await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let g = t.await.expect("task").expect("generation");
        assert!(g.is_success() && !g.output_urls().is_empty());
        ids.insert(g.id().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1000, "every generation got its own job");
    assert_eq!(matrix::create_counts(&sim), (1000, 1000));
}

/// A poll answered with something that is not JSON: a decode error that keeps
/// the raw body (an in-test server, since the simulator always answers JSON).
#[tokio::test]
async fn unreadable_poll_body_is_a_decode_error_with_the_raw_body() {
    use tokio::io::AsyncWriteExt;
    let addr = skills_video_tests::canned::serve(|mut socket, _| async move {
        let body = "<html>bad gateway page</html>";
        let response = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
        let _ = socket.write_all(response.as_bytes()).await;
    })
    .await;
    let client = Client::builder()
        .api_key("k")
        .base_url(format!("http://{addr}/api/v1"))
        .build()
        .unwrap();
    let err = client.wait("abc").await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Decode);
    assert!(!err.guidance().is_empty());
    match err {
        skills_video::Error::Decode { body, .. } => assert!(body.contains("bad gateway page")),
        other => panic!("{other:?}"),
    }
}

/// One overall deadline bounds the stream and poll phases together: with a
/// stalled stream (SSE budget 30 s) and a job that never ends (poll budget
/// 30 s), a 1 s deadline ends the job with a timeout that carries the id.
#[tokio::test]
async fn the_overall_deadline_bounds_stream_and_polling_together() {
    let setup = Setup {
        step_delay: Duration::from_secs(60),
        sse_timeout: Duration::from_secs(30),
        poll_timeout: Duration::from_secs(30),
        ..Setup::default()
    };
    let sim = matrix::simulator_serving(
        &setup,
        vec![skills_video_simulator::FaultRule::always(
            skills_video_simulator::Fault::StallHeartbeats,
        )],
        &[matrix::CASE_MODEL],
    )
    .await;
    let client = matrix::builder(&sim, &setup)
        .deadline(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("a slow job"))
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Timeout, "{err}");
    assert!(err.generation_id().is_some());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the deadline was not applied"
    );
    assert_eq!(matrix::create_counts(&sim), (1, 1));
}

/// `Client::wait` keeps to the same overall deadline, counted from the call:
/// a finished job is read at once, and a job that never ends is given up
/// with its id at the deadline, not at the 30 s poll budget. (Mutation
/// tried: the wait's deadline computed as `now - d`, already past, which
/// made the first `wait` a timeout.)
#[tokio::test]
async fn wait_keeps_to_the_overall_deadline() {
    let quick = Setup {
        poll_timeout: Duration::from_secs(30),
        ..Setup::default()
    };
    let slow = Setup {
        step_delay: Duration::from_secs(60),
        ..quick.clone()
    };
    let quick_sim = matrix::simulator_serving(&quick, vec![], &[matrix::CASE_MODEL]).await;
    let slow_sim = matrix::simulator_serving(&slow, vec![], &[matrix::CASE_MODEL]).await;
    let with_deadline = |sim: &skills_video_simulator::RunningSimulator, deadline: Duration| {
        matrix::builder(sim, &quick)
            .deadline(deadline)
            .build()
            .unwrap()
    };
    let done = matrix::client(&quick_sim, &quick)
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("a quick job"))
        .await
        .unwrap();
    let again = with_deadline(&quick_sim, Duration::from_secs(10))
        .wait(done.id().unwrap())
        .await
        .expect("a finished job is read within the deadline");
    assert_eq!(again.id(), done.id());

    let unfinished = with_deadline(&slow_sim, Duration::from_secs(2))
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("a slow job"))
        .await
        .unwrap_err();
    let id = unfinished
        .generation_id()
        .unwrap_or_else(|| panic!("no id in {unfinished:?}"))
        .to_string();
    let started = std::time::Instant::now();
    let err = with_deadline(&slow_sim, Duration::from_secs(1))
        .wait(&id)
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Timeout, "{err}");
    assert_eq!(err.generation_id(), Some(id.as_str()));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the wait ran past its deadline"
    );
    assert_eq!(matrix::create_counts(&quick_sim), (1, 1));
    assert_eq!(matrix::create_counts(&slow_sim), (1, 1));
}

/// A stalled stream's heartbeats reach the caller as events, and still do not
/// extend the SSE budget: the job is finished by polling.
#[tokio::test]
async fn heartbeats_are_events_and_do_not_extend_the_sse_budget() {
    let setup = Setup {
        sse_timeout: Duration::from_secs(1),
        ..Setup::default()
    };
    let sim = matrix::simulator_serving(
        &setup,
        vec![skills_video_simulator::FaultRule::always(
            skills_video_simulator::Fault::StallHeartbeats,
        )],
        &[matrix::CASE_MODEL],
    )
    .await;
    let client = matrix::client(&sim, &setup);
    let events: Vec<Event> = client
        .events(GoogleNanoBananaProRequest::new("a quiet stream"))
        .map(|e| e.expect("no error"))
        .collect()
        .await;
    let heartbeats = events
        .iter()
        .filter(|e| matches!(e, Event::Heartbeat))
        .count();
    assert!(heartbeats >= 2, "{heartbeats} heartbeats in {events:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::FallbackToPolling {
            reason: skills_video::FallbackReason::SseTimeout,
            ..
        }
    )));
    assert!(matches!(events.last(), Some(Event::Terminal(g)) if g.source() == Source::Poll));
}

/// `credits()` retries a transient failure (a GET is always safe to repeat)
/// and then reads the balance (an in-test server: the simulator's faults
/// target creates and polls).
#[tokio::test]
async fn credits_retry_a_503_then_read_the_balance() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let addr = skills_video_tests::canned::serve(move |mut socket, n| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let (status, body) = if n == 0 {
                ("503 Service Unavailable", r#"{"message":"busy"}"#)
            } else {
                ("200 OK", r#"{"credits": 42.5}"#)
            };
            let response = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\nretry-after: 0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = socket.write_all(response.as_bytes()).await;
        }
    })
    .await;
    let client = Client::builder()
        .api_key("k")
        .base_url(format!("http://{addr}/api/v1"))
        .retry_policy(matrix::fast_retry())
        .build()
        .unwrap();
    let credits = client.credits().await.unwrap();
    assert_eq!(credits.balance, Some(42.5));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

/// A create refused with `503` and `Retry-After: 1` is retried 1 s after
/// the `Retrying` event, on either route, even when the consumer takes a
/// second before reading on: the backoff runs from the event, so a caller
/// that waits for a rate limiter's slot (the batch's `--max-rps`) does not
/// add its wait to the backoff. Before, the polling route slept its backoff
/// only once read on again (2 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_retry_backoff_runs_from_its_event_on_both_routes() {
    use skills_video_simulator::{Fault, RouteKind};
    for no_sse in [false, true] {
        let refused = Fault::CreateStatus {
            status: 503,
            retry_after_secs: Some(1),
        };
        let creates = [RouteKind::CreateSse, RouteKind::CreatePoll];
        let gap = retry_gap_with_a_busy_consumer(refused, no_sse, &creates).await;
        assert_about_one_second(gap, &format!("the create (no_sse={no_sse})"));
    }
}

/// The same for a poll refused with `503` and `Retry-After: 1`: the next
/// poll goes out 1 s after the `Retrying` event, not 1 s after the consumer
/// reads on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_retry_backoff_runs_from_its_event() {
    use skills_video_simulator::{Fault, RouteKind};
    let refused = Fault::PollStatus {
        status: 503,
        retry_after_secs: Some(1),
    };
    let gap = retry_gap_with_a_busy_consumer(refused, true, &[RouteKind::Poll]).await;
    assert_about_one_second(gap, "the poll");
}

/// Runs one generation whose first request of `kinds` meets `fault` once,
/// with a consumer that is busy for 1 s (the backoff) after the `Retrying`
/// event, and returns the time between that request and its retry as the
/// simulator received them.
async fn retry_gap_with_a_busy_consumer(
    fault: skills_video_simulator::Fault,
    no_sse: bool,
    kinds: &[skills_video_simulator::RouteKind],
) -> Duration {
    let setup = Setup {
        retry: matrix::fast_retry(),
        ..Setup::default()
    };
    let rule = skills_video_simulator::FaultRule::times(fault, 1);
    let sim = matrix::simulator_serving(&setup, vec![rule], &[matrix::CASE_MODEL]).await;
    let client = matrix::client(&sim, &setup);
    let options = skills_video::GenerateOptions {
        no_sse,
        ..skills_video::GenerateOptions::default()
    };
    let mut events =
        std::pin::pin!(client.events_with(GoogleNanoBananaProRequest::new("a kite"), options));
    let mut retried = 0;
    while let Some(event) = events.next().await {
        match event.expect("no error") {
            Event::Retrying { delay, .. } => {
                assert_eq!(delay, Duration::from_secs(1), "Retry-After wins");
                retried += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Event::Terminal(_) => break,
            _ => {}
        }
    }
    assert_eq!(retried, 1, "one refusal, one retry");
    let times: Vec<u64> = sim
        .requests()
        .iter()
        .filter(|r| kinds.contains(&r.kind))
        .map(|r| r.received_us)
        .collect();
    assert!(times.len() >= 2, "refused, then retried: {times:?}");
    Duration::from_micros(times[1] - times[0])
}

/// About 1 s: the backoff and the consumer's pause overlap (2 s when the
/// backoff starts only after the pause).
fn assert_about_one_second(gap: Duration, what: &str) {
    assert!(
        gap >= Duration::from_millis(950) && gap < Duration::from_millis(1600),
        "{what} was retried {gap:?} after the refusal"
    );
}
