//! The figures the performance view charts: named series of one value per second, the last
//! five minutes of each, and the percentile helper the sampler uses. Plain data, no browser
//! calls.

use std::collections::{BTreeMap, VecDeque};

/// One value a second for five minutes.
pub const CAPACITY: usize = 300;

/// Named series; `None` is a second without a figure (no probe answered, no store, …).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series(BTreeMap<&'static str, VecDeque<Option<f64>>>);

impl Series {
    /// Appends one second's value of `key`, dropping the oldest beyond [`CAPACITY`].
    pub fn push(&mut self, key: &'static str, value: Option<f64>) {
        let values = self.0.entry(key).or_default();
        values.push_back(value.filter(|v| v.is_finite()));
        while values.len() > CAPACITY {
            values.pop_front();
        }
    }

    pub fn get(&self, key: &str) -> Option<&VecDeque<Option<f64>>> {
        self.0.get(key)
    }

    /// The latest value of `key`, when the latest second had one.
    pub fn last(&self, key: &str) -> Option<f64> {
        self.0.get(key).and_then(|v| v.back().copied().flatten())
    }

    /// Seconds recorded for `key`.
    #[cfg(test)]
    pub fn len(&self, key: &str) -> usize {
        self.0.get(key).map_or(0, VecDeque::len)
    }
}

/// The `p`-th percentile (0–100) of `values` (nearest rank); `None` for no values.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    shared::order::sort_by(&mut sorted, |a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 95.0), Some(95.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 100.0), Some(3.0));
    }

    #[wasm_bindgen_test]
    fn series_keep_five_minutes() {
        let mut s = Series::default();
        for i in 0..400 {
            s.push("x", Some(i as f64));
        }
        s.push("x", Some(f64::NAN));
        assert_eq!(s.len("x"), CAPACITY);
        assert_eq!(s.last("x"), None);
        assert_eq!(s.get("x").and_then(|v| v.front().copied().flatten()), Some(101.0));
    }
}
