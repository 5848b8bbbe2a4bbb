//! Property tests: arbitrary input through the SDK's public entry points never
//! panics, always gives a typed outcome, and stays within its memory bounds
//! (issue 11, item 1). Case counts are bounded so the file runs in seconds.
//!
//! - SSE: arbitrary bytes and SSE-shaped text (fields, comments, CR/LF/CRLF,
//!   huge lines, BOMs, invalid UTF-8) through `SseParser` and `sse::events`,
//!   split into arbitrary chunks, checked against a small WHATWG reference
//!   parser written here; an event over the cap is an error and the parser's
//!   heap never grows with it (measured by a per-thread counting allocator).
//! - `retry::parse_retry_after` on arbitrary and numeric/date-shaped strings.
//! - Poll bodies: `Generation::from_body` and its accessors, against a
//!   reference search written here (depth first, an object's keys in
//!   `STATUS_KEYS`/`ID_KEYS` order before its children).
//! - Error bodies: `Error::from_response` for statuses 0..=999.
//! - Ids: `Client::wait` against a closed port and against a local server that
//!   records what reached the network.
//! - `ModelDescriptor::check_json` of every model with arbitrary objects.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Map, Value};
use skills_video::error::ErrorCategory;
use skills_video::retry::{parse_retry_after, RetryPolicy};
use skills_video::sse::{self, SseError, SseEvent, SseParser, SseStreamError};
use skills_video::status::{Status, ID_KEYS, STATUS_KEYS};
use skills_video::{Client, Error, FieldInfo, FieldKind, Generation, Source};

// ---------------------------------------------------------------------------
// A counting allocator: bytes live on the current thread while tracking is on.

struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = TRACKING.try_with(|on| {
        if on.get() {
            LIVE.with(|live| {
                let now = live.get() + delta;
                live.set(now);
                PEAK.with(|peak| peak.set(peak.get().max(now)));
            });
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the peak of the bytes it held on
/// this thread at any moment (allocated and not yet freed).
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    TRACKING.with(|t| t.set(true));
    let out = f();
    TRACKING.with(|t| t.set(false));
    (out, PEAK.with(Cell::get).max(0) as usize)
}

// ---------------------------------------------------------------------------
// SSE: input strategies.

/// One piece of an SSE-shaped stream.
fn sse_piece() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        "[a-z0-9 :]{0,12}".prop_map(String::into_bytes),
        any::<String>().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..12),
        Just(b"\xFF\xFE\xC3".to_vec()),
        Just(b"\xE2\x82".to_vec()), // a truncated multi-byte sequence
        Just(b"\0".to_vec()),
        Just("é€😀".as_bytes().to_vec()),
    ];
    let eol = select(vec![
        &b"\n"[..],
        b"\r",
        b"\r\n",
        b"\n\n",
        b"\r\r",
        b"\r\n\r\n",
    ])
    .prop_map(<[u8]>::to_vec);
    let field = select(vec![
        &b"data:"[..],
        b"data: ",
        b"data",
        b"event:",
        b"event: ",
        b"id:",
        b"id: ",
        b"retry:",
        b"retry: ",
        b":",
        b": heartbeat",
        b"foo:",
        b"Data:",
        b"\xEF\xBB\xBF",
        b"\xEF\xBB",
    ])
    .prop_map(<[u8]>::to_vec);
    let retry_value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string().into_bytes()),
        Just(b"18446744073709551616".to_vec()),
        Just(b"12a".to_vec()),
        Just(b"-1".to_vec()),
    ];
    let huge = (
        select(vec![&b"data: "[..], b"event: ", b"id: ", b": ", b"xfield"]),
        0usize..6000,
    )
        .prop_map(|(head, n)| {
            let mut v = head.to_vec();
            v.resize(head.len() + n, b'x');
            v
        });
    prop_oneof![
        4 => (field.clone(), text.clone(), eol.clone()).prop_map(|(f, t, e)| [f, t, e].concat()),
        1 => (Just(b"retry: ".to_vec()), retry_value, eol.clone()).prop_map(|(f, t, e)| [f, t, e].concat()),
        2 => eol,
        1 => field,
        1 => text,
        1 => huge,
    ]
}

fn sse_stream() -> impl Strategy<Value = Vec<u8>> {
    let bom = select(vec![
        &b""[..],
        b"",
        b"",
        b"\xEF\xBB\xBF",
        b"\xEF\xBB",
        b"\xEF\xBB\xBF\xEF\xBB\xBF",
    ]);
    (bom, prop::collection::vec(sse_piece(), 0..24))
        .prop_map(|(bom, pieces)| [bom.to_vec(), pieces.concat()].concat())
}

/// Arbitrary cut points: the input split into up to 9 chunks.
fn chunks<'a>(input: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in at {
        out.push(&input[start..cut]);
        start = cut;
    }
    out.push(&input[start..]);
    out
}

// ---------------------------------------------------------------------------
// SSE: a small reference parser (WHATWG event-stream interpretation, plus the
// crate's documented choices: the unterminated last block is returned by
// `finish`, and the pending event's size counts its data buffer, its event
// name and the kept part of the current line).

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<SseEvent>,
    failed: bool,
    tail: Option<SseEvent>,
}

