//! Structs decoded member by member by one shared loop, and unit enums by one shared name
//! lookup.
//!
//! serde's derive writes, for every struct, its own member loop, its own name matcher and
//! an `Option` per field that is unwrapped at the end, with a drop of everything read so
//! far on each way out; for every enum, a visitor and a name matcher. In a WebAssembly
//! module that was most of what the policy's and the state's decoders weighed. Here a
//! struct says only its names, which of them are required, and how to read the member at
//! an index into itself; the loop, the name lookup, and the errors for an unknown,
//! repeated or missing name are compiled once.
//!
//! The errors are the derive's, word for word: the same serde constructors
//! (`unknown_field`, `duplicate_field`, `missing_field`, `unknown_variant`) with the same
//! name lists, in the order the fields are declared. Only a value of the wrong type for an
//! enum reads differently: it hears the spellings instead of the enum's Rust name.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, VariantAccess, Visitor};

/// A struct read from a JSON object, member by member, into a value that starts as
/// [`Fields::empty`].
pub(crate) trait Fields<'de>: Sized {
    /// The members' names, in declaration order: an unknown name's error lists them so.
    const NAMES: &'static [&'static str];
    /// The indexes of the members a document must give, in declaration order: the first
    /// one missing is reported, as serde's derive reports it.
    const REQUIRED: &'static [usize] = &[];
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

/// The first of `required` (indexes of `names`) whose bit is not in `seen`, as the
/// derive's `missing field` error.
fn missing<E: de::Error>(names: &'static [&'static str], required: &[usize], seen: u64) -> Result<(), E> {
    match required.iter().find(|&&i| seen & (1 << i) == 0) {
        Some(&i) => Err(E::missing_field(names.get(i).copied().unwrap_or_default())),
        None => Ok(()),
    }
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
    required: &'static [usize],
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

/// An enum of unit variants, spelled as strings.
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
        match self.0 {
            [] => f.write_str("there are no variants"),
            [one] => write!(f, "`{one}`"),
            [a, b] => write!(f, "`{a}` or `{b}`"),
            names => {
                f.write_str("one of ")?;
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                Ok(())
            }
        }
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

/// `impl Deserialize` through [`fields`] for each struct.
macro_rules! deserialize_fields {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::json::fields(d)
            }
        }
    )*};
}

/// `impl Deserialize` through [`variant`] for each enum.
macro_rules! deserialize_variants {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::json::variant(d)
            }
        }
    )*};
}

pub(crate) use {deserialize_fields, deserialize_variants};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::OsType;
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
