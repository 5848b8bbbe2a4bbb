//! A deserializer over `&serde_json::Value` that records the path of the
//! value an error came from (`elements[2].image_url`), for
//! [`check_json`](crate::model::check_json).
//!
//! Why not the `serde_path_to_error` crate, which does the same: it wraps
//! every visitor, map and sequence access in its own types, so each request
//! type's `Deserialize` was instantiated through those wrappers. That was
//! 8,028 of the crate's 21,024 mono items and 12 % of its clean compile CPU
//! (15.69 -> 13.76 s; BENCHMARKS.md, issue 18 item 3). This reader borrows
//! the path on the stack and allocates only when it records an error. It
//! reads exactly as serde_json's `&Value` deserializer does (same visitor
//! calls, same error texts); `sdk/tests/path_oracle.rs` keeps the crate as
//! the oracle for paths and messages.

/// Reads `value` as `T`; on failure, serde's error and the path of the
/// innermost value it came from.
///
/// `T`'s `Deserialize` is instantiated once, with [`PathDe`], and no
/// wrapper types multiply the instantiations per request type.
pub(crate) fn deserialize<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, PathError> {
    let track = Track::default();
    let read = T::deserialize(PathDe {
        value,
        track: &track,
        at: None,
    });
    // A `match`, not `map_err` and a closure: one fewer pair of
    // instantiations per request type.
    match read {
        Ok(value) => Ok(value),
        Err(error) => Err(track.error(error)),
    }
}

/// One step of the path to a value that did not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// An object member.
    Map {
        /// The member's key.
        key: String,
    },
    /// An array item.
    Seq {
        /// The item's index (in the value read).
        index: usize,
    },
}

/// A deserialisation error and the path of the value it is about.
#[derive(Debug)]
pub(crate) struct PathError {
    /// Where, from the root (empty: the body itself).
    pub(crate) path: Vec<Segment>,
    /// Serde's error.
    pub(crate) error: serde_json::Error,
}

/// One step of the path being read, on the stack (borrowed: nothing is
/// allocated unless an error is recorded).
#[derive(Clone, Copy)]
struct Link<'p> {
    parent: Option<&'p Link<'p>>,
    step: Step<'p>,
}

/// An object key or an array index.
#[derive(Clone, Copy)]
enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

/// The path of the first (innermost) error seen.
#[derive(Default)]
struct Track {
    path: std::cell::RefCell<Option<Vec<Segment>>>,
}

impl Track {
    /// Records `at` as the error's path unless a deeper one was recorded.
    fn record(&self, at: Option<&Link<'_>>) {
        let mut path = self.path.borrow_mut();
        if path.is_none() {
            let mut steps = Vec::new();
            let mut node = at;
            while let Some(link) = node {
                steps.push(match link.step {
                    Step::Key(key) => Segment::Map {
                        key: key.to_string(),
                    },
                    Step::Index(index) => Segment::Seq { index },
                });
                node = link.parent;
            }
            steps.reverse();
            *path = Some(steps);
        }
    }

    /// The whole read's error, with the recorded path (none: the body).
    fn error(&self, error: serde_json::Error) -> PathError {
        PathError {
            path: self.path.borrow_mut().take().unwrap_or_default(),
            error,
        }
    }
}

/// A deserializer over `&serde_json::Value` that records where an error
/// happened. It reads exactly as serde_json's `&Value` deserializer does
/// (same visitor calls, same error texts); enums are left to serde_json's.
#[derive(Clone, Copy)]
struct PathDe<'de, 'p> {
    value: &'de serde_json::Value,
    track: &'p Track,
    at: Option<&'p Link<'p>>,
}

impl<'de, 'p> PathDe<'de, 'p> {
    /// Records this value's path (an error came out of its read).
    fn failed(&self) {
        self.track.record(self.at);
    }

    /// The `invalid type` error for this value, as serde_json's `&Value` words it.
    fn invalid_type(&self, expected: &dyn serde::de::Expected) -> serde_json::Error {
        self.failed();
        serde::de::Error::invalid_type(unexpected(self.value), expected)
    }