fn reference(input: &[u8], cap: usize) -> Outcome {
    // A stream that is only the start of a BOM is held back until `finish`,
    // so its size is checked there (a failure then only drops the tail).
    let held_back = !input.is_empty() && input.len() < 3 && b"\xEF\xBB\xBF".starts_with(input);
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\n' => {
                lines.push(&input[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&input[start..i]);
                if input.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let unterminated = &input[start..];

    struct State {
        cap: usize,
        data: Vec<u8>,
        event: Vec<u8>,
        id: Option<String>,
        retry: Option<u64>,
    }
    impl State {
        fn fits(&self, extra: usize) -> bool {
            self.data.len() + self.event.len() + extra <= self.cap
        }
        /// Processes one line; `false` when the event grew past the cap.
        fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> bool {
            if line.is_empty() {
                self.dispatch(out);
                return true;
            }
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(c) => {
                    let v = &line[c + 1..];
                    (&line[..c], v.strip_prefix(b" ").unwrap_or(v))
                }
                None => (line, &b""[..]),
            };
            if !self.fits(name.len()) {
                return false;
            }
            match name {
                b"data" => {
                    if !self.fits(value.len() + 1) {
                        return false;
                    }
                    self.data.extend_from_slice(value);
                    self.data.push(b'\n');
                }
                b"event" => {
                    self.event.clear();
                    if !self.fits(value.len()) {
                        return false;
                    }
                    self.event = value.to_vec();
                }
                b"id" | b"retry" => {
                    if !self.fits(value.len()) {
                        return false;
                    }
                    if name == b"id" {
                        if !value.contains(&0) {
                            self.id = Some(String::from_utf8_lossy(value).into_owned());
                        }
                    } else if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
                        if let Ok(ms) = std::str::from_utf8(value).unwrap().parse::<u64>() {
                            self.retry = Some(ms);
                        }
                    }
                }
                _ => {}
            }
            true
        }
        /// Whether the kept part of a line that has not ended yet fits: all
        /// but the newline a `data` line adds when it ends.
        fn fits_unterminated(&self, line: &[u8]) -> bool {
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(c) => {
                    let v = &line[c + 1..];
                    (&line[..c], v.strip_prefix(b" ").unwrap_or(v))
                }
                None => (line, &b""[..]),
            };
            self.fits(name.len())
                && match name {
                    b"event" => self.data.len() + value.len() <= self.cap,
                    b"data" | b"id" | b"retry" => self.fits(value.len()),
                    _ => true,
                }
        }
        fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
            let retry = self.retry.take();
            let event = std::mem::take(&mut self.event);
            if self.data.is_empty() {
                return;
            }
            let mut data = std::mem::take(&mut self.data);
            data.pop();
            out.push(SseEvent {
                event: if event.is_empty() {
                    "message".into()
                } else {
                    String::from_utf8_lossy(&event).into_owned().into()
                },
                data: String::from_utf8_lossy(&data).into_owned().into(),
                id: self.id.clone().map(Into::into),
                retry,
            });
        }
    }

    let mut state = State {
        cap,
        data: Vec::new(),
        event: Vec::new(),
        id: None,
        retry: None,
    };
    let mut events = Vec::new();
    for line in lines {
        if !state.line(line, &mut events) {
            return Outcome {
                events,
                failed: true,
                tail: None,
            };
        }
    }
    if !state.fits_unterminated(unterminated) {
        return Outcome {
            events,
            failed: !held_back,
            tail: None,
        };
    }
    let mut tail = Vec::new();
    if !unterminated.is_empty() && !state.line(unterminated, &mut tail) {
        return Outcome {
            events,
            failed: false,
            tail: None,
        };
    }
    state.dispatch(&mut tail);
    Outcome {
        events,
        failed: false,
        tail: tail.pop(),
    }
}

/// Feeds `chunks` to a fresh parser, checking the failure contract as it goes.
fn run_parser(cap: usize, chunks: &[&[u8]]) -> Result<Outcome, TestCaseError> {
    let mut parser = SseParser::new(cap);
    let mut events = Vec::new();
    let mut failed = None;
    for chunk in chunks {
        if let Err(err) = parser.push(chunk, &mut events) {
            let SseError::EventTooLarge { limit, size } = err.clone();
            prop_assert_eq!(limit, cap);
            prop_assert!(size > limit, "size {} not over the limit {}", size, limit);
            let text = err.to_string();
            prop_assert!(text.contains(&format!("{} bytes", cap)), "{}", text);
            failed = Some(err);
            break;
        }
    }
    if let Some(err) = &failed {
        // Failed for good: the same error, nothing more dispatched, no tail.
        let before = events.len();
        prop_assert_eq!(
            parser.push(b"data: later\n\n", &mut events),
            Err(err.clone())
        );
        prop_assert_eq!(events.len(), before);
    }
    let tail = parser.finish();
    if failed.is_some() {
        prop_assert_eq!(&tail, &None);
    }
    for event in events.iter().chain(&tail) {
        let name = if event.event == "message" {
            0
        } else {
            event.event.len()
        };
        // Lossy decoding may grow invalid bytes (1 byte -> 3 for U+FFFD).
        prop_assert!(
            event.data.len() + name <= cap.saturating_mul(3),
            "an event of {} + {} bytes passed a cap of {}",
            event.data.len(),
            name,
            cap
        );
    }
    Ok(Outcome {
        events,
        failed: failed.is_some(),
        tail,
    })
}

