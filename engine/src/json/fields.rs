//! Structs decoded member by member by one shared loop, and unit enums by one shared name
//! lookup, each written from one list by a macro: [`decoder!`] for a struct, [`variants!`]
//! for an enum.
//!
//! A struct says only its names, which of them are required, and how to read the member
//! at an index into itself; the loop, the name lookup, and the errors for an unknown,
//! repeated or missing name are compiled once.
//!
//! The list is the only place a member is named: its name, its field and whether it is
//! required stand on one line, and the reader of the member at an index is an exhaustive
//! `match` over a tag per field, so a name cannot land in another field.
//!
//! The errors are worded as serde's derive words them (`unknown field`, `duplicate
//! field`, `missing field`, `unknown variant`, with the same name lists, in the order the
//! fields are declared), so that a message reads as serde_json's would.

use super::read::{ReadError, Reader, same};

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
    fn field(&mut self, index: usize, r: &mut Reader<'de, '_>) -> Result<(), ReadError>;
}

/// Decodes a [`Fields`] struct: every member once, each name known unless the struct is
/// open, every required member given; what the document leaves out keeps its default.
pub(crate) fn fields<'de, T: Fields<'de>>(r: &mut Reader<'de, '_>) -> Result<T, ReadError> {
    let mut value = T::empty();
    let shape = Shape { names: T::NAMES, required: T::REQUIRED, closed: T::CLOSED };
    members(r, shape, &mut |index, r| value.field(index, r))?;
    Ok(value)
}

/// What [`members`] checks an object against: a [`Fields`] struct's constants.
#[derive(Clone, Copy)]
struct Shape {
    names: &'static [&'static str],
    required: u64,
    closed: bool,
}

/// The member loop, compiled once rather than once per struct: each known member once
/// (its value read by `field`), the others skipped or refused, the required ones
/// present.
fn members<'de, 's>(
    r: &mut Reader<'de, 's>,
    shape: Shape,
    field: &mut dyn FnMut(usize, &mut Reader<'de, 's>) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let mut object = r.object(&"a JSON object")?;
    let mut seen = 0u64;
    while r.member(&mut object)? {
        let Some(index) = shape.names.iter().position(|n| same(n, object.name())) else {
            if shape.closed {
                return Err(object.failed_name(ReadError::unknown_field(object.name(), shape.names)));
            }
            r.skip_value()?;
            continue;
        };
        let bit = 1u64 << index;
        if seen & bit != 0 {
            return Err(object.failed_name(ReadError::repeated(object.name())));
        }
        seen |= bit;
        field(index, r).map_err(|e| object.failed_value(e))?;
    }
    // The first required member not given, as serde's derive reports it.
    let absent = shape.required & !seen;
    if absent == 0 {
        return Ok(());
    }
    let name = shape.names.get(absent.trailing_zeros() as usize).copied().unwrap_or_default();
    Err(ReadError::missing_field(name))
}

/// A member index that names no field: [`members`] only passes indexes of the names, so
/// this is a bug of the decoder's list, reported as a decoding error rather than written
/// into some field.
#[cold]
pub(crate) fn no_member(index: usize) -> ReadError {
    ReadError::custom(format_args!("no member at index {index}"))
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
pub(crate) fn variant<T: Variants>(r: &mut Reader<'_, '_>) -> Result<T, ReadError> {
    let index = r.variant(T::NAMES)?;
    // `Reader::variant` only returns indexes of `NAMES`, which `ALL` matches one for one.
    T::ALL.get(index).copied().ok_or_else(|| no_member(index))
}

/// A struct's decoder from one list: `Fields` and `Decode`.
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

                fn field(
                    &mut self,
                    index: usize,
                    r: &mut $crate::json::Reader<'de, '_>,
                ) -> Result<(), $crate::json::ReadError> {
                    $(
                        if index < FLAT.len() {
                            return <$flat_ty as $crate::json::Fields<'de>>::field(&mut self.$flat, index, r);
                        }
                    )?
                    match TAGS.get(index - FLAT.len()) {
                        $(Some(Tag::$field) => {
                            self.$field = $crate::json::decoder!(@read r $($conv)?);
                        })+
                        None => return Err($crate::json::no_member(index)),
                    }
                    Ok(())
                }
            }

            impl<'de> $crate::json::Decode<'de> for $ty {
                fn decode(r: &mut $crate::json::Reader<'de, '_>) -> Result<Self, $crate::json::ReadError> {
                    $crate::json::fields(r)
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
    (@read $r:ident $conv:path) => { $conv($crate::json::Decode::decode($r)?) };
    (@read $r:ident) => { $crate::json::Decode::decode($r)? };
}

/// An enum's decoder from one list of variants and their spellings: `Variants` and
/// `Decode`.
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

        impl<'de> $crate::json::Decode<'de> for $ty {
            fn decode(r: &mut $crate::json::Reader<'de, '_>) -> Result<Self, $crate::json::ReadError> {
                $crate::json::variant(r)
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
        T: Variants + for<'de> crate::json::Decode<'de> + serde::Serialize + PartialEq + std::fmt::Debug,
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
