//! The code every generated value enum shares, written once.
//!
//! The generator declares each enum (its docs, variants and derives) and then
//! invokes one of these macros with the variant ↔ wire-value table; the
//! macro adds `ALL`, the wire accessor, `Display`, `FromStr` and serde.
//! Before this, each of the ~120 enums carried all of that spelled out.

// Which of these the generated code uses depends on the specs and on the
// enabled `images`/`videos` features (the only integer enum is a video model's).
#![allow(unused_macros, unused_imports, dead_code)]

/// What both string macros share: `Display` and serde through the wire
/// text (`as_str` out, `FromStr` in; an open enum's `FromStr` never fails).
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
pub(crate) use wire_text;

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
                match s {
                    $($wire => ::std::result::Result::Ok(Self::$variant),)+
                    other => ::std::result::Result::Err(
                        $crate::validation::UnknownValue::of_wire(other, &[$($wire),+]),
                    ),
                }
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
