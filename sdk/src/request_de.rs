//! How a generated request struct is deserialised: the `Deserialize` of
//! every request type, without `#[derive(Deserialize)]` (issue 18, compile
//! time).
//!
//! Why: the derive writes, per struct, a field enum with its own visitor and
//! a struct visitor with `visit_seq` and `visit_map`, all generic and type
//! checked per struct. Here one visitor and one key reader serve every
//! request struct, and per struct [`read_fields!`] expands to one function:
//! a loop over the members that hands each to the field of the same wire
//! name. Measured on the crate alone (clean debug build, 3 interleaved
//! rounds): 9.4 -> 8.0 s wall, and about 7.5 s once value enums read through
//! one table lookup too (`wire_enum::Choice`); with no `Deserialize` on the
//! request structs and no `check_json` at all it would be 6.0 s
//! (BENCHMARKS.md, third session).
//!
//! What stays the same as the derive with `deny_unknown_fields` (or, for an
//! open struct, a `flatten`ed map of extra members): the value is streamed,
//! not buffered; the errors are serde's (`unknown field`, `missing field`,
//! `duplicate field`, and every field's own) with the same texts; a
//! path-tracking deserializer (ours in `json_path`, or `serde_path_to_error`)
//! sees every member's path. What differs: a struct is read from a JSON
//! object only, never from a positional array (the platform's schema is an
//! object; the derive's array form was never meant for it).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

/// What [`read_fields!`] implements for a request struct.
pub(crate) trait ReadFields: Sized {
    /// The struct's name, for serde's `expected struct ...` texts.
    const NAME: &'static str;
    /// The wire names of its members, in declaration order.
    const FIELDS: &'static [&'static str];
    /// Whether members not in [`FIELDS`](Self::FIELDS) are kept (in its
    /// `extra` map) instead of refused.
    const OPEN: bool;

    /// Reads the struct from its members.
    fn read<'de, A: MapAccess<'de>>(members: &mut Members<'de, A>) -> Result<Self, A::Error>;
}

/// The `Deserialize` of a request struct (its generated impl calls this).
pub(crate) fn deserialize<'de, T: ReadFields, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    // `deserialize_map`, not `deserialize_struct`, for closed structs too:
    // a struct is read from an object only (see the module's doc), and a
    // self-describing format's `deserialize_struct` also takes an array and
    // calls the visitor's `visit_seq`, which every request type would then
    // instantiate only to refuse it. The error is the same text
    // (`invalid type: sequence, expected struct ...`).
    deserializer.deserialize_map(StructVisitor::<T>(PhantomData))
}

/// A required member's value, or serde's `missing field` error.
pub(crate) fn required<F, E: de::Error>(slot: Option<F>, name: &'static str) -> Result<F, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

/// The one visitor of every request struct.
struct StructVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: ReadFields> Visitor<'de> for StructVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        expecting_struct(f, T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::read(&mut Members {
            map,
            fields: T::FIELDS,
            open: T::OPEN,
            de: PhantomData,
        })
    }
}

/// What a request struct's visitor expects: `struct Name` (one copy for
/// every request type).
fn expecting_struct(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    write!(f, "struct {name}")
}

/// The members of the object being read, one at a time.
pub(crate) struct Members<'de, A> {
    map: A,
    fields: &'static [&'static str],
    open: bool,
    de: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> Members<'de, A> {
    /// The next member's wire name; a name the struct does not have is
    /// serde's `unknown field` error (unless the struct is open).
    pub(crate) fn next_key(&mut self) -> Result<Option<String>, A::Error> {
        self.map.next_key_seed(Key {
            fields: self.fields,
            open: self.open,
        })
    }

    /// Reads the member's value into its slot: a second value for the same
    /// member is serde's `duplicate field` error, as with the derive.
    pub(crate) fn once<F: de::Deserialize<'de>>(
        &mut self,
        slot: &mut Option<F>,
        name: &'static str,
    ) -> Result<(), A::Error> {
        *slot = Some(self.first(slot.is_some(), name, PhantomData::<F>)?);
        Ok(())
    }

    /// [`once`](Self::once) for an optional field of a closed string enum:
    /// read as the text's index in the enum's table, the same code for
    /// every enum (see [`Choice`](crate::wire_enum::Choice)).
    #[allow(clippy::manual_map)] // see the `match` below
    pub(crate) fn once_choice<C: crate::wire_enum::Choice>(
        &mut self,
        slot: &mut Option<Option<C>>,
        name: &'static str,
    ) -> Result<(), A::Error> {
        let seed = crate::wire_enum::OptionalChoiceSeed(C::WIRE);
        let index = self.first(slot.is_some(), name, seed)?;
        // A `match`, not `Option::map` and a closure: this is instantiated
        // per enum and per deserializer.
        *slot = Some(match index {
            Some(i) => Some(C::VALUES[i]),
            None => None,
        });
        Ok(())
    }

    /// [`once_choice`](Self::once_choice) for a required field.
    pub(crate) fn once_required_choice<C: crate::wire_enum::Choice>(
        &mut self,
        slot: &mut Option<C>,
        name: &'static str,
    ) -> Result<(), A::Error> {
        let seed = crate::wire_enum::ChoiceSeed(C::WIRE);
        let index = self.first(slot.is_some(), name, seed)?;
        *slot = Some(C::VALUES[index]);
        Ok(())
    }

    /// The member's value read with `seed`, unless the member was `seen`
    /// already: then serde's `duplicate field` error.
    fn first<S: DeserializeSeed<'de>>(
        &mut self,
        seen: bool,
        name: &'static str,
        seed: S,
    ) -> Result<S::Value, A::Error> {
        if seen {
            return Err(de::Error::duplicate_field(name));
        }
        self.map.next_value_seed(seed)
    }

    /// Reads a member the struct does not name into its `extra` map.
    // Only open structs call it, and a feature set may have none (`images`).
    #[allow(dead_code)]
    pub(crate) fn extra(
        &mut self,
        extra: &mut serde_json::Map<String, serde_json::Value>,
        key: String,
    ) -> Result<(), A::Error> {
        let value = self.map.next_value()?;
        extra.insert(key, value);
        Ok(())
    }
}