fn cap_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![
        1usize..64,
        64usize..4096,
        Just(sse::DEFAULT_MAX_EVENT_BYTES)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes: any chunking gives what the whole input gives, and
    /// that is what the reference parser gives.
    #[test]
    fn sse_arbitrary_bytes_match_the_reference_under_any_chunking(
        input in prop::collection::vec(any::<u8>(), 0..2048),
        cap in cap_strategy(),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let whole = run_parser(cap, &[&input])?;
        let split = run_parser(cap, &chunks(&input, &cuts))?;
        prop_assert_eq!(&split, &whole);
        prop_assert_eq!(whole, reference(&input, cap));
    }

    /// SSE-shaped text (every field, comments, all line endings, BOMs, huge
    /// lines, invalid UTF-8): same, with caps small enough to be hit.
    #[test]
    fn sse_structured_text_matches_the_reference_under_any_chunking(
        input in sse_stream(),
        cap in cap_strategy(),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let whole = run_parser(cap, &[&input])?;
        let split = run_parser(cap, &chunks(&input, &cuts))?;
        let byte_by_byte: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(&split, &whole);
        if input.len() <= 4096 {
            prop_assert_eq!(&run_parser(cap, &byte_by_byte)?, &whole);
        }
        prop_assert_eq!(whole, reference(&input, cap));
    }

    /// `sse::events` over a byte stream with transport errors: the events of
    /// the chunks before the first error (or the end), then at most one
    /// error, then nothing.
    #[test]
    fn sse_events_adapter_yields_events_then_one_error_then_ends(
        input in sse_stream(),
        cap in cap_strategy(),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        fail_at in prop::option::of(any::<Index>()),
    ) {
        #[derive(Debug)]
        struct Reset;
        let parts = chunks(&input, &cuts);
        let fail_at = fail_at.map(|i| i.index(parts.len() + 1));
        let mut items: Vec<Result<Bytes, Reset>> =
            parts.iter().map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        if let Some(at) = fail_at {
            items.insert(at, Err(Reset));
        }
        let got: Vec<_> = futures::executor::block_on(
            sse::events(futures::stream::iter(items), cap).collect::<Vec<_>>(),
        );
        // What a parser fed the same chunks gives.
        let fed = &parts[..fail_at.unwrap_or(parts.len()).min(parts.len())];
        let mut parser = SseParser::new(cap);
        let mut want = Vec::new();
        let mut parse_error = None;
        for chunk in fed {
            if let Err(e) = parser.push(chunk, &mut want) {
                parse_error = Some(e);
                break;
            }
        }
        if parse_error.is_none() && fail_at.is_none() {
            want.extend(parser.finish());
        }
        let n_ok = got.iter().take_while(|r| r.is_ok()).count();
        prop_assert!(got.len() <= n_ok + 1, "items after an error: {:?}", got);
        let events: Vec<SseEvent> = got[..n_ok].iter().map(|r| r.as_ref().unwrap().clone()).collect();
        prop_assert_eq!(events, want);
        match (got.get(n_ok), parse_error, fail_at) {
            (None, None, None) => {}
            (Some(Err(SseStreamError::Parse(e))), Some(want), _) => prop_assert_eq!(e, &want),
            (Some(Err(SseStreamError::Transport(Reset))), None, Some(_)) => {}
            (other, pe, fa) => prop_assert!(false, "ended with {:?} (parse error {:?}, transport error at {:?})", other, pe, fa),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, cases: 64, ..ProptestConfig::default() })]

    /// One event over the cap, whatever field carries it and however it is
    /// chunked, is `EventTooLarge`, never buffered past the cap: the parser's
    /// heap stays within a small multiple of the cap while 8-40x the cap
    /// streams in. The events before it are delivered; a huge comment (not
    /// an event) is no error and is not buffered either.
    #[test]
    fn sse_an_event_over_the_cap_is_an_error_and_memory_stays_bounded(
        cap in 256usize..4096,
        factor in 8usize..40,
        carrier in select(vec!["data: ", "event: ", "id: ", "retry: ", "xfield", "many-data-lines"]),
        chunk in 1usize..2048,
        prefix_events in 0usize..4,
    ) {
        let size = cap * factor;
        let mut big = Vec::with_capacity(size + 64);
        if carrier == "many-data-lines" {
            while big.len() < size {
                big.extend_from_slice(b"data: 0123456789\n");
            }
        } else {
            big.extend_from_slice(carrier.as_bytes());
            big.resize(size, b'7');
            big.push(b'\n');
        }
        big.extend_from_slice(b"data: end\n\n");
        let mut prefix = Vec::new();
        for i in 0..prefix_events {
            prefix.extend_from_slice(format!("id: {i}\ndata: small {i}\n\n").as_bytes());
        }
        let mut parser = SseParser::new(cap);
        let mut out = Vec::with_capacity(8);
        prop_assert_eq!(parser.push(&prefix, &mut out), Ok(()));
        prop_assert_eq!(out.len(), prefix_events);
        let (result, peak) = peak_heap(|| {
            let mut result = Ok(());
            for piece in big.chunks(chunk) {
                result = parser.push(piece, &mut out);
                if result.is_err() {
                    break;
                }
            }
            result
        });
        prop_assert!(
            matches!(result, Err(SseError::EventTooLarge { limit, size }) if limit == cap && size > cap),
            "{:?}", result
        );
        prop_assert_eq!(out.len(), prefix_events);
        // data + event name + kept line part, each capped, plus slack.
        prop_assert!(peak <= 3 * cap + 1024, "held {} bytes with a cap of {} while {} streamed in", peak, cap, size);

        // The same through `sse::events`.
        let stream_chunks: Vec<Result<Bytes, std::io::Error>> = [prefix.clone(), big.clone()]
            .concat()
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let items: Vec<_> = futures::executor::block_on(
            sse::events(futures::stream::iter(stream_chunks), cap).collect::<Vec<_>>(),
        );
        prop_assert_eq!(items.len(), prefix_events + 1);
        prop_assert!(items[..prefix_events].iter().all(Result::is_ok));
        prop_assert!(
            matches!(
                &items[prefix_events],
                Err(SseStreamError::Parse(SseError::EventTooLarge { limit, .. })) if *limit == cap
            ),
            "{:?}",
            items[prefix_events]
        );

        // A comment of the same size is not an event: no error, no buffering.
        let mut comment = b": ".to_vec();
        comment.resize(size, b'c');
        comment.extend_from_slice(b"\ndata: after\n\n");
        let mut parser = SseParser::new(cap);
        let mut out = Vec::with_capacity(8);
        let (result, peak) = peak_heap(|| {
            comment.chunks(chunk).try_for_each(|piece| parser.push(piece, &mut out))
        });
        prop_assert_eq!(result, Ok(()));
        prop_assert_eq!(out.len(), 1);
        prop_assert_eq!(out[0].data.as_str(), "after");
        prop_assert!(peak <= 1024, "a comment of {} bytes held {} bytes", size, peak);
    }
}

