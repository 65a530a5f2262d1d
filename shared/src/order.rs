//! One stable sort for the lists the editor orders (siblings, peers, jobs, draw order,
//! percentiles). The relay's per-update path (`protocol::decode_update`) keeps std's
//! `sort_unstable`: no index list to allocate per update there.
//!
//! Why not `slice::sort_by` at each call site: std's sort (driftsort) is monomorphised per
//! element type and comparator, ~3.5 KB of wasm each. With 25 call sites the copies were
//! 87 KB of the editor's module (`twiggy top`, issue 20), a download every visitor pays. Here
//! std sorts a list of indices once, through a comparator behind `dyn`, so the wasm carries
//! one copy of it; what stays generic per call site is a few hundred bytes (build the indices,
//! move the items into their places). Stability and O(n log n) are std's.
//!
//! The cost is an indirect call per comparison and one `Vec<usize>` per sort: nothing next to
//! the comparisons themselves for lists of a few thousand, which is what the editor sorts.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in their order (like `slice::sort_by`).
pub fn sort_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    {
        let items = &*items;
        sort_indices(&mut order, &mut |a, b| compare(&items[a], &items[b]));
    }
    put_in_order(items, &mut order);
}

/// Sorts `items` ascending, keeping equal items in their order (like `slice::sort`).
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// The one instantiation of std's sort: indices, ordered by what they point at.
#[inline(never)]
fn sort_indices(order: &mut [usize], compare: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| compare(a, b));
}

/// Moves `items[order[i]]` to position `i` for every `i`, in place, by following each cycle
/// of the permutation. `order` is used up (each visited position is marked as its own).
fn put_in_order<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut position = start;
        loop {
            let source = order[position];
            order[position] = position;
            if source == start || source == position {
                break;
            }
            items.swap(position, source);
            position = source;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no rand dependency for a test).
    fn numbers(seed: u64, count: usize, modulo: u64) -> Vec<u64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 33) % modulo
            })
            .collect()
    }

    #[test]
    fn sorts_like_std_and_keeps_equal_items_in_order() {
        for (seed, count, modulo) in [(1, 0, 5), (2, 1, 5), (3, 2, 2), (4, 17, 4), (5, 1000, 30), (6, 5000, 1_000_000)] {
            // Pairs (key, original position): equal keys must keep their positions' order.
            let items: Vec<(u64, usize)> = numbers(seed, count, modulo).into_iter().zip(0..).collect();
            let mut ours = items.clone();
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut std_sorted = items.clone();
            std_sorted.sort_by_key(|a| a.0);
            assert_eq!(ours, std_sorted, "seed {seed}, {count} items");
        }
    }

    #[test]
    fn sort_agrees_with_std() {
        let mut words: Vec<String> =
            numbers(9, 300, 50).into_iter().map(|n| format!("w{n}")).collect();
        let mut expected = words.clone();
        expected.sort();
        sort(&mut words);
        assert_eq!(words, expected);
    }

    #[test]
    fn reverse_and_already_sorted_inputs() {
        let mut descending: Vec<u32> = (0..100).rev().collect();
        sort(&mut descending);
        assert_eq!(descending, (0..100).collect::<Vec<_>>());
        let mut ascending: Vec<u32> = (0..100).collect();
        sort_by(&mut ascending, |a, b| b.cmp(a));
        assert_eq!(ascending, (0..100).rev().collect::<Vec<_>>());
    }
}
