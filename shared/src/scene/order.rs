//! Sibling order as fractional-index strings, so that peers can insert between two siblings
//! without renumbering anyone (and two concurrent inserts both survive).
//!
//! A key is a non-empty string over the 62 ASCII digits [`ALPHABET`] (`0-9A-Za-z`, in byte
//! order), read as the digits of a fraction in (0, 1): `"V"` is 31/62. Keys never end in
//! `'0'`, which guarantees there is always room between two different keys. Keys compare
//! as plain byte strings, so JavaScript's `<` on strings orders them the same way.
//!
//! We keep our own ~100 lines rather than the `fractional_index` crate: its keys are byte
//! vectors in its own encoding, and a plain Yjs client in JavaScript must be able to make
//! keys too (the algorithm is the `midpoint` of the npm `fractional-indexing` package,
//! without its integer prefix; see `docs/scene-schema.md`).

use thiserror::Error;

/// The digits of a key, in ascending order.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const BASE: usize = ALPHABET.len();

/// Why no key could be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrderKeyError {
    /// The key is empty, ends in `'0'`, or has a character outside [`ALPHABET`].
    #[error("invalid order key {0:?}")]
    Invalid(String),
    /// The lower bound is not below the upper bound.
    #[error("order key {lower:?} is not below {upper:?}")]
    NotOrdered { lower: String, upper: String },
}

/// Whether `key` is a well-formed order key.
pub fn is_valid(key: &str) -> bool {
    !key.is_empty() && !key.ends_with('0') && key.bytes().all(|b| digit(b).is_some())
}

fn digit(b: u8) -> Option<usize> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as usize),
        b'A'..=b'Z' => Some((b - b'A') as usize + 10),
        b'a'..=b'z' => Some((b - b'a') as usize + 36),
        _ => None,
    }
}

fn check(key: &str) -> Result<&[u8], OrderKeyError> {
    if is_valid(key) {
        Ok(key.as_bytes())
    } else {
        Err(OrderKeyError::Invalid(key.to_owned()))
    }
}