// ---------------------------------------------------------------------------
// Retry-After.

fn retry_after_text() -> impl Strategy<Value = String> {
    let pad = select(vec!["", " ", "\t", "  "]);
    let core = prop_oneof![
        any::<String>(),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        (0u128..=u128::MAX).prop_map(|n| n.to_string()),
        select(vec![
            "1e300", "-1e300", "NaN", "inf", "-inf", "+5", "-0", "0.0", "1e-300", "0x10", "",
            "Infinity", "1_000"
        ])
        .prop_map(String::from),
        (-4_000_000_000i64..8_000_000_000i64).prop_map(|secs| {
            let at = if secs >= 0 {
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
            } else {
                SystemTime::now() - Duration::from_secs(secs.unsigned_abs() % 1_000_000)
            };
            httpdate::fmt_http_date(at)
        }),
    ];
    (pad.clone(), core, pad).prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, cases: 256, ..ProptestConfig::default() })]

    /// Never panics; numbers are read as the header says (saturating, never
    /// negative); dates give the time left (zero when past); the policy's
    /// wait stays within its caps whatever the header said.
    #[test]
    fn retry_after_is_total_and_saturating(text in retry_after_text(), retry in 0u32..64) {
        let parsed = parse_retry_after(&text);
        let t = text.trim();
        if let Ok(n) = t.parse::<u64>() {
            prop_assert_eq!(parsed, Some(Duration::from_secs(n)));
        } else if let Ok(f) = t.parse::<f64>() {
            if f.is_finite() && f >= 0.0 {
                let d = parsed.expect("a finite non-negative number is a delay");
                if f < 1.8e19 {
                    prop_assert!((d.as_secs_f64() - f).abs() <= f * 1e-9 + 1e-9, "{} -> {:?}", f, d);
                } else {
                    prop_assert!(d >= Duration::from_secs(u64::MAX / 2), "{} -> {:?}", f, d);
                }
            } else {
                prop_assert_eq!(parsed, None, "negative or non-finite: {:?}", text);
            }
        } else if let Ok(at) = httpdate::parse_http_date(t) {
            let left = at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
            let d = parsed.expect("an HTTP date is a delay");
            prop_assert!(d <= left + Duration::from_secs(2) && left <= d + Duration::from_secs(2), "{:?} -> {:?}", text, d);
        } else {
            prop_assert_eq!(parsed, None, "{:?}", text);
        }
        let policy = RetryPolicy::default();
        let wait = policy.delay(retry, parsed);
        prop_assert!(wait <= policy.max_retry_after.max(policy.max_delay));
    }
}

// ---------------------------------------------------------------------------
// Poll bodies and error bodies.

const KEYS: &[&str] = &[
    "status",
    "state",
    "queue_state",
    "prediction_status",
    "id",
    "generation_id",
    "taskId",
    "url",
    "urls",
    "output",
    "outputs",
    "usage",
    "total",
    "subscription",
    "permanent",
    "generation",
    "error",
    "message",
    "code",
    "input",
    "detail",
    "loc",
    "msg",
    "type",
    "data",
];

