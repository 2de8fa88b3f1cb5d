//! Structs decoded member by member by one shared loop, and unit enums by one shared name
//! lookup, each written from one list by a macro: [`decoder!`] for a struct, [`variants!`]
//! for an enum.
//!
//! serde's derive writes, for every struct, its own member loop, its own name matcher and
//! an `Option` per field that is unwrapped at the end, with a drop of everything read so
//! far on each way out; for every enum, a visitor and a name matcher. In a WebAssembly
//! module that was most of what the policy's and the state's decoders weighed. Here a
//! struct says only its names, which of them are required, and how to read the member at
//! an index into itself; the loop, the name lookup, and the errors for an unknown,
//! repeated or missing name are compiled once.
//!
//! The list is the only place a member is named: its name, its field and whether it is
//! required stand on one line, and the reader of the member at an index is an exhaustive
//! `match` over a tag per field, so a name cannot land in another field.
//!
//! The errors are the derive's, word for word: the same serde constructors
//! (`unknown_field`, `duplicate_field`, `missing_field`, `unknown_variant`) with the same
//! name lists, in the order the fields are declared. Only a value of the wrong type for an
//! enum reads differently: it hears the spellings instead of the enum's Rust name.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, VariantAccess, Visitor};

/// A struct read from a JSON object, member by member, into a value that starts as
/// [`Fields::empty`]. Written by [`decoder!`].
pub(crate) trait Fields<'de>: Sized {
    /// The members' names, in declaration order: an unknown name's error lists them so.
    const NAMES: &'static [&'static str];
    /// The members a document must give, one bit per index of [`Fields::NAMES`]: the first
    /// one missing is reported, as serde's derive reports it.
    const REQUIRED: u64 = 0;
    /// Whether a name outside [`Fields::NAMES`] is an error; `false` skips its value.
    const CLOSED: bool = true;

    /// The value before any member is read: every optional field at its default, every
    /// required one a placeholder that a member overwrites (or the object is refused).
    fn empty() -> Self;

    /// Reads the value of the member named `NAMES[index]` into `self`.
    fn field<A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error>;
}

/// Decodes a [`Fields`] struct: every member once, each name known unless the struct is
/// open, every required member given; what the document leaves out keeps its default.
pub(crate) fn fields<'de, D: Deserializer<'de>, T: Fields<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_struct("", T::NAMES, FieldsVisitor(PhantomData))
}

/// The first required member (a bit of `required`) whose bit is not in `seen`, as the
/// derive's `missing field` error.
fn missing<E: de::Error>(names: &'static [&'static str], required: u64, seen: u64) -> Result<(), E> {
    let absent = required & !seen;
    if absent == 0 {
        return Ok(());
    }
    Err(E::missing_field(names.get(absent.trailing_zeros() as usize).copied().unwrap_or_default()))
}

struct FieldsVisitor<T>(PhantomData<T>);

impl<'de, T: Fields<'de>> Visitor<'de> for FieldsVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::empty();
        let shape = Shape { names: T::NAMES, required: T::REQUIRED, closed: T::CLOSED };
        members(&mut map, shape, &mut |index, map| value.field(index, map))?;
        Ok(value)
    }
}

/// What [`members`] checks an object against: a [`Fields`] struct's constants.
#[derive(Clone, Copy)]
struct Shape {
    names: &'static [&'static str],
    required: u64,
    closed: bool,
}

/// Reads the member at an index of a [`Shape`]'s names.
type FieldReader<'de, 'f, A> = dyn FnMut(usize, &mut A) -> Result<(), <A as MapAccess<'de>>::Error> + 'f;

/// The member loop, compiled once per map type rather than once per struct: each known
/// member once (its value read by `field`), the others skipped or refused, the required
/// ones present.
fn members<'de, A: MapAccess<'de>>(
    map: &mut A,
    shape: Shape,
    field: &mut FieldReader<'de, '_, A>,
) -> Result<(), A::Error> {
    let mut seen = 0u64;
    while let Some(name) = map.next_key_seed(Name { names: shape.names, closed: shape.closed })? {
        let Some(index) = name else {
            map.next_value::<de::IgnoredAny>()?;
            continue;
        };
        let bit = 1u64 << index;
        if seen & bit != 0 {
            return Err(de::Error::duplicate_field(shape.names.get(index).copied().unwrap_or_default()));
        }
        seen |= bit;
        field(index, map)?;
    }
    missing(shape.names, shape.required, seen)
}

/// A member's name as its index in `names`; `None` for another name of an open struct.
#[derive(Clone, Copy)]
struct Name {
    names: &'static [&'static str],
    closed: bool,
}

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match self.names.iter().position(|n| *n == v) {
            Some(i) => Ok(Some(i)),
            None if self.closed => Err(E::unknown_field(v, self.names)),
            None => Ok(None),
        }
    }
}

/// A member index that names no field: [`members`] only passes indexes of the names, so
/// this is a bug of the decoder's list, reported as a decoding error rather than written
/// into some field.
#[cold]
pub(crate) fn no_member<E: de::Error>(index: usize) -> E {
    E::custom(format_args!("no member at index {index}"))
}

