//! A heapsort for the engine's small lists: a user's devices, an app's audience, the apps
//! a user is given.
//!
//! The standard library's unstable sort is a pattern-defeating quicksort with small-sort
//! networks and a heapsort fallback: about 3 KB of WebAssembly for every element type it
//! is compiled for, and the engine sorted five. This one is a few hundred bytes per type,
//! sorts in place in O(n log n) at worst (a hostile state of 100,000 devices included), and
//! allocates nothing. The one large sort, a population's users by id, keeps the standard
//! one, which is faster on millions.

/// Sorts `v` by `key`, in place; equal keys end in no particular order.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a) < key(b))
}

/// Sorts `v` ascending, in place.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, |a, b| a < b)
}

/// Sorts `v` by `less`, a strict order, in place.
pub(crate) fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    // Build a max-heap, then move its top to the end one element at a time.
    for start in (0..v.len() / 2).rev() {
        sift_down(v, start, &mut less);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        if let Some(heap) = v.get_mut(..end) {
            sift_down(heap, 0, &mut less);
        }
    }
}

/// Moves `v[node]` down the max-heap `v` until neither child is greater.
fn sift_down<T>(v: &mut [T], mut node: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    loop {
        let left = 2 * node + 1;
        let right = left + 1;
        let mut child = left;
        if let (Some(l), Some(r)) = (v.get(left), v.get(right))
            && less(l, r)
        {
            child = right;
        }
        match (v.get(node), v.get(child)) {
            (Some(n), Some(c)) if less(n, c) => v.swap(node, child),
            _ => return,
        }
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_as_the_standard_sort_does(mut v in proptest::collection::vec(0u8..20, 0..200)) {
            let mut expected = v.clone();
            expected.sort_unstable();
            super::sort(&mut v);
            prop_assert_eq!(v, expected);
        }

        #[test]
        fn sorts_by_key(mut v in proptest::collection::vec((0u8..5, 0u16..1000), 0..200)) {
            let mut expected = v.clone();
            expected.sort_by_key(|p| std::cmp::Reverse(p.0));
            super::sort_by_key(&mut v, |p| std::cmp::Reverse(p.0));
            let keys = |v: &[(u8, u16)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
            prop_assert_eq!(keys(&v), keys(&expected));
            let mut sorted_v = v.clone();
            sorted_v.sort_unstable();
            let mut sorted_e = expected.clone();
            sorted_e.sort_unstable();
            prop_assert_eq!(sorted_v, sorted_e);
        }
    }
}