const WORDS: &[&str] = &[
    "COMPLETED",
    "completed",
    "SUCCEEDED",
    "succeeded",
    "FAILED",
    "failed",
    "CANCELED",
    "cancelled",
    "IN_PROGRESS",
    "IN_QUEUE",
    "starting",
    "WARMING_UP",
    "",
    "https://cdn.example.com/a.png",
    "http://127.0.0.1/b.mp4",
    "file:///etc/passwd",
    "ftp://x/y",
    "https://",
    "12.5",
    "NaN",
    "1e400",
    "-3",
    " 7 ",
    "Insufficient credits",
    "Unauthorized",
    "validation error",
    "please recharge",
    "not found",
    "Insufficient balance",
    "NOT ENOUGH CREDITS",
    "low credit balance",
    "Top up to continue",
];

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(WORDS).prop_map(String::from),
        2 => any::<String>(),
        1 => "[ -~]{0,40}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        json_string().prop_map(Value::String),
    ];
    let key = prop_oneof![3 => select(KEYS).prop_map(String::from), 1 => any::<String>()];
    leaf.prop_recursive(6, 96, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A body shaped like a terminal answer: a status, outputs with repeated
/// and non-http URLs, usage in odd shapes, errors at both levels.
fn terminal_body() -> impl Strategy<Value = Value> {
    let url = select(vec![
        "https://cdn.example.com/a.png",
        "https://cdn.example.com/b.mp4",
        "http://127.0.0.1/c",
        "file:///etc/passwd",
        "ftp://x/y",
        "HTTPS://UPPER/x",
        "",
    ]);
    let output = prop_oneof![
        url.clone().prop_map(|u| json!({ "url": u })),
        url.clone()
            .prop_map(|u| json!({ "url": u, "nested": { "url": u } })),
        json_value(),
    ];
    (
        select(WORDS),
        prop::collection::vec(output, 0..5),
        prop::option::of(json_value()),
        prop::option::of(json_value()),
        prop::option::of(json_value()),
        any::<bool>(),
    )
        .prop_map(|(status, outputs, usage, error, message, nested)| {
            let mut body = json!({ "status": status, "outputs": outputs });
            if let Some(u) = usage {
                body["usage"] = u;
            }
            if let Some(e) = error {
                body["error"] = e;
            }
            if let Some(m) = message {
                body["message"] = m;
            }
            if nested {
                json!({ "generation": body, "id": "g1" })
            } else {
                body
            }
        })
}

/// A body as a server would send it: JSON of any shape, JSON nested close to
/// (and past) the parser's depth limit, or arbitrary bytes.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => (1usize..200, select(vec!["[", "{\"generation\":", "{\"url\":"])).prop_map(|(depth, open)| {
            let close = if open == "[" { "]" } else { "}" };
            format!("{}{{\"status\":\"FAILED\",\"url\":\"https://x/y\"}}{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        }),
    ]
}

/// Every http(s) string under a key `url`, in document order, once.
fn urls_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match child {
                    Value::String(s)
                        if k == "url"
                            && (s.starts_with("http://") || s.starts_with("https://")) =>
                    {
                        if !out.contains(s) {
                            out.push(s.clone());
                        }
                    }
                    other => urls_in(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| urls_in(i, out)),
        _ => {}
    }
}

/// The reference for where a poll body keeps a string: the first string
/// under any of `keys`, an object's own keys (in `keys` order) tried before
/// its children, children and array items in document order.
fn reference_find<'v>(value: &'v Value, keys: &[&'static str]) -> Option<(&'static str, &'v str)> {
    match value {
        Value::Object(map) => keys
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str).map(|s| (*k, s)))
            .or_else(|| map.values().find_map(|v| reference_find(v, keys))),
        Value::Array(items) => items.iter().find_map(|v| reference_find(v, keys)),
        _ => None,
    }
}

fn check_generation(raw: Value) -> Result<(), TestCaseError> {
    let found = reference_find(&raw, STATUS_KEYS).map(|(k, s)| (k, Status::parse(s)));
    let id = reference_find(&raw, ID_KEYS)
        .map(|(_, s)| s.to_string())
        .filter(|s| !s.is_empty());
    if let Some((key, _)) = &found {
        prop_assert!(STATUS_KEYS.contains(key));
    }
    prop_assert_ne!(id.as_deref(), Some(""));
    let Some(g) = Generation::from_body(raw.clone(), Source::Poll) else {
        prop_assert!(
            found.is_none(),
            "a status was found but no generation built"
        );
        return Ok(());
    };
    let (_, status) = found.expect("from_body needs a status");
    prop_assert_eq!(g.status(), &status);
    prop_assert_eq!(g.id(), id.as_deref());
    prop_assert_eq!(g.raw(), &raw);
    prop_assert_eq!(g.source(), Source::Poll);
    prop_assert_eq!(
        g.is_success(),
        matches!(status, Status::Completed | Status::Succeeded)
    );
    let mut want = Vec::new();
    urls_in(&raw, &mut want);
    prop_assert_eq!(g.output_urls(), want);
    let usage_object = [raw.get("usage"), raw.pointer("/generation/usage")]
        .into_iter()
        .flatten()
        .any(Value::is_object);
    match g.usage() {
        Some(u) => {
            prop_assert!(usage_object);
            prop_assert!(
                u.total.is_finite() && u.subscription.is_finite() && u.permanent.is_finite(),
                "{:?}",
                u
            );
        }
        None => prop_assert!(!usage_object),
    }
    if let Some(code) = g.error_code() {
        prop_assert!(!code.trim().is_empty());
    }
    if let Some(message) = g.error_message() {
        // On a success only the nested error counts, never a progress note.
        let nested: Vec<&str> = [
            raw.pointer("/error/message"),
            raw.pointer("/generation/error/message"),
            raw.get("error"),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
        if g.is_success() {
            prop_assert!(
                nested.contains(&message.as_str()),
                "{:?} on a success",
                message
            );
        }
    }
    let _ = g.input();
    // A FAILED generation as an error reads and prints.
    let err = Error::Failed {
        message: g.error_message().unwrap_or_default(),
        generation: Box::new(g),
    };
    prop_assert!(!err.to_string().is_empty());
    prop_assert_eq!(err.category(), ErrorCategory::Failed);
    Ok(())
}

fn known_category(c: ErrorCategory) -> &'static str {
    // `ErrorCategory` is non-exhaustive: a category this list does not know
    // fails the property instead of failing to compile.
    match c {
        ErrorCategory::InsufficientCredits
        | ErrorCategory::Auth
        | ErrorCategory::Validation
        | ErrorCategory::NotFound
        | ErrorCategory::Transient
        | ErrorCategory::Ambiguous
        | ErrorCategory::Failed
        | ErrorCategory::Timeout
        | ErrorCategory::Config
        | ErrorCategory::Decode
        | ErrorCategory::Unknown => c.as_str(),
        other => panic!("a category this test does not know: {other:?}"),
    }
}