/// A key strictly between `lower` and `upper`; `None` is the start (or end) of the list.
///
/// Appending (`upper == None`) and prepending (`lower == None`) step the first digit that
/// can step (or add one digit when none can), so a list built by appending grows its keys
/// by one character per ~60 items.
pub fn key_between(lower: Option<&str>, upper: Option<&str>) -> Result<String, OrderKeyError> {
    let lower = lower.map(check).transpose()?;
    let upper = upper.map(check).transpose()?;
    let out = match (lower, upper) {
        (None, None) => vec![ALPHABET[BASE / 2]],
        (Some(a), None) => after(a),
        (None, Some(b)) => before(b),
        (Some(a), Some(b)) => {
            if a >= b {
                return Err(OrderKeyError::NotOrdered {
                    lower: String::from_utf8_lossy(a).into_owned(),
                    upper: String::from_utf8_lossy(b).into_owned(),
                });
            }
            midpoint(a, Some(b))
        }
    };
    // Only alphabet bytes were pushed.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `n` keys in ascending order, all strictly between `lower` and `upper`.
pub fn keys_between(lower: Option<&str>, upper: Option<&str>, n: usize) -> Result<Vec<String>, OrderKeyError> {
    let mut keys = Vec::with_capacity(n);
    let mut previous = lower.map(str::to_owned);
    for _ in 0..n {
        let key = key_between(previous.as_deref(), upper)?;
        previous = Some(key.clone());
        keys.push(key);
    }
    Ok(keys)
}

fn after(a: &[u8]) -> Vec<u8> {
    match a.iter().position(|&c| c != b'z') {
        Some(i) => {
            let mut out = a[..i].to_vec();
            out.push(ALPHABET[digit(a[i]).unwrap_or(0) + 1]);
            out
        }
        None => [a, b"1"].concat(),
    }
}

fn before(b: &[u8]) -> Vec<u8> {
    match b.iter().position(|&c| c > b'1') {
        Some(i) => {
            let mut out = b[..i].to_vec();
            out.push(ALPHABET[digit(b[i]).unwrap_or(2) - 1]);
            out
        }
        // Only '0's and '1's: keep the leading zeros and the '0' below the first '1', then
        // the largest digit ("1" → "0z", "01" → "00z").
        None => {
            let ones = b.iter().position(|&c| c == b'1').unwrap_or(b.len());
            let mut out = vec![b'0'; ones + 1];
            out.push(b'z');
            out
        }
    }
}

/// A key between `a` (may be empty: 0) and `b` (`None`: 1), `a < b`, neither ending in `'0'`.
fn midpoint(a: &[u8], b: Option<&[u8]>) -> Vec<u8> {
    if let Some(b) = b {
        // Strip the common prefix (`a` is padded with zeros).
        let n = (0..b.len()).take_while(|&i| a.get(i).copied().unwrap_or(b'0') == b[i]).count();
        if n > 0 {
            let mut out = b[..n].to_vec();
            out.extend(midpoint(a.get(n..).unwrap_or(b""), Some(&b[n..])));
            return out;
        }
    }
    let da = a.first().and_then(|&c| digit(c)).unwrap_or(0);
    let db = b.and_then(|b| b.first()).and_then(|&c| digit(c)).unwrap_or(BASE);
    if db - da > 1 {
        vec![ALPHABET[(da + db).div_ceil(2)]]
    } else if let Some(b) = b.filter(|b| b.len() > 1) {
        b[..1].to_vec()
    } else {
        let mut out = vec![ALPHABET[da]];
        out.extend(midpoint(a.get(1..).unwrap_or(b""), None));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between(a: Option<&str>, b: Option<&str>) -> String {
        let k = key_between(a, b).unwrap();
        assert!(is_valid(&k), "{k:?}");
        if let Some(a) = a {
            assert!(a < k.as_str(), "{a:?} < {k:?}");
        }
        if let Some(b) = b {
            assert!(k.as_str() < b, "{k:?} < {b:?}");
        }
        k
    }

    #[test]
    fn alphabet_is_in_byte_order() {
        assert!(ALPHABET.windows(2).all(|w| w[0] < w[1]));
        assert!(ALPHABET.iter().enumerate().all(|(i, &c)| digit(c) == Some(i)));
    }

    #[test]
    fn first_key_and_edges() {
        assert_eq!(between(None, None), "V");
        assert_eq!(between(Some("V"), None), "W");
        assert_eq!(between(None, Some("V")), "U");
        assert_eq!(between(Some("z"), None), "z1");
        assert_eq!(between(None, Some("1")), "0z");
        assert_eq!(between(None, Some("01")), "00z");
        assert_eq!(between(None, Some("11")), "0z");
        assert_eq!(between(Some("V"), Some("W")), "VV");
        assert_eq!(between(Some("a"), Some("a1")), "a0V");
    }

    #[test]
    fn repeated_inserts_stay_ordered_and_short() {
        let mut keys = vec![between(None, None)];
        for _ in 0..500 {
            let last = keys.last().unwrap().clone();
            keys.push(between(Some(&last), None));
        }
        for _ in 0..500 {
            let first = keys[0].clone();
            keys.insert(0, between(None, Some(&first)));
        }
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(keys.iter().all(|k| k.len() <= 10), "{:?}", keys.iter().map(String::len).max());
        // Always inserting between the same two neighbours: keys grow, order holds.
        let (mut lo, hi) = (keys[10].clone(), keys[11].clone());
        for _ in 0..200 {
            lo = between(Some(&lo), Some(&hi));
        }
        let (lo, mut hi) = (keys[10].clone(), keys[11].clone());
        for _ in 0..200 {
            hi = between(Some(&lo), Some(&hi));
        }
    }

    #[test]
    fn many_keys_between() {
        let ks = keys_between(Some("a"), Some("b"), 100).unwrap();
        assert!(ks.windows(2).all(|w| w[0] < w[1]));
        assert!(ks.first().unwrap().as_str() > "a" && ks.last().unwrap().as_str() < "b");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(key_between(Some(""), None), Err(OrderKeyError::Invalid(_))));
        assert!(matches!(key_between(Some("a0"), None), Err(OrderKeyError::Invalid(_))));
        assert!(matches!(key_between(Some("a-"), None), Err(OrderKeyError::Invalid(_))));
        assert!(matches!(key_between(Some("b"), Some("a")), Err(OrderKeyError::NotOrdered { .. })));
        assert!(matches!(key_between(Some("b"), Some("b")), Err(OrderKeyError::NotOrdered { .. })));
    }
}