    /// Reads a number as serde_json does: `u64`, else `i64`, else `f64`.
    fn visit_number<V: serde::de::Visitor<'de>>(
        n: &'de serde_json::Number,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        if let Some(u) = n.as_u64() {
            visitor.visit_u64(u)
        } else if let Some(i) = n.as_i64() {
            visitor.visit_i64(i)
        } else {
            visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    /// Reads an array's items as a sequence; all of them must be read.
    fn visit_array<V: serde::de::Visitor<'de>>(
        self,
        items: &'de [serde_json::Value],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let mut seq = PathSeq {
            items: items.iter(),
            index: 0,
            track: self.track,
            at: self.at,
        };
        let result = visitor.visit_seq(&mut seq);
        let left = seq.items.len();
        self.finished(result, left, items.len(), "fewer elements in array")
    }

    /// Reads an object's members as a map; all of them must be read.
    fn visit_object<V: serde::de::Visitor<'de>>(
        self,
        map: &'de serde_json::Map<String, serde_json::Value>,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let mut access = PathMap {
            entries: map.iter(),
            value: None,
            track: self.track,
            at: self.at,
        };
        let result = visitor.visit_map(&mut access);
        let left = access.entries.len();
        self.finished(result, left, map.len(), "fewer elements in map")
    }

    /// A compound read's result: an error if items were `left` unread.
    ///
    /// Instantiated once per visitor type (every request struct's among
    /// them), so the work is in [`unread`](Self::unread) and
    /// [`fail`](Self::fail), which are compiled once.
    fn finished<T>(
        self,
        result: Result<T, serde_json::Error>,
        left: usize,
        len: usize,
        expected: &'static str,
    ) -> Result<T, serde_json::Error> {
        match result {
            Ok(value) => match self.unread(left, len, expected) {
                None => Ok(value),
                Some(error) => Err(error),
            },
            Err(error) => Err(self.fail(error)),
        }
    }

    /// Serde's `invalid length` error when `left` items of `len` were not
    /// read (recording this value's path), else nothing.
    fn unread(self, left: usize, len: usize, expected: &'static str) -> Option<serde_json::Error> {
        if left == 0 {
            return None;
        }
        self.failed();
        Some(serde::de::Error::invalid_length(len, &expected))
    }

    /// `error`, with this value's path recorded.
    fn fail(self, error: serde_json::Error) -> serde_json::Error {
        self.failed();
        error
    }

    /// Records this value's path if `result` is an error.
    fn seen<T>(self, result: Result<T, serde_json::Error>) -> Result<T, serde_json::Error> {
        if result.is_err() {
            self.failed();
        }
        result
    }
}

/// Declares `deserialize_*` methods that take one JSON kind, as serde_json's
/// `&Value` does: another kind is an `invalid type` error naming what the
/// visitor expected (the visitor is not asked).
macro_rules! typed_methods {
    ($($method:ident => $how:ident),+ $(,)?) => {
        $(
            fn $method<V: serde::de::Visitor<'de>>(
                self,
                visitor: V,
            ) -> Result<V::Value, serde_json::Error> {
                typed_methods!(@$how self visitor)
            }
        )+
    };
    (@number $self:ident $visitor:ident) => {
        match $self.value {
            serde_json::Value::Number(n) => $self.seen(Self::visit_number(n, $visitor)),
            _ => Err($self.invalid_type(&$visitor)),
        }
    };
    (@string $self:ident $visitor:ident) => {
        match $self.value {
            serde_json::Value::String(s) => $self.seen($visitor.visit_borrowed_str(s)),
            _ => Err($self.invalid_type(&$visitor)),
        }
    };
    (@bytes $self:ident $visitor:ident) => {
        match $self.value {
            serde_json::Value::String(s) => $self.seen($visitor.visit_borrowed_str(s)),
            serde_json::Value::Array(items) => $self.visit_array(items, $visitor),
            _ => Err($self.invalid_type(&$visitor)),
        }
    };
    (@bool $self:ident $visitor:ident) => {
        match $self.value {
            serde_json::Value::Bool(b) => $self.seen($visitor.visit_bool(*b)),
            _ => Err($self.invalid_type(&$visitor)),
        }
    };
    (@unit $self:ident $visitor:ident) => {
        match $self.value {
            serde_json::Value::Null => $self.seen($visitor.visit_unit()),
            _ => Err($self.invalid_type(&$visitor)),
        }
    };
    (@array $self:ident $visitor:ident) => {
        match $self.value {
            serde_json::Value::Array(items) => $self.visit_array(items, $visitor),
            _ => Err($self.invalid_type(&$visitor)),
        }
    };
    (@object $self:ident $visitor:ident) => {
        match $self.value {
            serde_json::Value::Object(map) => $self.visit_object(map, $visitor),
            _ => Err($self.invalid_type(&$visitor)),
        }
    };
}