fn error_body() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        1 => prop::collection::vec(any::<u8>(), 0..256).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        2 => json_value().prop_map(|v| v.to_string()),
        1 => json_string().prop_map(|m| json!({"message": m}).to_string()),
        1 => json_string().prop_map(|m| json!({"error": {"message": m, "code": 1}}).to_string()),
        1 => json_string().prop_map(|m| json!({"error": m}).to_string()),
        1 => json_string().prop_map(|m| json!({"detail": m}).to_string()),
        1 => prop::collection::vec((json_value(), json_value(), json_value()), 0..4).prop_map(|items| {
            let detail: Vec<Value> = items
                .into_iter()
                .map(|(loc, msg, kind)| json!({"loc": loc, "msg": msg, "type": kind}))
                .collect();
            json!({ "detail": detail }).to_string()
        }),
        1 => "[ -~]{2000,2100}",
    ]
}

/// The reference's classification, from its documented rules.
fn expected_category(status: u16, message: &str) -> ErrorCategory {
    let m = message.to_ascii_lowercase();
    let credits = [
        "insufficient credit",
        "not enough credit",
        "insufficient balance",
        "credit balance",
        "top up",
        "recharge",
    ];
    if status == 402 || credits.iter().any(|p| m.contains(p)) {
        ErrorCategory::InsufficientCredits
    } else if status == 401 || m.contains("unauthorized") {
        ErrorCategory::Auth
    } else if status == 422 || m.contains("validation") {
        ErrorCategory::Validation
    } else if status == 404 {
        ErrorCategory::NotFound
    } else if status == 429 || status >= 500 {
        ErrorCategory::Transient
    } else {
        ErrorCategory::Unknown
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, cases: 256, ..ProptestConfig::default() })]

    /// Any JSON as a poll body (or SSE payload): a generation exactly when a
    /// status is found, and every accessor agrees with the raw JSON.
    #[test]
    fn generation_accessors_agree_with_any_json(raw in prop_oneof![json_value(), terminal_body()]) {
        check_generation(raw)?;
    }

    /// Any bytes as a body: read as JSON when they are, else as the text the
    /// lifecycle would keep (a JSON string); never a panic, even nested deep.
    #[test]
    fn generation_from_any_bytes(bytes in body_bytes()) {
        let raw = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        };
        check_generation(raw)?;
    }

    /// Any status 0..=999 and body: a known category following the
    /// documented rules, a non-empty message line, the status and id kept.
    #[test]
    fn error_from_any_response(
        status in 0u16..=999,
        body in error_body(),
        id in prop::option::of(any::<String>()),
    ) {
        let err = Error::from_response(status, &body, id.clone());
        let text = err.to_string();
        prop_assert!(!text.is_empty());
        prop_assert!(text.starts_with(&format!("HTTP {status} (")), "{}", text);
        prop_assert!(!known_category(err.category()).is_empty());
        prop_assert!(!err.guidance().is_empty());
        prop_assert_eq!(err.status(), Some(status));
        prop_assert_eq!(err.generation_id(), id.as_deref());
        let message = err.message();
        prop_assert_eq!(err.category(), expected_category(status, &message));
        if serde_json::from_str::<Value>(&body).is_err() {
            let want: String = body.trim().chars().take(2000).collect();
            prop_assert_eq!(&message, &want);
        }
        match &err {
            Error::Api { fields, body: kept, .. } => {
                prop_assert_eq!(kept, &body);
                let detail_len = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("detail").and_then(Value::as_array).map(Vec::len))
                    .unwrap_or(0);
                prop_assert_eq!(fields.len(), detail_len);
            }
            other => prop_assert!(false, "not an Api error: {:?}", other),
        }
    }
}

// ---------------------------------------------------------------------------
// Generation ids through `Client::wait`.

/// What the SDK documents as an id it refuses before any request.
fn id_is_refused(id: &str) -> bool {
    id.is_empty() || id == "." || id == ".." || id.chars().any(char::is_control) || id.len() > 512
}

