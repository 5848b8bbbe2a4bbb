//! Incremental Server-Sent Events parser with a per-event size cap.
//!
//! This follows the WHATWG "event stream interpretation" rules
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>):
//! UTF-8 (decoded lossily), an optional byte-order mark at the very start of
//! the stream, lines ending in CRLF, LF or CR, `field: value` lines, comments
//! starting with `:`, and events dispatched on an empty line.
//!
//! We keep our own parser instead of using an existing crate because
//! `reqwest-eventsource` re-sends the request when a stream ends (for a job
//! creation that would be a second paid job), and `eventsource-stream` /
//! `sse-stream` put no bound on the size of one event. [`SseParser`] refuses
//! to buffer more than `max_event_bytes` for one event and returns
//! [`SseError::EventTooLarge`] instead.
//!
//! The parser keeps everything as bytes, finds line ends a word at a time
//! (then with `memchr` on long lines), recognises `data:`, `event:`, `id:`
//! and `retry:` by their prefix, appends data slices straight into the
//! event's data buffer, and validates UTF-8 once per event when it is
//! dispatched. Dispatched text is [`SseText`]: UTF-8 stored inline when it
//! is short (event names and ids, usually: no allocation and no reference
//! count per event), otherwise in shared [`Bytes`]. Longer small events are
//! copied into an arena the size of the chunk being parsed, so the events of
//! one chunk share one allocation (cloning an event is a reference count);
//! a large event's data buffer is handed over without a copy. Between chunks
//! the parser holds no buffers when no event is pending, so a quiet stream
//! costs little memory.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;

/// Default cap on the size of one event: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// The UTF-8 byte-order mark, skipped once at the start of a stream.
const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// Event data at least this large is handed over in its own buffer instead
/// of being copied into the arena.
const OWN_BUFFER_BYTES: usize = 4 * 1024;

/// The largest arena: the events of a bigger chunk take several.
const MAX_ARENA_BYTES: usize = 64 * 1024;

/// The name of an event whose block set none.
const MESSAGE: SseText = SseText::from_static("message");

/// Text of a dispatched event: UTF-8, short text held inline, longer text in
/// shared [`Bytes`].
///
/// It dereferences to `str` and compares with `str` and `String`; cloning it
/// copies at most [`SseText::INLINE_BYTES`] bytes or bumps a reference count,
/// never allocates. Invalid UTF-8 on the wire was already replaced by U+FFFD
/// when the parser made it, as WHATWG asks.
#[derive(Clone)]
pub struct SseText(Repr);

/// The storage of an [`SseText`]. Event names and ids are usually short: kept
/// inline they cost no allocation and no reference count (an atomic
/// operation) per event, when cloned or dropped.
enum Repr {
    /// Short text.
    Inline(Inline),
    /// The whole buffer is the text.
    Shared(Bytes),
}

impl Clone for Repr {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            // One aligned 24-byte copy.
            Repr::Inline(inline) => Repr::Inline(*inline),
            Repr::Shared(bytes) => Repr::Shared(bytes.clone()),
        }
    }
}

/// Short text stored in place: the text, zero padding, and its length in
/// the last byte. Aligned and written and copied as three words, so making
/// and moving it never reads a word back from narrower stores.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Inline([u8; SseText::INLINE_BYTES + 1]);

impl Inline {
    /// `text` (at most `INLINE_BYTES` long), built in registers.
    #[inline(always)]
    fn new(text: &[u8]) -> Inline {
        let len = text.len().min(SseText::INLINE_BYTES);
        let (w0, w1, w2) = (
            small_word(text.get(..len.min(8)).unwrap_or_default()),
            small_word(text.get(8..len.clamp(8, 16)).unwrap_or_default()),
            small_word(text.get(16..len.max(16)).unwrap_or_default()),
        );
        // `len` fits in the top byte: at most `INLINE_BYTES`.
        let w2 = w2 | ((len as u64) << 56);
        let mut bytes = [0u8; SseText::INLINE_BYTES + 1];
        bytes[..8].copy_from_slice(&w0.to_le_bytes());
        bytes[8..16].copy_from_slice(&w1.to_le_bytes());
        bytes[16..].copy_from_slice(&w2.to_le_bytes());
        Inline(bytes)
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        let len = usize::from(self.0[SseText::INLINE_BYTES]);
        &self.0[..len.min(SseText::INLINE_BYTES)]
    }
}

/// Up to 8 bytes as a little-endian word (zero above them), read with two
/// overlapping loads instead of a copy.
#[inline(always)]
fn small_word(b: &[u8]) -> u64 {
    let n = b.len();
    match n {
        4..=8 => {
            let lo = u32::from_le_bytes(first4(b));
            let hi = u32::from_le_bytes(first4(&b[n - 4..]));
            u64::from(lo) | (u64::from(hi) << (8 * (n - 4)))
        }
        2..=3 => {
            let lo = u16::from_le_bytes([b[0], b[1]]);
            let hi = u16::from_le_bytes([b[n - 2], b[n - 1]]);
            u64::from(lo) | (u64::from(hi) << (8 * (n - 2)))
        }
        1 => u64::from(b[0]),
        _ => 0,
    }
}

/// The first four bytes of `b` (at least four long).
#[inline(always)]
fn first4(b: &[u8]) -> [u8; 4] {
    match b {
        [a, b, c, d, ..] => [*a, *b, *c, *d],
        _ => [0; 4],
    }
}

impl SseText {
    /// Text up to this many bytes is stored inside the value itself.
    pub const INLINE_BYTES: usize = 23;

    /// Text of a `'static` string, without a copy.
    pub const fn from_static(text: &'static str) -> Self {
        SseText(Repr::Shared(Bytes::from_static(text.as_bytes())))
    }