impl<'de, 'p> serde::Deserializer<'de> for PathDe<'de, 'p> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        use serde_json::Value;
        match self.value {
            Value::Null => self.seen(visitor.visit_unit()),
            Value::Bool(b) => self.seen(visitor.visit_bool(*b)),
            Value::Number(n) => self.seen(Self::visit_number(n, visitor)),
            Value::String(s) => self.seen(visitor.visit_borrowed_str(s)),
            Value::Array(items) => self.visit_array(items, visitor),
            Value::Object(map) => self.visit_object(map, visitor),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        match self.value {
            serde_json::Value::Null => self.seen(visitor.visit_none()),
            _ => self.seen(visitor.visit_some(self)),
        }
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.seen(visitor.visit_newtype_struct(self))
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.seen(self.value.deserialize_enum(name, variants, visitor))
    }

    fn deserialize_ignored_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.seen(visitor.visit_unit())
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        match self.value {
            serde_json::Value::Array(items) => self.visit_array(items, visitor),
            serde_json::Value::Object(map) => self.visit_object(map, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: serde::de::Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.deserialize_seq(visitor)
    }

    typed_methods! {
        deserialize_bool => bool,
        deserialize_i8 => number,
        deserialize_i16 => number,
        deserialize_i32 => number,
        deserialize_i64 => number,
        deserialize_i128 => number,
        deserialize_u8 => number,
        deserialize_u16 => number,
        deserialize_u32 => number,
        deserialize_u64 => number,
        deserialize_u128 => number,
        deserialize_f32 => number,
        deserialize_f64 => number,
        deserialize_char => string,
        deserialize_str => string,
        deserialize_string => string,
        deserialize_identifier => string,
        deserialize_bytes => bytes,
        deserialize_byte_buf => bytes,
        deserialize_unit => unit,
        deserialize_seq => array,
        deserialize_map => object,
    }
}

/// What serde_json's `&Value` reports as the unexpected value.
pub(crate) fn unexpected(value: &serde_json::Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match value {
        serde_json::Value::Null => Unexpected::Unit,
        serde_json::Value::Bool(b) => Unexpected::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Unexpected::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Unexpected::Signed(i)
            } else {
                Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Unexpected::Str(s),
        serde_json::Value::Array(_) => Unexpected::Seq,
        serde_json::Value::Object(_) => Unexpected::Map,
    }
}

/// Reads `value`, one `step` below `parent` on the path, with `seed`; an
/// error records that path (unless a deeper one was recorded).
fn read_child<'de, S: serde::de::DeserializeSeed<'de>>(
    value: &'de serde_json::Value,
    track: &Track,
    parent: Option<&Link<'_>>,
    step: Step<'_>,
    seed: S,
) -> Result<S::Value, serde_json::Error> {
    let link = Link { parent, step };
    let de = PathDe {
        value,
        track,
        at: Some(&link),
    };
    de.seen(seed.deserialize(de))
}

/// The items of an array, each read with its index on the path.
struct PathSeq<'de, 'p> {
    items: std::slice::Iter<'de, serde_json::Value>,
    index: usize,
    track: &'p Track,
    at: Option<&'p Link<'p>>,
}

impl<'de> serde::de::SeqAccess<'de> for PathSeq<'de, '_> {
    type Error = serde_json::Error;

    fn next_element_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, serde_json::Error> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let step = Step::Index(self.index);
        self.index += 1;
        read_child(value, self.track, self.at, step, seed).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        match self.items.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(upper),
            _ => None,
        }
    }
}

/// The members of an object, each value read with its key on the path.
struct PathMap<'de, 'p> {
    entries: serde_json::map::Iter<'de>,
    value: Option<(&'de str, &'de serde_json::Value)>,
    track: &'p Track,
    at: Option<&'p Link<'p>>,
}

impl<'de> serde::de::MapAccess<'de> for PathMap<'de, '_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, serde_json::Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, serde_json::Error> {
        let Some((key, value)) = self.value.take() else {
            return Err(serde::de::Error::custom("value is missing"));
        };
        read_child(value, self.track, self.at, Step::Key(key), seed)
    }

    fn size_hint(&self) -> Option<usize> {
        match self.entries.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(upper),
            _ => None,
        }
    }
}