/// A member's name: refused when the struct is closed and does not have it.
struct Key {
    fields: &'static [&'static str],
    open: bool,
}

impl<'de> DeserializeSeed<'de> for Key {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for Key {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        if self.open || self.fields.contains(&key) {
            Ok(key.to_owned())
        } else {
            Err(E::unknown_field(key, self.fields))
        }
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<String, E> {
        let key = crate::wire_enum::utf8(key, &self)?;
        self.visit_str(key)
    }
}

/// A request struct's `Deserialize` and [`ReadFields`]: the struct's name,
/// `open` when it keeps unknown members in its `extra` map, then each field
/// as `rust_name = "wire_name"`, with `required` after a field that must be
/// present (not an `Option`) and `choice` after one whose type is a closed
/// string enum (read through its table, see `wire_enum::Choice`).
macro_rules! read_fields {
    (@read $members:ident $slot:ident $wire:literal) => {
        $members.once(&mut $slot, $wire)?
    };
    (@read $members:ident $slot:ident $wire:literal required) => {
        $members.once(&mut $slot, $wire)?
    };
    (@read $members:ident $slot:ident $wire:literal choice) => {
        $members.once_choice(&mut $slot, $wire)?
    };
    (@read $members:ident $slot:ident $wire:literal required choice) => {
        $members.once_required_choice(&mut $slot, $wire)?
    };
    (@finish $slot:ident $wire:literal required $($choice:ident)?) => {
        $crate::request_de::required($slot, $wire)?
    };
    (@finish $slot:ident $wire:literal $($choice:ident)?) => {
        $slot.unwrap_or_default()
    };
    (@rest $members:ident $key:ident) => {
        // Unreachable: a closed struct's reader refuses unknown names.
        ()
    };
    (@rest $members:ident $key:ident $extra:ident) => {
        $members.extra(&mut $extra, $key)?
    };
    (@impl $name:ident, $open:literal, { $($field:ident = $wire:literal $($flag:ident)*),* $(,)? } $(, $extra:ident)?) => {
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::request_de::deserialize(deserializer)
            }
        }
        impl $crate::request_de::ReadFields for $name {
            const NAME: &'static str = ::std::stringify!($name);
            const FIELDS: &'static [&'static str] = &[$($wire),*];
            const OPEN: bool = $open;

            fn read<'de, A: ::serde::de::MapAccess<'de>>(
                members: &mut $crate::request_de::Members<'de, A>,
            ) -> ::std::result::Result<Self, A::Error> {
                $(let mut $field = ::std::option::Option::None;)*
                $(let mut $extra = ::serde_json::Map::new();)?
                while let ::std::option::Option::Some(key) = members.next_key()? {
                    match key.as_str() {
                        $($wire => $crate::request_de::read_fields!(@read members $field $wire $($flag)*),)*
                        _ => $crate::request_de::read_fields!(@rest members key $($extra)?),
                    }
                }
                ::std::result::Result::Ok(Self {
                    $($field: $crate::request_de::read_fields!(@finish $field $wire $($flag)*),)*
                    $($extra,)?
                })
            }
        }
    };
    ($name:ident { $($body:tt)* }) => {
        $crate::request_de::read_fields!(@impl $name, false, { $($body)* });
    };
    ($name:ident open { $($body:tt)* }) => {
        $crate::request_de::read_fields!(@impl $name, true, { $($body)* }, extra);
    };
}

pub(crate) use read_fields;