    /// Decodes `bytes` as UTF-8; invalid sequences become U+FFFD (then the
    /// text is a new buffer), valid input is kept as it is, without a copy.
    pub fn from_utf8_lossy(bytes: Bytes) -> Self {
        match std::str::from_utf8(&bytes) {
            Ok(_) => SseText(Repr::Shared(bytes)),
            Err(_) => SseText::from(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// `text` stored inline; the caller checked that it is UTF-8 (and that
    /// it fits: callers branch on the length first, so after inlining the
    /// check below folds away; it stays so that a longer text is never cut
    /// inside a character, which `as_str` relies on).
    #[inline]
    fn inline(text: &[u8]) -> Self {
        if text.len() > Self::INLINE_BYTES {
            return SseText(Repr::Shared(Bytes::copy_from_slice(text)));
        }
        SseText(Repr::Inline(Inline::new(text)))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks (or makes) valid UTF-8, and the
        // bytes are never changed afterwards.
        unsafe { std::str::from_utf8_unchecked(self.as_bytes()) }
    }

    /// The UTF-8 bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(inline) => inline.as_bytes(),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// The text as [`Bytes`]: the shared buffer without a copy, or a copy of
    /// short (inline) text.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(inline) => Bytes::copy_from_slice(inline.as_bytes()),
            Repr::Shared(bytes) => bytes,
        }
    }
}

impl Default for SseText {
    /// The empty text.
    fn default() -> Self {
        SseText::inline(b"")
    }
}

impl PartialEq for SseText {
    fn eq(&self, other: &SseText) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SseText {}

impl PartialOrd for SseText {
    fn partial_cmp(&self, other: &SseText) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SseText {
    /// Orders as the `str` it holds.
    fn cmp(&self, other: &SseText) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Deref for SseText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SseText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for SseText {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for SseText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for SseText {
    /// Hashes as the `str` it holds (so `Borrow<str>` lookups work).
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for SseText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SseText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<String> for SseText {
    /// Takes the string's buffer without a copy (short text is copied inline).
    fn from(text: String) -> Self {
        if text.len() <= SseText::INLINE_BYTES {
            SseText::inline(text.as_bytes())
        } else {
            SseText(Repr::Shared(Bytes::from(text.into_bytes())))
        }
    }
}

impl From<&str> for SseText {
    /// Copies the string.
    fn from(text: &str) -> Self {
        if text.len() <= SseText::INLINE_BYTES {
            SseText::inline(text.as_bytes())
        } else {
            SseText(Repr::Shared(Bytes::copy_from_slice(text.as_bytes())))
        }
    }
}

impl From<SseText> for String {
    /// Copies the text into a new `String`.
    fn from(text: SseText) -> Self {
        text.as_str().to_owned()
    }
}

impl From<SseText> for Bytes {
    /// See [`SseText::into_bytes`].
    fn from(text: SseText) -> Self {
        text.into_bytes()
    }
}

impl PartialEq<str> for SseText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SseText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SseText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SseText> for str {
    fn eq(&self, other: &SseText) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SseText> for &str {
    fn eq(&self, other: &SseText) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SseText> for String {
    fn eq(&self, other: &SseText) -> bool {
        self.as_str() == other.as_str()
    }
}

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type: the last `event` field of the block, or `"message"`
    /// when the block had none (or an empty one).
    pub event: SseText,
    /// The `data` lines of the block joined with `\n`.
    pub data: SseText,
    /// The last event id in effect when the event was dispatched (ids persist
    /// across events until a later `id` field changes them).
    pub id: Option<SseText>,
    /// The `retry` field (reconnection time in milliseconds), if this event's
    /// block set a valid one.
    pub retry: Option<u64>,
}

/// Errors produced by [`SseParser`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SseError {
    /// One event grew past the configured size cap.
    #[error(
        "server-sent event exceeds the limit of {limit} bytes (reached {size} bytes); \
         raise the limit with ClientBuilder::max_event_bytes"
    )]
    EventTooLarge {
        /// The configured cap, in bytes.
        limit: usize,
        /// How large the pending event had grown when the cap was hit (always
        /// more than `limit`; the exact figure depends on how the input was
        /// chunked).
        size: usize,
    },
}

/// Errors produced by the stream returned from [`events`].
#[derive(Debug, thiserror::Error)]
pub enum SseStreamError<E> {
    /// The event stream itself was invalid (an event was too large).
    #[error(transparent)]
    Parse(#[from] SseError),
    /// The underlying byte stream failed.
    #[error("error reading the event stream: {0}")]
    Transport(#[source] E),
}

/// Which field the line being read sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Data,
    Event,
    Id,
    Retry,
    /// Comments and unknown fields.
    Ignore,
}

impl Field {
    fn from_name(name: &[u8]) -> Self {
        match name {
            b"data" => Field::Data,
            b"event" => Field::Event,
            b"id" => Field::Id,
            b"retry" => Field::Retry,
            _ => Field::Ignore,
        }
    }
}

/// State of a line that has started but whose end has not been seen yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// No line is in progress.
    Idle,
    /// Reading the field name (no `:` seen yet); the name is in `partial`.
    Name,
    /// Reading the value of `field`; `strip_space` is true while the byte
    /// after the `:` has not been seen yet.
    Value { field: Field, strip_space: bool },
}

/// Incremental, size-capped WHATWG Server-Sent Events parser.
///
/// Feed it chunks with [`push`](Self::push) in stream order; events are
/// appended to the caller's vector as soon as their terminating empty line
/// is seen. Chunks may split lines, line endings (CR | LF) and the byte-order
/// mark anywhere.
///
/// The size of the pending event is its data buffer (each `data` value plus a
/// newline), its event name, and the part of the current line that has to be
/// kept (a field name, or an `id`/`retry` value). When that would exceed the
/// cap, [`push`](Self::push) returns [`SseError::EventTooLarge`] without
/// growing its buffers past the cap; the parser is then failed for good:
/// later `push` calls return the same error and [`finish`](Self::finish)
/// returns `None`.
#[derive(Debug, Clone)]
pub struct SseParser {
    max: usize,
    /// True until the first byte of the stream has been looked at for a BOM.
    at_start: bool,
    /// How many BOM bytes have been matched so far while `at_start`.
    bom_matched: usize,
    /// The previous chunk ended with CR: skip an LF at the start of the next.
    pending_cr: bool,
    line: Line,
    /// Field name (while `Line::Name`) or `id`/`retry` value being read.
    partial: Vec<u8>,
    data: Vec<u8>,
    event: Vec<u8>,
    block_retry: Option<u64>,
    last_retry: Option<u64>,
    last_id: Option<SseText>,
    /// The name of the last event that had one: the next event with the
    /// same name copies it (inline) or shares it instead of making it anew.
    last_name: Option<SseText>,
    /// Where small dispatched text is copied (see the module docs).
    arena: BytesMut,
    /// `last_id` points into an arena block (copied out at the chunk's end).
    id_in_arena: bool,
    /// Bytes of the chunk being pushed that follow the current line: with
    /// the text at hand, the size of a new arena.
    chunk_left: usize,
    failed: Option<SseError>,
    /// Comment lines seen so far (servers send them as heartbeats).
    comments: u64,
}

impl Default for SseParser {
    /// A parser with [`DEFAULT_MAX_EVENT_BYTES`] as its cap.
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseParser {
    /// A parser that refuses events larger than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            max: max_event_bytes,
            at_start: true,
            bom_matched: 0,
            pending_cr: false,
            line: Line::Idle,
            partial: Vec::new(),
            data: Vec::new(),
            event: Vec::new(),
            block_retry: None,
            last_retry: None,
            last_id: None,
            last_name: None,
            arena: BytesMut::new(),
            id_in_arena: false,
            chunk_left: 0,
            failed: None,
            comments: 0,
        }
    }

    /// How many comment lines (`: ...`, typically heartbeats) the stream has
    /// carried so far. Comments never become events; this lets a caller see
    /// that a quiet stream is still alive.
    pub fn comments_seen(&self) -> u64 {
        self.comments
    }

    /// The last event id set by the stream (what a reconnecting client would
    /// send as `Last-Event-ID`).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_ref().map(SseText::as_str)
    }

    /// The most recent valid `retry` value seen on the stream, in
    /// milliseconds, whether or not its block dispatched an event.
    pub fn retry(&self) -> Option<u64> {
        self.last_retry
    }

    /// Feed a chunk; dispatched events are appended to `out`.
    ///
    /// On error, events completed earlier in the same chunk have already been
    /// appended to `out`; the parser is failed from then on.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.push_inner(chunk, out);
        match &result {
            Err(err) => self.fail(err.clone()),
            Ok(()) => self.release(),
        }
        result
    }

