//! Deletion histories: what a deleted room held, as an encoded state vector (v1), kept
//! beyond the room so that copies of its content cannot bring it back (the rule itself is
//! the room's: `room/deletion.rs`). Stores merge a new history into the one recorded before;
//! rooms decode them.

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::StateVector;

/// A decoded history, or why it does not decode.
pub fn decode(bytes: &[u8]) -> Result<StateVector, String> {
    StateVector::decode_v1(bytes).map_err(|e| format!("deletion history: {e}"))
}

/// Merges two encoded histories.
pub fn merge(earlier: &[u8], later: &[u8]) -> Result<Vec<u8>, String> {
    let mut merged = decode(earlier)?;
    merged.merge(decode(later)?);
    Ok(merged.encode_v1())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Map, ReadTxn, Transact};

    #[test]
    fn histories_merge() {
        let (a, b) = (Doc::new(), Doc::new());
        a.get_or_insert_map("m").insert(&mut a.transact_mut(), "x", 1);
        b.get_or_insert_map("m").insert(&mut b.transact_mut(), "y", 1);
        let merged = merge(&a.transact().state_vector().encode_v1(), &b.transact().state_vector().encode_v1()).expect("merges");
        let merged = decode(&merged).expect("decodes");
        assert_eq!((merged.get(&a.client_id()), merged.get(&b.client_id())), (1, 1));
        assert!(decode(b"\xff\xff\xff").is_err());
    }
}
