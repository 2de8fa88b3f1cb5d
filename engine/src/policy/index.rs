//! The ids a policy document names, interned, and for each the policies that name it and
//! how: what finds a user's policy in one pass over the user's own ids and groups.

use rustc_hash::FxHashMap;

use crate::outcome::Membership;

/// The ids of one kind (users, groups or app ids) a document names: each id gets a dense
/// index, in the order first named.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdTable {
    // Fx: ids are short strings and the table is the policy's own, so speed over
    // flooding resistance (a request can only look ids up, never insert them).
    index: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl IdTable {
    /// A table sized for `ids` ids, so that a large policy's tables are not rehashed as
    /// they grow.
    pub(crate) fn with_capacity(ids: usize) -> Self {
        IdTable {
            index: FxHashMap::with_capacity_and_hasher(ids, Default::default()),
            names: Vec::with_capacity(ids),
        }
    }

    /// The index of `id`, interned if it is new.
    pub(crate) fn add(&mut self, id: &str) -> u32 {
        // Looked up before it is copied: an id listed again costs no allocation.
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(id.into(), i);
        self.names.push(id.into());
        i
    }

    /// The index of `id`, if the document names it.
    pub(crate) fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The ids in index order: what a host interns against.
    pub(crate) fn names(&self) -> &[Box<str>] {
        &self.names
    }
}

/// A policy's index in its document and how it names a principal, in 16 bits: the
/// policy above the two membership bits, and the top bit saying that more entries of the
/// same principal are in [`Naming::more`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Entry(u16);

impl Entry {
    const MORE: u16 = 1 << 15;

    fn new(policy: u32, bits: Membership) -> Entry {
        // Policies are at most `MAX_POLICIES` (1,000), so the index fits in 13 bits.
        Entry(((policy as u16) << 2) | u16::from(bits.0))
    }

    fn policy(self) -> u32 {
        u32::from((self.0 & !Self::MORE) >> 2)
    }

    fn bits(self) -> Membership {
        Membership((self.0 & 3) as u8)
    }
}

/// For every principal (users, then groups, in one index space), the policies that name
/// it. Most ids are named by one policy, so each principal's first entry is inline (two
/// bytes), and the rest sit in a list sorted by principal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Naming {
    first: Vec<Entry>,
    more: Vec<(u32, Entry)>,
}

impl Naming {
    /// A naming of `principals` principals, none named yet.
    pub(crate) fn new(principals: usize) -> Naming {
        Naming { first: vec![Entry::default(); principals], more: Vec::new() }
    }

    /// Records that `policy` names `principal` with `bits`.
    pub(crate) fn add(&mut self, principal: u32, policy: u32, bits: Membership) {
        let Some(first) = self.first.get_mut(principal as usize) else { return };
        if first.bits() == Membership::default() {
            *first = Entry(first.0 & Entry::MORE | Entry::new(policy, bits).0);
        } else if first.policy() == policy {
            first.0 |= u16::from(bits.0);
        } else {
            first.0 |= Entry::MORE;
            self.more.push((principal, Entry::new(policy, bits)));
        }
    }

    /// Done adding: the further entries sorted, for lookup by principal.
    pub(crate) fn seal(&mut self) {
        crate::sort::sort_by_key(&mut self.more, |&(p, e)| (p, e.0));
    }

    /// Each policy that names `principal`, with how (a policy may come twice).
    pub(crate) fn of(&self, principal: u32) -> impl Iterator<Item = (u32, Membership)> + '_ {
        let first = self.first.get(principal as usize).copied().unwrap_or_default();
        let more = if first.0 & Entry::MORE != 0 {
            let start = self.more.partition_point(|&(p, _)| p < principal);
            let end = self.more.partition_point(|&(p, _)| p <= principal);
            self.more.get(start..end).unwrap_or_default()
        } else {
            &[]
        };
        std::iter::once(first)
            .filter(|e| e.bits() != Membership::default())
            .chain(more.iter().map(|&(_, e)| e))
            .map(|e| (e.policy(), e.bits()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_principal_keeps_every_policy_that_names_it() {
        let mut n = Naming::new(3);
        n.add(0, 0, Membership::INCLUDED);
        n.add(0, 2, Membership::EXCLUDED);
        n.add(0, 0, Membership::EXCLUDED);
        n.add(1, 999, Membership::INCLUDED);
        n.add(0, 1, Membership::INCLUDED);
        n.seal();
        let mut zero: Vec<_> = n.of(0).collect();
        zero.sort_by_key(|&(p, _)| p);
        assert_eq!(
            zero,
            [
                (0, Membership::INCLUDED | Membership::EXCLUDED),
                (1, Membership::INCLUDED),
                (2, Membership::EXCLUDED)
            ]
        );
        assert_eq!(n.of(1).collect::<Vec<_>>(), [(999, Membership::INCLUDED)]);
        assert_eq!(n.of(2).count(), 0, "an id only an app names is named by no policy");
        assert_eq!(n.of(7).count(), 0, "out of range");
    }
}