    /// At the end of a chunk, let go of what would otherwise stay allocated
    /// while the stream is quiet: the arena (its block then lives only as
    /// long as the events in it), the buffers when no event is pending, the
    /// cached event name, and the arena block the last id points into.
    fn release(&mut self) {
        self.arena = BytesMut::new();
        self.last_name = None;
        if self.line == Line::Idle && self.data.is_empty() && self.event.is_empty() {
            self.data = Vec::new();
            self.event = Vec::new();
            self.partial = Vec::new();
        }
        if std::mem::take(&mut self.id_in_arena) {
            if let Some(id) = &self.last_id {
                let copy = Bytes::copy_from_slice(id.as_bytes());
                self.last_id = Some(SseText(Repr::Shared(copy)));
            }
        }
    }

    /// End of stream.
    ///
    /// Per WHATWG, an event that was not terminated by an empty line is
    /// discarded at the end of the stream. For tolerant callers this instead
    /// completes the pending block (treating an unterminated last line as a
    /// complete line) and returns it if it has data; our job lifecycle treats
    /// such a tail as data the server meant to send. Returns `None` when there
    /// is nothing pending, or when the parser has failed.
    ///
    /// Afterwards the parser is ready for a new stream (a BOM is accepted
    /// again); the last event id and retry value are kept.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.failed.is_some() {
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        if self.at_start && self.bom_matched > 0 {
            // A BOM prefix that never completed is ordinary line content.
            let held = self.bom_matched;
            self.at_start = false;
            ok = self.feed(&BOM[..held], &mut out).is_ok();
        }
        if ok && self.line != Line::Idle {
            ok = self.end_partial_line(&mut out).is_ok();
        }
        let event = if ok {
            // `out` is empty here: an unterminated line can never dispatch.
            self.dispatch(&mut out);
            out.pop()
        } else {
            None
        };
        let (last_id, last_retry) = (self.last_id.take(), self.last_retry);
        // Drops the arena and the buffers with it.
        *self = SseParser::new(self.max);
        self.last_id = last_id;
        self.last_retry = last_retry;
        event
    }

    fn fail(&mut self, err: SseError) {
        self.failed = Some(err);
        self.line = Line::Idle;
        self.partial = Vec::new();
        self.data = Vec::new();
        self.event = Vec::new();
        self.arena = BytesMut::new();
        self.last_name = None;
    }

    fn push_inner(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.at_start {
            let need = &BOM[self.bom_matched.min(BOM.len())..];
            let n = need.len().min(chunk.len());
            if chunk[..n] == need[..n] {
                if n < need.len() {
                    // The chunk ended inside a (possible) BOM.
                    self.bom_matched += n;
                    return Ok(());
                }
                chunk = &chunk[n..];
                self.at_start = false;
            } else {
                // Not a BOM after all: the bytes held so far are content.
                self.at_start = false;
                let held = self.bom_matched.min(BOM.len());
                self.feed(&BOM[..held], out)?;
            }
            self.bom_matched = 0;
        }
        self.feed(chunk, out)
    }

    /// Split `chunk` into lines and process them.
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut rest = chunk;
        if self.pending_cr {
            match rest.first() {
                None => return Ok(()),
                Some(&b) => {
                    self.pending_cr = false;
                    if b == b'\n' {
                        rest = &rest[1..];
                    }
                }
            }
        }
        while !rest.is_empty() {
            let Some(i) = line_end(rest) else {
                self.partial_segment(rest)?;
                break;
            };
            let line = &rest[..i];
            let terminator = rest[i];
            rest = &rest[i + 1..];
            self.chunk_left = rest.len();
            if self.line == Line::Idle {
                self.process_line(line, out)?;
            } else {
                self.partial_segment(line)?;
                self.end_partial_line(out)?;
            }
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
        }
        Ok(())
    }

    /// Fail if the pending event plus `extra` more bytes exceeds the cap.
    #[inline]
    fn check(&self, extra: usize) -> Result<(), SseError> {
        let size = self
            .data
            .len()
            .saturating_add(self.event.len())
            .saturating_add(extra);
        if size > self.max {
            Err(SseError::EventTooLarge {
                limit: self.max,
                size,
            })
        } else {
            Ok(())
        }
    }

    /// A complete line that arrived within one chunk.
    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        // The usual fields, recognised without looking for the colon (the
        // first colon of such a line is right after the name).
        let (field, value) = match known_field(line) {
            Some((field, colon)) => {
                self.check(colon)?;
                let value = &line[colon + 1..];
                (field, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => self.split_line(line)?,
        };
        // The whole value is at hand: act on it without copying it into
        // `partial` first (same checks as `begin_field`, `append_value`
        // and `end_field` in turn).
        match field {
            Field::Data => {
                self.check(value.len().saturating_add(1))?;
                append_capped(&mut self.data, value, self.max);
                append_capped(&mut self.data, b"\n", self.max);
            }
            Field::Event => {
                self.event.clear();
                self.check(value.len())?;
                append_capped(&mut self.event, value, self.max);
            }
            Field::Id => {
                self.check(value.len())?;
                self.set_id(value);
            }
            Field::Retry => {
                self.check(value.len())?;
                self.set_retry(value);
            }
            Field::Ignore => {}
        }
        Ok(())
    }

    /// An `id` value: the last event id, unless it holds a NUL.
    #[inline]
    fn set_id(&mut self, value: &[u8]) {
        if !value.contains(&0) {
            let id = Arena {
                buf: &mut self.arena,
                room: self.chunk_left,
                cap: self.max,
            }
            .text(value);
            self.id_in_arena = matches!(id.0, Repr::Shared(_));
            self.last_id = Some(id);
        }
    }

    /// A `retry` value: kept if it is a number.
    fn set_retry(&mut self, value: &[u8]) {
        if let Some(ms) = parse_retry(value) {
            self.block_retry = Some(ms);
            self.last_retry = Some(ms);
        }
    }

    /// The field and value of a line, in general.
    fn split_line<'l>(&mut self, line: &'l [u8]) -> Result<(Field, &'l [u8]), SseError> {
        Ok(match memchr::memchr(b':', line) {
            Some(colon) => {
                if colon == 0 {
                    self.comments += 1;
                }
                self.check(colon)?;
                let value = &line[colon + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (Field::from_name(&line[..colon]), value)
            }
            None => {
                self.check(line.len())?;
                (Field::from_name(line), &b""[..])
            }
        })
    }

    /// Part of a line whose end is not in this segment (or is handled by the
    /// caller right after).
    fn partial_segment(&mut self, mut seg: &[u8]) -> Result<(), SseError> {
        if seg.is_empty() {
            return Ok(());
        }
        if matches!(self.line, Line::Idle | Line::Name) {
            let Some(colon) = memchr::memchr(b':', seg) else {
                self.check(self.partial.len().saturating_add(seg.len()))?;
                append_capped(&mut self.partial, seg, self.max);
                self.line = Line::Name;
                return Ok(());
            };
            self.check(self.partial.len().saturating_add(colon))?;
            if colon == 0 && self.partial.is_empty() {
                self.comments += 1;
            }
            let field = if self.partial.is_empty() {
                Field::from_name(&seg[..colon])
            } else {
                append_capped(&mut self.partial, &seg[..colon], self.max);
                Field::from_name(&self.partial)
            };
            self.partial.clear();
            self.begin_field(field);
            self.line = Line::Value {
                field,
                strip_space: true,
            };
            seg = &seg[colon + 1..];
        }
        if let Line::Value { field, strip_space } = self.line {
            if strip_space {
                let Some(&first) = seg.first() else {
                    return Ok(());
                };
                if first == b' ' {
                    seg = &seg[1..];
                }
                self.line = Line::Value {
                    field,
                    strip_space: false,
                };
            }
            self.append_value(field, seg)?;
        }
        Ok(())
    }

    /// The end of a line that was built up by `partial_segment`.
    fn end_partial_line(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let line = std::mem::replace(&mut self.line, Line::Idle);
        match line {
            Line::Idle => {
                self.dispatch(out);
                Ok(())
            }
            Line::Name => {
                // A field name without a colon: the value is empty.
                let field = Field::from_name(&self.partial);
                self.partial.clear();
                self.begin_field(field);
                self.end_field(field)
            }
            Line::Value { field, .. } => self.end_field(field),
        }
    }

    #[inline]
    fn begin_field(&mut self, field: Field) {
        match field {
            Field::Event => self.event.clear(),
            Field::Id | Field::Retry => self.partial.clear(),
            Field::Data | Field::Ignore => {}
        }
    }

    #[inline]
    fn append_value(&mut self, field: Field, value: &[u8]) -> Result<(), SseError> {
        match field {
            Field::Data => {
                self.check(value.len())?;
                append_capped(&mut self.data, value, self.max);
            }
            Field::Event => {
                self.check(value.len())?;
                append_capped(&mut self.event, value, self.max);
            }
            Field::Id | Field::Retry => {
                self.check(self.partial.len().saturating_add(value.len()))?;
                append_capped(&mut self.partial, value, self.max);
            }
            Field::Ignore => {}
        }
        Ok(())
    }

    fn end_field(&mut self, field: Field) -> Result<(), SseError> {
        match field {
            Field::Data => {
                self.check(1)?;
                append_capped(&mut self.data, b"\n", self.max);
            }
            Field::Id => {
                let partial = std::mem::take(&mut self.partial);
                self.set_id(&partial);
                self.partial = partial;
                self.partial.clear();
            }
            Field::Retry => {
                let partial = std::mem::take(&mut self.partial);
                self.set_retry(&partial);
                self.partial = partial;
                self.partial.clear();
            }
            Field::Event | Field::Ignore => {}
        }
        Ok(())
    }

    /// Handle an empty line: dispatch the pending event, if it has data.
    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let retry = self.block_retry.take();
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        if self.data.last() == Some(&b'\n') {
            self.data.pop();
        }
        let data = if self.data.len() >= OWN_BUFFER_BYTES {
            // Hand the buffer over without copying; the next event likely
            // has a similar size, so start its buffer with that capacity
            // (bounded, so a single big event doesn't pin a big allocation).
            let hint = self.data.len().min(MAX_ARENA_BYTES);
            let data = std::mem::replace(&mut self.data, Vec::with_capacity(hint));
            SseText::from_utf8_lossy(Bytes::from(data))
        } else {
            let text = Arena {
                buf: &mut self.arena,
                room: self.chunk_left,
                cap: self.max,
            }
            .text(&self.data);
            self.data.clear();
            text
        };
        let event = if self.event.is_empty() {
            MESSAGE
        } else {
            let name = match &self.last_name {
                Some(last) if last.as_bytes() == self.event.as_slice() => last.clone(),
                _ => {
                    let name = Arena {
                        buf: &mut self.arena,
                        room: self.chunk_left,
                        cap: self.max,
                    }
                    .text(&self.event);
                    self.last_name = Some(name.clone());
                    name
                }
            };
            self.event.clear();
            name
        };
        out.push(SseEvent {
            event,
            data,
            id: self.last_id.clone(),
            retry,
        });
    }
}

