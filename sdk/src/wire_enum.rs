//! The code every generated value enum shares, written once.
//!
//! The generator declares each enum (its docs, variants and derives) and then
//! invokes one of these macros with the variant ↔ wire-value table; the
//! macro adds `ALL`, the wire accessor, `Display`, `FromStr` and serde.
//! Before this, each of the ~120 enums carried all of that spelled out.

// Which of these the generated code uses depends on the specs and on the
// enabled `images`/`videos` features (the only integer enum is a video model's).
#![allow(unused_macros, unused_imports, dead_code)]

/// What both string macros share: `Display` and `Serialize` through the
/// wire text (`as_str`).
macro_rules! wire_text {
    ($name:ident) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_text;

/// An open enum's `Deserialize`: through its `FromStr`, which never fails.
macro_rules! open_text_de {
    ($name:ident) => {
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use open_text_de;

/// A closed set of string values (request fields): unknown text is an error
/// that lists the allowed values.
macro_rules! string_enum {
    ($name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        impl $name {
            /// Every value, in spec order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// Every value as JSON text, in spec order (the descriptor's allowed values).
            pub const ALL_JSON: &'static [&'static str] = &[$(concat!("\"", $wire, "\"")),+];
            /// The value as sent on the wire.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }
        impl ::std::str::FromStr for $name {
            type Err = $crate::validation::UnknownValue;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                $crate::wire_enum::choice_from_str(s)
            }
        }
        impl $crate::wire_enum::Choice for $name {
            const VALUES: &'static [Self] = Self::ALL;
            const WIRE: &'static [&'static str] = &[$($wire),+];
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::wire_enum::deserialize_choice(deserializer)
            }
        }
        $crate::wire_enum::wire_text!($name);
    };
}
pub(crate) use string_enum;

/// A set of string values the server sends (statuses): a value this SDK
/// version does not know is kept as `Unknown(text)` instead of failing the
/// whole response, so a platform that adds a status breaks no caller.
macro_rules! open_string_enum {
    ($name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        impl $name {
            /// Every known value, in spec order (`Unknown` is not among them).
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// Every known value as JSON text, in spec order.
            pub const ALL_JSON: &'static [&'static str] = &[$(concat!("\"", $wire, "\"")),+];
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(text) => text,
                }
            }
            /// Whether the value is one the spec lists.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }
        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                ::std::result::Result::Ok(match s {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_string()),
                })
            }
        }
        $crate::wire_enum::wire_text!($name);
        $crate::wire_enum::open_text_de!($name);
    };
}
pub(crate) use open_string_enum;

/// A closed set of integer values, serialised as JSON integers directly (a
/// whole-number float such as `5.0` is accepted on the way in).
macro_rules! int_enum {
    ($name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        impl $name {
            /// Every value, in spec order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// Every value as JSON text, in spec order (the descriptor's allowed values).
            pub const ALL_JSON: &'static [&'static str] = &[$(stringify!($wire)),+];
            /// The value as sent on the wire.
            pub const fn value(&self) -> i64 {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
            /// The value as JSON.
            pub fn to_json(&self) -> ::serde_json::Value {
                ::serde_json::Value::from(self.value())
            }
            fn from_value(value: i64) -> ::std::result::Result<Self, $crate::validation::UnknownValue> {
                match value {
                    $($wire => ::std::result::Result::Ok(Self::$variant),)+
                    other => ::std::result::Result::Err($crate::validation::UnknownValue::new(
                        &other.to_string(),
                        Self::ALL.iter().map(|v| v.to_string()),
                    )),
                }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.value(), f)
            }
        }
        impl ::std::str::FromStr for $name {
            type Err = $crate::validation::UnknownValue;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s.trim().parse::<i64>() {
                    ::std::result::Result::Ok(n) => Self::from_value(n),
                    ::std::result::Result::Err(_) => ::std::result::Result::Err(
                        $crate::validation::UnknownValue::new(s, Self::ALL.iter().map(|v| v.to_string())),
                    ),
                }
            }
        }
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.value())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let n = $crate::wire_enum::deserialize_whole_number(deserializer)?;
                Self::from_value(n).map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use int_enum;

/// Reads an integer, accepting a float with no fractional part (`5.0`), as
/// the spec's `integer` allows.
pub(crate) fn deserialize_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<i64, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("{v} is not a whole number")))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

/// A closed set of string values (every `string_enum!`): its values and their
/// wire texts, index for index. Reading one is finding the index of the text
/// ([`ChoiceSeed`]), which is the same code for every enum: the ~140 request
/// enums share one reader per deserializer instead of a chain each.
pub(crate) trait Choice: Copy + 'static {
    /// Every value, in spec order.
    const VALUES: &'static [Self];
    /// Their wire texts, in the same order.
    const WIRE: &'static [&'static str];
}

/// A wire text's index in `wires`, or the error that lists them: the one
/// lookup behind a [`Choice`]'s `FromStr` and `Deserialize`.
pub(crate) fn wire_index(
    wires: &[&str],
    text: &str,
) -> Result<usize, crate::validation::UnknownValue> {
    wires
        .iter()
        .position(|w| *w == text)
        .ok_or_else(|| crate::validation::UnknownValue::of_wire(text, wires))
}

/// A [`Choice`]'s `FromStr`.
pub(crate) fn choice_from_str<C: Choice>(text: &str) -> Result<C, crate::validation::UnknownValue> {
    wire_index(C::WIRE, text).map(|i| C::VALUES[i])
}

/// The text of `bytes` read as a string, or serde's `invalid value` error
/// (as serde's own string visitors word it).
pub(crate) fn utf8<'b, E: serde::de::Error>(
    bytes: &'b [u8],
    expected: &dyn serde::de::Expected,
) -> Result<&'b str, E> {
    std::str::from_utf8(bytes)
        .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(bytes), expected))
}

/// A [`Choice`]'s `Deserialize`.
pub(crate) fn deserialize_choice<'de, C: Choice, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<C, D::Error> {
    use serde::de::DeserializeSeed;
    ChoiceSeed(C::WIRE)
        .deserialize(deserializer)
        .map(|i| C::VALUES[i])
}

/// Reads a wire text as its index in the table: a string, else serde's
/// `invalid type` error (expected "a string", as a `String` field words it);
/// a text not in the table is the enum's `FromStr` error.
#[derive(Clone, Copy)]
pub(crate) struct ChoiceSeed(pub(crate) &'static [&'static str]);

impl<'de> serde::de::DeserializeSeed<'de> for ChoiceSeed {
    type Value = usize;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_string(self)
    }
}

impl serde::de::Visitor<'_> for ChoiceSeed {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<usize, E> {
        wire_index(self.0, text).map_err(E::custom)
    }

    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<usize, E> {
        let text = utf8(bytes, &self)?;
        self.visit_str(text)
    }
}

/// An optional [`ChoiceSeed`]: `null` is `None`, as for an `Option` field.
#[derive(Clone, Copy)]
pub(crate) struct OptionalChoiceSeed(pub(crate) &'static [&'static str]);

impl<'de> serde::de::DeserializeSeed<'de> for OptionalChoiceSeed {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> serde::de::Visitor<'de> for OptionalChoiceSeed {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Option<usize>, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Option<usize>, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<usize>, D::Error> {
        use serde::de::DeserializeSeed;
        ChoiceSeed(self.0).deserialize(deserializer).map(Some)
    }
}