/// `a` followed by `b`, at compile time: a struct's names after those of the struct it
/// flattens.
// Evaluated at compile time: an index out of range fails the build, not a run.
#[allow(clippy::indexing_slicing)]
pub(crate) const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    assert!(a.len() + b.len() == N, "the lengths add up");
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// The bits of the `true`s of `flags`, shifted by `offset`: a struct's required members.
// Evaluated at compile time, as `concat`.
#[allow(clippy::indexing_slicing)]
pub(crate) const fn mask(flags: &[bool], offset: usize) -> u64 {
    assert!(flags.len() + offset <= 64, "at most 64 members");
    let mut bits = 0u64;
    let mut i = 0;
    while i < flags.len() {
        if flags[i] {
            bits |= 1 << (i + offset);
        }
        i += 1;
    }
    bits
}

/// An enum of unit variants, spelled as strings. Written by [`variants!`].
pub(crate) trait Variants: Copy + 'static {
    /// The spellings, in declaration order: an unknown one's error lists them so.
    const NAMES: &'static [&'static str];
    /// The variants, in the order of [`Variants::NAMES`].
    const ALL: &'static [Self];
}

/// Decodes a [`Variants`] enum from its spelling.
pub(crate) fn variant<'de, D: Deserializer<'de>, T: Variants>(d: D) -> Result<T, D::Error> {
    let index = d.deserialize_enum("", T::NAMES, Spelling(T::NAMES))?;
    // `Spelling` only returns indexes of `NAMES`, which `ALL` matches one for one.
    T::ALL.get(index).copied().ok_or_else(|| de::Error::unknown_variant("", T::NAMES))
}

/// An enum's spelling as its index in the names.
#[derive(Clone, Copy)]
struct Spelling(&'static [&'static str]);

impl<'de> Visitor<'de> for Spelling {
    type Value = usize;

    /// The spellings, as serde lists them for an unknown variant: a value of the wrong
    /// type hears what it could have been, not the enum's Rust name.
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", super::OneOf(self.0))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<usize, A::Error> {
        let (index, variant) = data.variant_seed(self)?;
        variant.unit_variant()?;
        Ok(index)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        self.0.iter().position(|n| *n == v).ok_or_else(|| E::unknown_variant(v, self.0))
    }
}