/// Where the parser copies dispatched text, and how much more the chunk
/// being parsed may still need.
struct Arena<'a> {
    buf: &'a mut BytesMut,
    /// The bytes of the chunk after the current line.
    room: usize,
    /// The event cap.
    cap: usize,
}

impl Arena<'_> {
    /// `bytes` as text, decoded lossily: short valid UTF-8 is stored inline,
    /// longer is copied into the arena. A new arena holds this text and the
    /// rest of the chunk (which may hold more events), within
    /// `MAX_ARENA_BYTES` and the event cap.
    #[inline(always)]
    fn text(self, bytes: &[u8]) -> SseText {
        if std::str::from_utf8(bytes).is_err() {
            return lossy(bytes);
        }
        if bytes.len() <= SseText::INLINE_BYTES {
            return SseText::inline(bytes);
        }
        if self.buf.capacity() < bytes.len() {
            *self.buf = new_arena(bytes.len(), self.room, self.cap);
        }
        self.buf.extend_from_slice(bytes);
        let text = SseText(Repr::Shared(self.buf.split().freeze()));
        if self.buf.capacity() == 0 {
            // Full: let the block go with the last event that holds it.
            *self.buf = BytesMut::new();
        }
        text
    }
}

/// Invalid UTF-8 with U+FFFD in place of each bad sequence.
#[cold]
fn lossy(bytes: &[u8]) -> SseText {
    SseText::from(String::from_utf8_lossy(bytes).into_owned())
}

/// An arena for `len` bytes of text and `room` more, within
/// `MAX_ARENA_BYTES` and the event cap (but at least `len`).
#[cold]
fn new_arena(len: usize, room: usize, cap: usize) -> BytesMut {
    let size = len.saturating_add(room).min(MAX_ARENA_BYTES).min(cap);
    BytesMut::with_capacity(len.max(size))
}

/// The position of the first CR or LF in `hay`. Most lines are short: the
/// first 16 bytes are looked at a word at a time, in registers, before
/// `memchr` (fast on long lines, but a call with set-up costs) takes over.
#[inline(always)]
fn line_end(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    /// The high bit of each byte of `w` that is zero (and maybe of bytes
    /// above the lowest zero byte: only the lowest set bit is exact).
    #[inline(always)]
    fn zero_bytes(w: u64) -> u64 {
        w.wrapping_sub(LO) & !w & HI
    }
    let mut at = 0;
    while at < 16 {
        let Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) = hay.get(at..at + 8) else {
            break;
        };
        let w = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
        let found =
            zero_bytes(w ^ (LO * u64::from(b'\n'))) | zero_bytes(w ^ (LO * u64::from(b'\r')));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr2(b'\r', b'\n', hay.get(at..)?).map(|i| at + i)
}

/// The field of a line that starts with `data:`, `event:`, `id:` or
/// `retry:`, and the position of that colon.
#[inline]
fn known_field(line: &[u8]) -> Option<(Field, usize)> {
    match line {
        [b'd', b'a', b't', b'a', b':', ..] => Some((Field::Data, 4)),
        [b'e', b'v', b'e', b'n', b't', b':', ..] => Some((Field::Event, 5)),
        [b'i', b'd', b':', ..] => Some((Field::Id, 2)),
        [b'r', b'e', b't', b'r', b'y', b':', ..] => Some((Field::Retry, 5)),
        _ => None,
    }
}

