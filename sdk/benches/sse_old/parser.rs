//! A frozen copy of the SSE parser as it was before the small-event work
//! (sdk/src/sse.rs at commit cc7b335, without its stream adapters and tests),
//! so the bench can time old and new side by side in one run.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::{Bytes, BytesMut};

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

/// Text of a dispatched event: UTF-8 held in shared [`Bytes`].
///
/// It dereferences to `str` and compares with `str` and `String`; cloning it
/// bumps a reference count instead of copying. Invalid UTF-8 on the wire was
/// already replaced by U+FFFD when the parser made it, as WHATWG asks.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SseText(Bytes);

impl SseText {
    /// Text of a `'static` string, without a copy.
    pub const fn from_static(text: &'static str) -> Self {
        SseText(Bytes::from_static(text.as_bytes()))
    }

    /// Decodes `bytes` as UTF-8; invalid sequences become U+FFFD (then the
    /// text is a new buffer), valid input is kept as it is, without a copy.
    pub fn from_utf8_lossy(bytes: Bytes) -> Self {
        match std::str::from_utf8(&bytes) {
            Ok(_) => SseText(bytes),
            Err(_) => SseText(Bytes::from(
                String::from_utf8_lossy(&bytes).into_owned().into_bytes(),
            )),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks (or makes) valid UTF-8, and the
        // bytes are never changed afterwards.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The shared buffer, for handing on without a copy.
    pub fn into_bytes(self) -> Bytes {
        self.0
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
    /// Takes the string's buffer without a copy.
    fn from(text: String) -> Self {
        SseText(Bytes::from(text.into_bytes()))
    }
}

impl From<&str> for SseText {
    /// Copies the string.
    fn from(text: &str) -> Self {
        SseText(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<SseText> for String {
    /// Copies the text into a new `String`.
    fn from(text: SseText) -> Self {
        text.as_str().to_owned()
    }
}

impl From<SseText> for Bytes {
    fn from(text: SseText) -> Self {
        text.0
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
    /// same name shares it.
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
                self.last_id = Some(SseText(Bytes::copy_from_slice(id.as_bytes())));
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
            let Some(i) = memchr::memchr2(b'\r', b'\n', rest) else {
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
        let (field, value) = match memchr::memchr(b':', line) {
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
        };
        self.begin_field(field);
        self.append_value(field, value)?;
        self.end_field(field)
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
                if memchr::memchr(0, &self.partial).is_none() {
                    let partial = std::mem::take(&mut self.partial);
                    self.last_id = Some(self.text(&partial));
                    self.id_in_arena = true;
                    self.partial = partial;
                }
                self.partial.clear();
            }
            Field::Retry => {
                if let Some(ms) = parse_retry(&self.partial) {
                    self.block_retry = Some(ms);
                    self.last_retry = Some(ms);
                }
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
            let data = std::mem::take(&mut self.data);
            let text = self.text(&data);
            self.data = data;
            self.data.clear();
            text
        };
        let event = if self.event.is_empty() {
            MESSAGE
        } else {
            let name = match &self.last_name {
                Some(last) if last.as_bytes() == self.event.as_slice() => last.clone(),
                _ => {
                    let event = std::mem::take(&mut self.event);
                    let name = self.text(&event);
                    self.event = event;
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

    /// `bytes` as text, decoded lossily: valid UTF-8 is copied into the
    /// arena. A new arena holds this text and the rest of the chunk (which
    /// may hold more events), within `MAX_ARENA_BYTES` and the event cap.
    fn text(&mut self, bytes: &[u8]) -> SseText {
        if std::str::from_utf8(bytes).is_err() {
            return SseText::from(String::from_utf8_lossy(bytes).into_owned());
        }
        if self.arena.capacity() < bytes.len() {
            let size = bytes.len().max(
                bytes
                    .len()
                    .saturating_add(self.chunk_left)
                    .min(MAX_ARENA_BYTES)
                    .min(self.max),
            );
            self.arena = BytesMut::with_capacity(size);
        }
        self.arena.extend_from_slice(bytes);
        let text = SseText(self.arena.split().freeze());
        if self.arena.capacity() == 0 {
            // Full: let the block go with the last event that holds it.
            self.arena = BytesMut::new();
        }
        text
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