impl<'de> DeserializeSeed<'de> for Spelling {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

/// A struct's decoder from one list: `Fields` and `Deserialize`.
///
/// ```text
/// decoder! {
///     open Registered {                          // `open`: unknown names are skipped
///         ..device: Device,                      // the device's members come first
///         registered_at: "registered_at" required,
///         enrollment: "enrollment",
///         model: "model" => label,               // the value read goes through `label`
///     } = Registered::new(Device::empty(), NO_TIME)   // the value before any member is read
/// }
/// ```
///
/// Each line gives a field, its member's name, whether a document must give it, and
/// optionally a function the value read goes through. The member at index `i` of the
/// names is read into the field of line `i` by an exhaustive `match`, so a line's name
/// and field cannot come apart.
macro_rules! decoder {
    // Doc comments before the struct's name say what its decoder does; they document
    // nothing the reader could see, so they are dropped.
    ($(#[doc = $doc:literal])* open $($rest:tt)*) => { $crate::json::decoder!(@struct false, $($rest)*); };
    ($(#[doc = $doc:literal])* $ty:ident $($rest:tt)*) => { $crate::json::decoder!(@struct true, $ty $($rest)*); };
    (@struct $closed:literal, $ty:ty {
        $(.. $flat:ident : $flat_ty:ty,)?
        $($field:ident : $name:literal $($required:ident)? $(=> $conv:path)?),+ $(,)?
    } = $empty:expr) => {
        const _: () = {
            #[allow(non_camel_case_types)]
            #[derive(Clone, Copy)]
            enum Tag { $($field),+ }
            const TAGS: &[Tag] = &[$(Tag::$field),+];
            const OWN: &[&str] = &[$($name),+];
            const OWN_REQUIRED: &[bool] = &[$($crate::json::decoder!(@required $($required)?)),+];
            /// The members of the flattened struct, which come first.
            const FLAT: &[&str] = $crate::json::decoder!(@flat_names $($flat_ty)?);
            const FLAT_REQUIRED: u64 = $crate::json::decoder!(@flat_required $($flat_ty)?);
            const COUNT: usize = FLAT.len() + OWN.len();
            const NAMES: [&str; COUNT] = $crate::json::concat::<COUNT>(FLAT, OWN);

            impl<'de> $crate::json::Fields<'de> for $ty {
                const NAMES: &'static [&'static str] = &NAMES;
                const REQUIRED: u64 = FLAT_REQUIRED | $crate::json::mask(OWN_REQUIRED, FLAT.len());
                const CLOSED: bool = $closed;

                fn empty() -> Self {
                    $empty
                }

                #[inline]
                fn field<A: serde::de::MapAccess<'de>>(
                    &mut self,
                    index: usize,
                    map: &mut A,
                ) -> Result<(), A::Error> {
                    $(
                        if index < FLAT.len() {
                            return <$flat_ty as $crate::json::Fields<'de>>::field(&mut self.$flat, index, map);
                        }
                    )?
                    match TAGS.get(index - FLAT.len()) {
                        $(Some(Tag::$field) => {
                            self.$field = $crate::json::decoder!(@read map $($conv)?);
                        })+
                        None => return Err($crate::json::no_member(index)),
                    }
                    Ok(())
                }
            }

            impl<'de> serde::Deserialize<'de> for $ty {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    $crate::json::fields(d)
                }
            }
        };
    };
    (@required required) => { true };
    (@required) => { false };
    (@flat_names $flat_ty:ty) => { <$flat_ty as $crate::json::Fields<'static>>::NAMES };
    (@flat_names) => { &[] };
    (@flat_required $flat_ty:ty) => { <$flat_ty as $crate::json::Fields<'static>>::REQUIRED };
    (@flat_required) => { 0 };
    (@read $map:ident $conv:path) => { $conv($map.next_value()?) };
    (@read $map:ident) => { $map.next_value()? };
}

/// An enum's decoder from one list of variants and their spellings: `Variants` and
/// `Deserialize`.
///
/// ```text
/// variants!(OnApprove { Replace = "replace", Add = "add" });
/// ```
macro_rules! variants {
    ($ty:ident { $($variant:ident = $name:expr),+ $(,)? }) => {
        impl $crate::json::Variants for $ty {
            const NAMES: &'static [&'static str] = &[$($name),+];
            const ALL: &'static [Self] = &[$($ty::$variant),+];
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::json::variant(d)
            }
        }
    };
}

pub(crate) use {decoder, variants};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OsType;
    use crate::manage::{AppPlatform, Approver, EnrollmentMethod};
    use crate::policy::{
        AssignedOnNewDevice, DeviceMatch, OnApprove, UnassignedAccess, UnassignedOnNewDevice,
    };

    /// Each spelling decodes to the variant at its index, which is written back the same
    /// way; a spelling that is not one is refused with the list.
    fn spellings<T>()
    where
        T: Variants + serde::Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        assert_eq!(T::NAMES.len(), T::ALL.len());
        for (name, variant) in T::NAMES.iter().zip(T::ALL) {
            let text = format!("\"{name}\"");
            assert_eq!(crate::json::decode::<T>(&text, &[]).unwrap(), *variant);
            assert_eq!(serde_json::to_string(variant).unwrap(), text);
        }
        let e = crate::json::decode::<T>("\"nope\"", &[]).unwrap_err();
        assert!(e.message().starts_with("unknown variant `nope`, expected "), "{}", e.message());
        let e = crate::json::decode::<T>("7", &[]).unwrap_err();
        let quoted = T::NAMES.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>();
        assert!(e.message().contains(quoted.last().unwrap()), "{}", e.message());
    }

    #[test]
    fn every_enum_is_spelled_as_it_is_written() {
        spellings::<OsType>();
        spellings::<EnrollmentMethod>();
        spellings::<Approver>();
        spellings::<AppPlatform>();
        spellings::<DeviceMatch>();
        spellings::<AssignedOnNewDevice>();
        spellings::<OnApprove>();
        spellings::<UnassignedOnNewDevice>();
        spellings::<UnassignedAccess>();
    }

    #[test]
    fn a_wrong_type_hears_the_spellings() {
        let e = crate::json::decode::<DeviceMatch>("3", &[]).unwrap_err();
        assert_eq!(e.message(), "invalid type: integer `3`, expected `device_id` or `device_id_and_serial`");
        let e = crate::json::decode::<AssignedOnNewDevice>("{}", &[]).unwrap_err();
        assert_eq!(e.message(), "invalid type: map, expected one of `approval`, `replace`, `deny`");
    }

    #[test]
    fn structs_refuse_repeated_and_unknown_names_and_report_the_first_missing_one() {
        use crate::device::Device;
        let e = crate::json::decode::<crate::policy::PolicyDoc>(r#"{"enabled":true,"enabled":false}"#, &[])
            .unwrap_err();
        assert_eq!((e.pointer(), e.message()), ("".into(), "duplicate field `enabled`"));
        let e =
            crate::json::decode::<crate::policy::PolicyDoc>(r#"{"assigned":{"max":1}}"#, &[]).unwrap_err();
        assert_eq!(e.pointer(), "/assigned");
        assert!(
            e.message().starts_with("unknown field `max`, expected one of `max_devices`,"),
            "{}",
            e.message()
        );
        // A device is open (the app may report more), and says which required field is
        // missing first.
        let e = crate::json::decode::<Device>(r#"{"extra":[1],"model":"x"}"#, &[]).unwrap_err();
        assert_eq!(e.message(), "missing field `device_id`");
        let e = crate::json::decode::<Device>(r#"{"device_id":"a","extra":{}}"#, &[]).unwrap_err();
        assert_eq!(e.message(), "missing field `os_type`");
    }
}