/// Append `bytes` to `buf`, growing it geometrically but never past `max`
/// (the caller has already checked that the result fits the cap).
#[inline]
fn append_capped(buf: &mut Vec<u8>, bytes: &[u8], max: usize) {
    let needed = buf.len().saturating_add(bytes.len());
    if needed > buf.capacity() {
        let target = buf
            .capacity()
            .saturating_mul(2)
            .max(needed)
            .min(max.max(needed));
        buf.reserve_exact(target - buf.len());
    }
    buf.extend_from_slice(bytes);
}

/// A `retry` value: one or more ASCII digits that fit in a `u64`.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// What [`items`] yields: an event, or news that the stream is alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event.
    Event(SseEvent),
    /// The chunk just read carried comment lines (`: ping`): the server is
    /// alive but has nothing to say. One per chunk, before its events.
    Heartbeat,
}

/// Adapt a byte stream (such as reqwest's `bytes_stream()`) into a stream of
/// events, each at most `max_event_bytes` large.
///
/// When the byte stream ends cleanly, an unterminated last event is still
/// yielded (see [`SseParser::finish`]). After an error (a transport error, or
/// an event over the cap) the stream yields that error once and then ends;
/// events completed before the error are yielded first, and an unterminated
/// event is dropped.
pub fn events<S, E>(
    stream: S,
    max_event_bytes: usize,
) -> impl Stream<Item = Result<SseEvent, SseStreamError<E>>>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    EventStream(ItemStream::new(stream, max_event_bytes, false))
}

/// The stream behind [`events`]: [`ItemStream`] without heartbeats (it makes
/// none when asked not to; any would be skipped).
struct EventStream<S, E>(ItemStream<S, E>);