fn generation_id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[a-zA-Z0-9_-]{1,24}",
        2 => "[ -~]{0,24}",
        1 => select(vec!["", ".", "..", "...", "./.", "%2e%2e", "a/../b", "?x=1#f", "gen 1", "ünï", "\\..\\", "\u{7f}", "\u{85}x", "a\u{200b}b", "[::1]", "a;b=c"])
            .prop_map(String::from),
        1 => ("[a-z]{0,8}", select(vec!['\0', '\n', '\r', '\t', '\u{1b}', '\u{7f}', '\u{9b}']), "[a-z]{0,8}")
            .prop_map(|(a, c, b)| format!("{a}{c}{b}")),
        1 => (500usize..530).prop_map(|n| "x".repeat(n)),
    ]
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn quick_client(base: &str) -> Client {
    Client::builder()
        .api_key("sk-property-test")
        .base_url(base)
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(2))
        .poll_timeout(Duration::from_secs(3))
        .poll_interval(Duration::from_millis(1))
        .retry_policy(RetryPolicy {
            jitter: false,
            initial_delay: Duration::ZERO,
            ..RetryPolicy::none()
        })
        .build()
        .expect("a loopback client")
}

/// A loopback HTTP server that records each request line and answers 404.
fn recording_server() -> &'static (SocketAddr, Arc<Mutex<Vec<String>>>) {
    static SERVER: OnceLock<(SocketAddr, Arc<Mutex<Vec<String>>>)> = OnceLock::new();
    SERVER.get_or_init(|| {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let seen = Arc::new(Mutex::new(Vec::new()));
        let listener = runtime()
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let log = seen.clone();
        runtime().spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let line = buf.split(|&b| b == b'\r').next().unwrap_or_default();
                    log.lock().unwrap().push(String::from_utf8_lossy(line).into_owned());
                    let body = br#"{"message":"no such generation"}"#;
                    let head = format!(
                        "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        (addr, seen)
    })
}

fn percent_decode(segment: &str) -> Vec<u8> {
    let b = segment.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, cases: 32, ..ProptestConfig::default() })]

    /// Against a port nothing listens on: a refused id is `InvalidId` (the
    /// id escaped in the message), anything else is a transient connect
    /// failure carrying the id; quickly, and never a panic.
    #[test]
    fn wait_on_a_closed_port_is_invalid_id_or_transient(id in generation_id()) {
        let client = quick_client("http://127.0.0.1:9/api/v1");
        let started = Instant::now();
        let result = runtime().block_on(client.wait(&id));
        prop_assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        match result {
            Err(err @ Error::InvalidId { .. }) => {
                prop_assert!(id_is_refused(&id), "a good id {:?} refused: {}", id, err);
                let text = err.to_string();
                prop_assert!(!text.chars().any(char::is_control), "{:?}", text);
                prop_assert_eq!(err.category(), ErrorCategory::Validation);
            }
            Err(err @ Error::Transient { .. }) => {
                prop_assert!(!id_is_refused(&id), "a bad id {:?} reached the network: {}", id, err);
                prop_assert_eq!(err.generation_id(), Some(id.as_str()));
                prop_assert_eq!(err.status(), None);
                prop_assert!(err.is_retryable());
            }
            other => prop_assert!(false, "{:?} gave {:?}", id, other),
        }
    }

    /// Against a server that records what reaches it: a refused id sends
    /// nothing; any other id is one request for exactly
    /// `/api/v1/generation/{id percent-encoded as one segment}`.
    #[test]
    fn wait_sends_an_id_as_one_segment_or_not_at_all(id in generation_id()) {
        let (addr, seen) = recording_server();
        let client = quick_client(&format!("http://{addr}/api/v1"));
        let before = seen.lock().unwrap().len();
        let result = runtime().block_on(client.wait(&id));
        let lines: Vec<String> = seen.lock().unwrap()[before..].to_vec();
        if id_is_refused(&id) {
            prop_assert!(matches!(result, Err(Error::InvalidId { .. })), "{:?} gave {:?}", id, result);
            prop_assert!(lines.is_empty(), "{:?} reached the network: {:?}", id, lines);
            return Ok(());
        }
        match &result {
            Err(err @ Error::Api { status: 404, .. }) => {
                prop_assert_eq!(err.category(), ErrorCategory::NotFound);
                prop_assert_eq!(err.generation_id(), Some(id.as_str()));
            }
            other => prop_assert!(false, "{:?} gave {:?} (server saw {:?})", id, other, lines),
        }
        prop_assert_eq!(lines.len(), 1, "{:?}", lines);
        let line = &lines[0];
        let path = line
            .strip_prefix("GET ")
            .and_then(|rest| rest.strip_suffix(" HTTP/1.1"))
            .unwrap_or_else(|| panic!("request line {line:?}"));
        let segment = path.strip_prefix("/api/v1/generation/").unwrap_or_else(|| panic!("path {path:?}"));
        prop_assert!(!segment.contains('/') && !segment.contains('?') && !segment.contains('#'), "{:?}", segment);
        prop_assert_eq!(percent_decode(segment), id.as_bytes().to_vec(), "segment {:?}", segment);
    }
}

// ---------------------------------------------------------------------------
// Request payloads through every model's `check_json`.