impl<S, E> Stream for EventStream<S, E>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<SseEvent, SseStreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let inner = &mut self.get_mut().0;
        loop {
            return match Pin::new(&mut *inner).poll_next(cx) {
                Poll::Ready(Some(Ok(SseItem::Event(event)))) => Poll::Ready(Some(Ok(event))),
                Poll::Ready(Some(Ok(SseItem::Heartbeat))) => continue,
                Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

/// [`events`], with a [`SseItem::Heartbeat`] for each chunk that carried
/// comments: what the lifecycle reads, so a caller sees a live but quiet stream.
pub fn items<S, E>(
    stream: S,
    max_event_bytes: usize,
) -> impl Stream<Item = Result<SseItem, SseStreamError<E>>>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    ItemStream::new(stream, max_event_bytes, true)
}

/// The stream behind [`events`] and [`items`].
struct ItemStream<S, E> {
    inner: Pin<Box<S>>,
    parser: SseParser,
    /// The events of the last chunk not yet yielded; its buffer is let go
    /// once empty.
    pending: std::vec::IntoIter<SseEvent>,
    /// A heartbeat to yield before `pending`.
    heartbeat: bool,
    error: Option<SseStreamError<E>>,
    done: bool,
    heartbeats: bool,
    comments: u64,
}

impl<S, E> ItemStream<S, E> {
    fn new(stream: S, max_event_bytes: usize, heartbeats: bool) -> Self {
        ItemStream {
            inner: Box::pin(stream),
            parser: SseParser::new(max_event_bytes),
            pending: Vec::new().into_iter(),
            heartbeat: false,
            error: None,
            done: false,
            heartbeats,
            comments: 0,
        }
    }
}

// No field is ever pinned in place (the inner stream lives in its own box).
impl<S, E> Unpin for ItemStream<S, E> {}

impl<S, E> Stream for ItemStream<S, E>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<SseItem, SseStreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if std::mem::take(&mut this.heartbeat) {
                return Poll::Ready(Some(Ok(SseItem::Heartbeat)));
            }
            if let Some(event) = this.pending.next() {
                if this.pending.len() == 0 {
                    // Hold nothing while the stream is quiet.
                    this.pending = Vec::new().into_iter();
                }
                return Poll::Ready(Some(Ok(SseItem::Event(event))));
            }
            if let Some(err) = this.error.take() {
                return Poll::Ready(Some(Err(err)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    let mut batch = Vec::new();
                    let result = this.parser.push(&chunk, &mut batch);
                    this.pending = batch.into_iter();
                    if this.heartbeats && this.parser.comments_seen() > this.comments {
                        this.comments = this.parser.comments_seen();
                        this.heartbeat = true;
                    }
                    if let Err(err) = result {
                        this.error = Some(SseStreamError::Parse(err));
                        this.done = true;
                    }
                }
                Poll::Ready(Some(Err(err))) => {
                    this.error = Some(SseStreamError::Transport(err));
                    this.done = true;
                }
                Poll::Ready(None) => {
                    this.done = true;
                    this.pending = this
                        .parser
                        .finish()
                        .into_iter()
                        .collect::<Vec<_>>()
                        .into_iter();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str, id: Option<&str>, retry: Option<u64>) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.map(SseText::from),
            retry,
        }
    }

    fn msg(data: &str) -> SseEvent {
        ev("message", data, None, None)
    }

    /// Feed `chunks` in order and collect the events.
    fn parse_chunks(max: usize, chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut parser = SseParser::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out)?;
        }
        Ok(out)
    }

    fn parse(input: &[u8]) -> Vec<SseEvent> {
        match parse_chunks(DEFAULT_MAX_EVENT_BYTES, &[input]) {
            Ok(events) => events,
            Err(err) => panic!("unexpected error: {err}"),
        }
    }

    /// Feed the whole input, then `finish`; returns (events, error?, tail).
    fn run(max: usize, chunks: &[&[u8]]) -> (Vec<SseEvent>, bool, Option<SseEvent>) {
        let mut parser = SseParser::new(max);
        let mut out = Vec::new();
        let mut failed = false;
        for chunk in chunks {
            if parser.push(chunk, &mut out).is_err() {
                failed = true;
                break;
            }
        }
        let tail = parser.finish();
        (out, failed, tail)
    }

    #[test]
    fn lf_line_endings() {
        assert_eq!(parse(b"data: a\n\ndata: b\n\n"), vec![msg("a"), msg("b")]);
    }

    #[test]
    fn crlf_line_endings() {
        assert_eq!(
            parse(b"data: a\r\n\r\ndata: b\r\n\r\n"),
            vec![msg("a"), msg("b")]
        );
    }

    #[test]
    fn cr_line_endings() {
        assert_eq!(parse(b"data: a\r\rdata: b\r\r"), vec![msg("a"), msg("b")]);
    }

    #[test]
    fn mixed_line_endings() {
        assert_eq!(
            parse(b"data: a\rdata: b\ndata: c\r\n\r\n"),
            vec![msg("a\nb\nc")]
        );
    }

    #[test]
    fn cr_at_chunk_end_then_lf_is_one_line_end() {
        let events = parse_chunks(100, &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(events, Ok(vec![msg("a\nb")]));
    }

    #[test]
    fn cr_at_chunk_end_then_other_byte() {
        let events = parse_chunks(100, &[b"data: a\r", b"data: b\r", b"\r"]);
        assert_eq!(events, Ok(vec![msg("a\nb")]));
    }

    #[test]
    fn cr_at_chunk_end_survives_empty_chunks() {
        let events = parse_chunks(100, &[b"data: a\r", b"", b"", b"\n\n"]);
        assert_eq!(events, Ok(vec![msg("a")]));
    }

    #[test]
    fn line_split_over_many_chunks() {
        let events = parse_chunks(
            100,
            &[b"da", b"t", b"a", b":", b" ", b"hel", b"lo", b"\n", b"\n"],
        );
        assert_eq!(events, Ok(vec![msg("hello")]));
    }

    #[test]
    fn bom_is_skipped_at_stream_start() {
        assert_eq!(parse(b"\xEF\xBB\xBFdata: a\n\n"), vec![msg("a")]);
    }

    #[test]
    fn bom_split_across_chunks() {
        let events = parse_chunks(100, &[b"\xEF", b"\xBB", b"\xBF", b"data: a\n\n"]);
        assert_eq!(events, Ok(vec![msg("a")]));
        let events = parse_chunks(100, &[b"\xEF\xBB", b"\xBFdata: a\n\n"]);
        assert_eq!(events, Ok(vec![msg("a")]));
        let events = parse_chunks(100, &[b"", b"\xEF", b"", b"\xBB\xBFdata: a\n\n"]);
        assert_eq!(events, Ok(vec![msg("a")]));
    }

    #[test]
    fn only_one_bom_is_skipped() {
        // A second BOM right after the first is part of the field name.
        assert_eq!(
            parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n"),
            vec![msg("b")]
        );
    }

    #[test]
    fn later_bom_is_data() {
        assert_eq!(
            parse(b"data: a\n\ndata: \xEF\xBB\xBFb\n\n"),
            vec![msg("a"), msg("\u{FEFF}b")]
        );
    }

    #[test]
    fn partial_bom_prefix_is_content() {
        // EF BB followed by something else: the held bytes are replayed as
        // line content (a field name that is not "data").
        let events = parse_chunks(100, &[b"\xEF\xBB", b"data: a\n\ndata: b\n\n"]);
        assert_eq!(events, Ok(vec![msg("b")]));
        // And a lone EF at the start of a data value stays.
        let events = parse_chunks(100, &[b"\xEF", b"\n"]);
        assert_eq!(events, Ok(vec![]));
    }

    #[test]
    fn multi_line_data() {
        assert_eq!(
            parse(b"data: one\ndata: two\ndata:three\n\n"),
            vec![msg("one\ntwo\nthree")]
        );
    }

    #[test]
    fn comments_are_counted_split_or_whole() {
        for split in 0..=12 {
            let input = b": heartbeat\n:x\ndata: a\n\n";
            let mut p = SseParser::new(1024);
            let mut out = Vec::new();
            p.push(&input[..split], &mut out).unwrap();
            p.push(&input[split..], &mut out).unwrap();
            assert_eq!(p.comments_seen(), 2, "split at {split}");
            assert_eq!(out.len(), 1);
        }
    }

    #[test]
    fn comments_are_ignored() {
        assert_eq!(
            parse(b": keep-alive\n:\ndata: a\n: in the middle\ndata: b\n\n:tail\n\n"),
            vec![msg("a\nb")]
        );
    }

    #[test]
    fn event_names() {
        assert_eq!(
            parse(b"event: progress\ndata: 1\n\ndata: 2\n\nevent: a\nevent: b\ndata: 3\n\n"),
            vec![
                ev("progress", "1", None, None),
                msg("2"),
                ev("b", "3", None, None)
            ]
        );
        // An empty event name means "message".
        assert_eq!(parse(b"event:\ndata: x\n\n"), vec![msg("x")]);
    }

    #[test]
    fn event_name_without_data_is_reset() {
        assert_eq!(parse(b"event: lonely\n\ndata: x\n\n"), vec![msg("x")]);
    }

    #[test]
    fn id_persists_and_nul_is_rejected() {
        assert_eq!(
            parse(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\x003\ndata: c\n\nid\ndata: d\n\n"),
            vec![
                ev("message", "a", Some("1"), None),
                ev("message", "b", Some("1"), None),
                ev("message", "c", Some("1"), None),
                ev("message", "d", Some(""), None),
            ]
        );
        let mut parser = SseParser::new(100);
        let mut out = Vec::new();
        assert_eq!(parser.push(b"id: 7\n\n", &mut out), Ok(()));
        assert!(out.is_empty());
        assert_eq!(parser.last_event_id(), Some("7"));
    }

    #[test]
    fn retry_parsing() {
        assert_eq!(
            parse(
                b"retry: 1500\ndata: a\n\ndata: b\n\nretry: 12x\ndata: c\n\nretry:\ndata: d\n\n\
                  retry: 99999999999999999999999\ndata: e\n\nretry: -1\ndata: f\n\nretry:7\ndata: g\n\n"
            ),
            vec![
                ev("message", "a", None, Some(1500)),
                msg("b"),
                msg("c"),
                msg("d"),
                msg("e"),
                msg("f"),
                ev("message", "g", None, Some(7)),
            ]
        );
    }

    #[test]
    fn retry_without_data_is_remembered_but_not_dispatched() {
        let mut parser = SseParser::new(100);
        let mut out = Vec::new();
        assert_eq!(parser.push(b"retry: 250\n\ndata: x\n\n", &mut out), Ok(()));
        assert_eq!(out, vec![msg("x")]);
        assert_eq!(parser.retry(), Some(250));
    }

    #[test]
    fn empty_data_dispatch_rules() {
        // Empty line with nothing pending: nothing.
        assert_eq!(parse(b"\n\n\n"), vec![]);
        // `data` with an empty value dispatches an empty string.
        assert_eq!(parse(b"data\n\n"), vec![msg("")]);
        assert_eq!(parse(b"data:\n\n"), vec![msg("")]);
        // Two empty data lines give one newline.
        assert_eq!(parse(b"data\ndata\n\n"), vec![msg("\n")]);
        // Only one trailing newline is stripped.
        assert_eq!(parse(b"data: a\ndata:\n\n"), vec![msg("a\n")]);
    }

    #[test]
    fn field_without_colon() {
        assert_eq!(parse(b"data\n\n"), vec![msg("")]);
        assert_eq!(parse(b"event\ndata: x\n\n"), vec![msg("x")]);
        assert_eq!(parse(b"unknown\ndata: x\n\n"), vec![msg("x")]);
    }

    #[test]
    fn value_space_handling() {
        assert_eq!(parse(b"data:a\n\n"), vec![msg("a")]);
        assert_eq!(parse(b"data: a\n\n"), vec![msg("a")]);
        assert_eq!(parse(b"data:  a \n\n"), vec![msg(" a ")]);
        assert_eq!(parse(b"data: a:b: c\n\n"), vec![msg("a:b: c")]);
        assert_eq!(
            parse(b"event:  x\ndata: y\n\n"),
            vec![ev(" x", "y", None, None)]
        );
    }

    #[test]
    fn unknown_fields_are_ignored() {
        assert_eq!(
            parse(b"foo: bar\nData: no\ndata: yes\n\n"),
            vec![msg("yes")]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(
            parse(b"event: \xFFe\ndata: a\xC3\n\n"),
            vec![ev("\u{FFFD}e", "a\u{FFFD}", None, None)]
        );
    }

    #[test]
    fn cap_exceeded_by_one_huge_line() {
        let mut input = b"data: ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend_from_slice(b"\n\n");
        let mut parser = SseParser::new(100);
        let mut out = Vec::new();
        let err = parser.push(&input, &mut out);
        assert!(matches!(err, Err(SseError::EventTooLarge { limit: 100, size }) if size > 100));
        assert!(out.is_empty());
        // Streamed in small chunks the buffers never grow past the cap.
        let mut parser = SseParser::new(100);
        let mut result = Ok(());
        for chunk in input.chunks(7) {
            result = parser.push(chunk, &mut out);
            assert!(parser.data.len() + parser.event.len() + parser.partial.len() <= 100);
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
        // The parser stays failed.
        assert!(parser.push(b"data: x\n\n", &mut out).is_err());
        assert_eq!(parser.finish(), None);
        assert!(out.is_empty());
    }

    #[test]
    fn cap_exceeded_by_many_small_lines() {
        let input = b"data: 0123456789\n".repeat(20);
        let mut parser = SseParser::new(100);
        let mut out = Vec::new();
        let err = parser.push(&input, &mut out);
        assert!(matches!(
            err,
            Err(SseError::EventTooLarge { limit: 100, .. })
        ));
        assert!(parser.data.capacity() <= 100);
    }

    #[test]
    fn cap_counts_a_huge_field_name_and_event_name() {
        let mut out = Vec::new();
        let long_name = vec![b'n'; 200];
        assert!(SseParser::new(100).push(&long_name, &mut out).is_err());
        let mut line = b"event: ".to_vec();
        line.extend(std::iter::repeat_n(b'e', 200));
        assert!(SseParser::new(100).push(&line, &mut out).is_err());
        let mut line = b": ".to_vec();
        line.extend(std::iter::repeat_n(b'c', 200));
        line.extend_from_slice(b"\ndata: ok\n\n");
        // Comments are not buffered, so a long comment is fine.
        assert_eq!(SseParser::new(100).push(&line, &mut out), Ok(()));
        assert_eq!(out, vec![msg("ok")]);
    }

    #[test]
    fn cap_exactly_at_limit_is_allowed() {
        // 99 bytes of value + the newline = 100 bytes buffered.
        let mut input = b"data: ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 99));
        input.extend_from_slice(b"\n\n");
        let events = parse_chunks(100, &[&input]);
        assert_eq!(events.map(|e| e[0].data.len()), Ok(99));
        // One more byte is too many.
        assert!(parse_chunks(99, &[&input]).is_err());
        // Data + event name together.
        let input = b"event: abcde\ndata: 0123\n\n";
        assert_eq!(
            parse_chunks(10, &[input]),
            Ok(vec![ev("abcde", "0123", None, None)])
        );
        assert!(parse_chunks(9, &[input]).is_err());
    }

    #[test]
    fn events_before_an_error_are_kept() {
        let mut out = Vec::new();
        let mut parser = SseParser::new(10);
        let result = parser.push(b"data: a\n\ndata: 0123456789abc\n\n", &mut out);
        assert!(result.is_err());
        assert_eq!(out, vec![msg("a")]);
    }

    #[test]
    fn finish_without_pending_data() {
        let mut parser = SseParser::new(100);
        let mut out = Vec::new();
        assert_eq!(
            parser.push(b"data: a\n\nevent: x\n: c\nid: 3\n", &mut out),
            Ok(())
        );
        assert_eq!(parser.finish(), None);
        assert_eq!(SseParser::new(100).finish(), None);
    }

    #[test]
    fn finish_with_pending_data() {
        let (events, failed, tail) = run(100, &[b"id: 5\ndata: a\n\nevent: done\ndata: b\n"]);
        assert!(!failed);
        assert_eq!(events, vec![ev("message", "a", Some("5"), None)]);
        assert_eq!(tail, Some(ev("done", "b", Some("5"), None)));
        // An unterminated last line counts as a line.
        let (_, _, tail) = run(100, &[b"data: a\ndata: b"]);
        assert_eq!(tail, Some(msg("a\nb")));
        let (_, _, tail) = run(100, &[b"data: a\r"]);
        assert_eq!(tail, Some(msg("a")));
        let (_, _, tail) = run(100, &[b"data"]);
        assert_eq!(tail, Some(msg("")));
    }

    #[test]
    fn finish_resets_for_a_new_stream() {
        let mut parser = SseParser::new(100);
        let mut out = Vec::new();
        assert_eq!(parser.push(b"id: 9\ndata: a", &mut out), Ok(()));
        assert_eq!(parser.finish(), Some(ev("message", "a", Some("9"), None)));
        assert_eq!(parser.push(b"\xEF\xBB\xBFdata: b\n\n", &mut out), Ok(()));
        assert_eq!(out, vec![ev("message", "b", Some("9"), None)]);
    }

    #[test]
    fn finish_with_only_a_partial_bom() {
        let (events, failed, tail) = run(100, &[b"\xEF\xBB"]);
        assert_eq!((events, failed, tail), (vec![], false, None));
    }

    #[test]
    fn text_of_every_length_round_trips_inline_or_shared() {
        let source = "aé€😀bcdefghijklmnopqrstuvwxyz0123456789";
        for end in (0..=source.len()).filter(|&i| source.is_char_boundary(i)) {
            let want = &source[..end];
            let inline = SseText::from(want);
            assert_eq!(
                matches!(inline.0, Repr::Inline(_)),
                end <= SseText::INLINE_BYTES,
                "{want:?}"
            );
            let shared = SseText::from_utf8_lossy(Bytes::copy_from_slice(want.as_bytes()));
            assert!(matches!(shared.0, Repr::Shared(_)));
            for text in [&inline, &shared, &SseText::from(want.to_string())] {
                assert_eq!(text.as_str(), want);
                assert_eq!(text.len(), want.len());
                assert_eq!(text.clone(), *want);
                assert_eq!(text.clone().into_bytes(), want.as_bytes());
                assert_eq!(String::from(text.clone()), want);
            }
            // Inline and shared forms of one text are equal, hash and order alike.
            assert_eq!(inline, shared);
            assert_eq!(inline.cmp(&shared), std::cmp::Ordering::Equal);
            use std::hash::BuildHasher;
            let state = std::collections::hash_map::RandomState::new();
            assert_eq!(state.hash_one(&inline), state.hash_one(&shared));
            assert_eq!(state.hash_one(&inline), state.hash_one(want));
        }
        assert_eq!(SseText::default(), "");
        // Ordering is by text, across the inline and shared forms.
        let (a, b) = (SseText::from("a"), SseText::from_static("b"));
        assert!(a < b);
        assert_eq!(b.cmp(&a), std::cmp::Ordering::Greater);
        let long = SseText::from("z".repeat(40));
        assert!(matches!(long.0, Repr::Shared(_)) && a < long && long > b);
        // Lossy text of every length is made the same way by the parser.
        for n in 0..40 {
            let mut line = b"id: ".to_vec();
            line.extend(std::iter::repeat_n(b'x', n));
            line.push(0xFF);
            line.extend_from_slice(b"\ndata: d\n\n");
            let want = format!("{}\u{FFFD}", "x".repeat(n));
            assert_eq!(parse(&line), vec![ev("message", "d", Some(&want), None)]);
        }
    }

    #[test]
    fn line_end_finds_the_first_cr_or_lf_anywhere() {
        for len in 0..48 {
            for pos in 0..=len {
                for byte in [b'\n', b'\r'] {
                    let mut hay = vec![b'a'; len];
                    // Bytes that differ from CR/LF by one bit, around the target.
                    for (i, b) in hay.iter_mut().enumerate() {
                        *b = [b'a', 0x0B, 0x0C, 0x8A, 0x8D, 0x00][i % 6];
                    }
                    if pos < len {
                        hay[pos] = byte;
                        // A later CR or LF does not matter.
                        if pos + 1 < len {
                            hay[len - 1] = b'\n';
                        }
                    }
                    let want = hay.iter().position(|&b| b == b'\n' || b == b'\r');
                    assert_eq!(line_end(&hay), want, "len {len}, pos {pos}");
                }
            }
        }
    }

    #[test]
    fn known_field_prefixes_and_near_misses() {
        assert_eq!(
            parse(b"data:a\nevent:e\nid:7\nretry:9\n\n"),
            vec![ev("e", "a", Some("7"), Some(9))]
        );
        assert_eq!(
            parse(b"dataa: x\ndat: x\nevents: e\nidx: 1\nretryy: 5\ndata: y\n\n"),
            vec![msg("y")]
        );
        assert_eq!(
            parse(b"data\nevent\nid\nretry\n\n"),
            vec![ev("message", "", Some(""), None)]
        );
    }

    const SPLIT_INPUTS: &[&[u8]] = &[
        b"data: hello\n\n",
        b"\xEF\xBB\xBFevent: a\r\ndata: 1\r\ndata:2\r\n\r\n: c\r\nid: x\r\ndata\r\r\n",
        b"\xEF\xBBdata: no-bom\n\ndata: \xEF\xBB\xBF\rretry: 10\rdata: r\r\r",
        b"id: 1\x002\nid: 3\ndata: a\n\nevent\ndata:  sp\n\nretry: 5x\ndata: q\r\n\r\ndata: tail",
        b"\r\n\n\r:only comments\r\nfoo\nbar: baz\n\ndata: \xE2\x82\xAC\xFF\ndata:\n\n",
        b"event: big\ndata: 0123456789\ndata: 0123456789\n\ndata: 0123456789012345678901234567890\n\n",
        b"data: 01234567890123456789\nevent: abcdefghijklmnopqrstuvwxyz\n\n",
    ];

    /// Feeding the input split at any one or two positions gives the same
    /// result as feeding it whole — including where a cap error happens.
    #[test]
    fn splitting_anywhere_gives_the_same_events() {
        for max in [DEFAULT_MAX_EVENT_BYTES, 30, 24] {
            for input in SPLIT_INPUTS {
                let whole = run(max, &[input]);
                for i in 0..=input.len() {
                    let (a, b) = input.split_at(i);
                    assert_eq!(run(max, &[a, b]), whole, "split at {i} of {input:?}");
                    for j in i..=input.len() {
                        let (b1, b2) = b.split_at(j - i);
                        assert_eq!(run(max, &[a, b1, b2]), whole, "split at {i},{j}");
                    }
                }
                let bytes: Vec<&[u8]> = input.chunks(1).collect();
                assert_eq!(run(max, &bytes), whole, "byte by byte: {input:?}");
            }
        }
    }

    #[test]
    fn events_adapter_yields_events_then_transport_error() {
        use futures::StreamExt;

        #[derive(Debug, thiserror::Error)]
        #[error("connection reset")]
        struct Reset;

        let chunks: Vec<Result<Bytes, Reset>> = vec![
            Ok(Bytes::from_static(b"data: a\n")),
            Ok(Bytes::from_static(b"\nevent: e\ndata: b\n\ndata: cut")),
            Err(Reset),
            Ok(Bytes::from_static(b"data: never\n\n")),
        ];
        let items: Vec<_> = futures::executor::block_on(
            events(futures::stream::iter(chunks), 1024).collect::<Vec<_>>(),
        );
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], Ok(e) if *e == msg("a")));
        assert!(matches!(&items[1], Ok(e) if *e == ev("e", "b", None, None)));
        match &items[2] {
            Err(err @ SseStreamError::Transport(Reset)) => {
                assert_eq!(
                    err.to_string(),
                    "error reading the event stream: connection reset"
                );
                assert!(std::error::Error::source(err).is_some());
            }
            other => panic!("expected a transport error, got {other:?}"),
        }
    }

    #[test]
    fn events_adapter_is_send_for_send_streams() {
        fn assert_send<T: Send>(_: &T) {}
        let chunks = vec![Ok::<_, std::io::Error>(Bytes::from_static(b"data: a\n\n"))];
        assert_send(&events(futures::stream::iter(chunks), 1024));
    }

    #[test]
    fn events_adapter_yields_tail_at_clean_end() {
        use futures::StreamExt;
        let chunks = vec![
            Ok::<_, std::convert::Infallible>(Bytes::from_static(b"\xEF\xBB")),
            Ok(Bytes::from_static(b"\xBFdata: a\r")),
            Ok(Bytes::from_static(b"\n\r\ndata: tail")),
        ];
        let items: Vec<_> = futures::executor::block_on(
            events(futures::stream::iter(chunks), 1024)
                .map(|r| r.map_err(|e| e.to_string()))
                .collect::<Vec<_>>(),
        );
        assert_eq!(items, vec![Ok(msg("a")), Ok(msg("tail"))]);
    }

    #[test]
    fn events_adapter_reports_too_large_and_ends() {
        use futures::StreamExt;
        let chunks = vec![
            Ok::<_, std::convert::Infallible>(Bytes::from_static(b"data: ok\n\ndata: ")),
            Ok(Bytes::from(vec![b'x'; 64])),
            Ok(Bytes::from_static(b"\n\ndata: after\n\n")),
        ];
        let items: Vec<_> = futures::executor::block_on(
            events(futures::stream::iter(chunks), 32).collect::<Vec<_>>(),
        );
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[0], Ok(e) if *e == msg("ok")));
        match &items[1] {
            Err(err @ SseStreamError::Parse(SseError::EventTooLarge { limit: 32, .. })) => {
                let text = err.to_string();
                assert!(text.contains("32 bytes"), "{text}");
                assert!(text.contains("ClientBuilder::max_event_bytes"), "{text}");
            }
            other => panic!("expected EventTooLarge, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn items_report_a_heartbeat_per_chunk_with_comments_before_its_events() {
        use futures::StreamExt;
        let chunks: Vec<Result<Bytes, std::convert::Infallible>> = vec![
            Ok(Bytes::from_static(b": ping\n\n")),
            Ok(Bytes::from_static(b"data: a\n\n: ping\n")),
            Ok(Bytes::from_static(b"data: b\n\n")),
        ];
        let got: Vec<SseItem> = items(futures::stream::iter(chunks.clone()), 1024)
            .map(|i| i.unwrap())
            .collect()
            .await;
        let names: Vec<String> = got
            .iter()
            .map(|i| match i {
                SseItem::Heartbeat => "heartbeat".to_string(),
                SseItem::Event(e) => e.data.to_string(),
            })
            .collect();
        assert_eq!(names, ["heartbeat", "heartbeat", "a", "b"]);
        // `events` is the same stream without the heartbeats.
        let plain: Vec<String> = events(futures::stream::iter(chunks), 1024)
            .map(|e| e.unwrap().data.to_string())
            .collect()
            .await;
        assert_eq!(plain, ["a", "b"]);
    }
}