/// A value for one field: mostly one the spec allows (its literals, example
/// and default, or any value of its kind), sometimes anything at all.
fn field_value(field: &'static FieldInfo) -> BoxedStrategy<Value> {
    let known: Vec<Value> = field
        .allowed_values_json
        .iter()
        .chain(field.example_json.iter())
        .chain(field.default_json.iter())
        .filter_map(|text| serde_json::from_str::<Value>(text).ok())
        .collect();
    let of_kind: BoxedStrategy<Value> = match field.kind {
        FieldKind::String if field.format == Some("uri") => select(vec![
            "https://example.com/a.png",
            "http://x",
            "not a url",
            "",
        ])
        .prop_map(Value::from)
        .boxed(),
        FieldKind::String => "[ -~]{0,24}".prop_map(Value::from).boxed(),
        FieldKind::Integer => prop_oneof![-5i64..30, any::<i64>()]
            .prop_map(Value::from)
            .boxed(),
        FieldKind::Number => prop_oneof![-5.0f64..30.0, Just(1e308)]
            .prop_map(Value::from)
            .boxed(),
        FieldKind::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        FieldKind::Array => prop::collection::vec(
            prop_oneof![Just(Value::from("https://example.com/b.png")), json_value()],
            0..4,
        )
        .prop_map(Value::Array)
        .boxed(),
        FieldKind::Object | FieldKind::Json => json_value().boxed(),
    };
    if known.is_empty() {
        prop_oneof![4 => of_kind, 1 => json_value()].boxed()
    } else {
        prop_oneof![3 => select(known), 2 => of_kind, 1 => json_value()].boxed()
    }
}

/// A payload for one model: its (or one workflow's) fields, required ones
/// mostly present, optional ones sometimes, sometimes an unknown key or a
/// missing tag; now and then not an object at all.
fn payload() -> impl Strategy<Value = (usize, Value)> {
    let models = skills_video::catalog::MODELS;
    (0..models.len(), any::<Index>()).prop_flat_map(move |(m, pick)| {
        let model = models[m];
        let workflow = (!model.workflows.is_empty())
            .then(|| &model.workflows[pick.index(model.workflows.len())]);
        let fields = workflow.map_or(model.fields, |w| w.fields);
        let entries: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
            .iter()
            .map(|f| {
                let p = if f.required { 0.9 } else { 0.4 };
                prop::option::weighted(p, field_value(f).prop_map(move |v| (f.name.to_string(), v)))
                    .boxed()
            })
            .collect();
        let tag = match (model.discriminator, workflow) {
            (Some(tag), Some(w)) => {
                let value = prop_oneof![8 => Just(Value::from(w.value)), 1 => json_value()];
                prop::option::weighted(0.9, value.prop_map(move |v| (tag.to_string(), v))).boxed()
            }
            _ => Just(None).boxed(),
        };
        let unknown = prop::option::weighted(0.15, ("[a-z_]{1,12}", json_value()));
        let object = (entries, tag, unknown).prop_map(|(entries, tag, unknown)| {
            let mut map: Map<String, Value> = entries.into_iter().flatten().collect();
            map.extend(tag);
            if let Some((k, v)) = unknown {
                map.entry(k).or_insert(v);
            }
            Value::Object(map)
        });
        (Just(m), prop_oneof![12 => object, 1 => json_value()])
    })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, cases: 512, ..ProptestConfig::default() })]

    /// Any JSON through any model's `check_json`: `Ok` or a non-empty list of
    /// violations that prints; never a panic. What is certainly wrong is
    /// refused: a non-object, an unknown field on a plain request, a missing
    /// required field, a missing workflow tag.
    #[test]
    fn check_json_of_every_model_is_total((m, value) in payload()) {
        let model = skills_video::catalog::MODELS[m];
        let result = (model.check_json)(&value);
        if let Err(errors) = &result {
            prop_assert!(!errors.violations.is_empty());
            prop_assert!(!errors.to_string().is_empty());
            for v in &errors.violations {
                prop_assert!(!v.rule.is_empty() && !v.message.is_empty(), "{:?}", v);
            }
        }
        let Some(map) = value.as_object() else {
            // Serde reads a struct from a positional array (`["a cat"]`);
            // `check_json` refuses every non-object before that.
            prop_assert!(result.is_err(), "{} accepted a non-object {}", model.id, value);
            return Ok(());
        };
        match model.discriminator {
            Some(tag) => {
                if !map.contains_key(tag) {
                    prop_assert!(result.is_err(), "{} accepted {} without `{}`", model.id, value, tag);
                }
            }
            None => {
                if let Some(k) = map.keys().find(|k| model.field(k).is_none()) {
                    prop_assert!(result.is_err(), "{} accepted an unknown field {:?}", model.id, k);
                }
                if let Some(f) = model.fields.iter().find(|f| f.required && !f.nullable && !map.contains_key(f.name)) {
                    prop_assert!(result.is_err(), "{} accepted {} without required `{}`", model.id, value, f.name);
                }
            }
        }
    }
}

#[test]
fn the_id_and_status_keys_are_the_documented_ones() {
    // The properties above lean on these lists; keep them honest.
    assert!(STATUS_KEYS.contains(&"status") && ID_KEYS.contains(&"id"));
    let g = Generation::from_body(json!({"id": "", "status": "COMPLETED"}), Source::Poll)
        .expect("a body with a status is a generation");
    assert_eq!(g.id(), None, "an empty id is no id");
}
