//! The rule for room names, shared by the relay (which enforces it) and the client (which
//! picks names that pass it).

/// Longest room name, in bytes.
pub const MAX_ROOM_NAME: usize = 200;

/// Why a room name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoomNameError {
    #[error("room name must be 1 to 200 bytes")]
    Length,
    #[error("room name may not contain control characters")]
    ControlCharacter,
}

/// Room names are opaque but must be printable and of sane length.
pub fn check(name: &str) -> Result<(), RoomNameError> {
    if name.is_empty() || name.len() > MAX_ROOM_NAME {
        return Err(RoomNameError::Length);
    }
    if name.chars().any(char::is_control) {
        return Err(RoomNameError::ControlCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        assert!(check("scene-1").is_ok());
        assert!(check(&"x".repeat(MAX_ROOM_NAME)).is_ok());
        assert_eq!(check(""), Err(RoomNameError::Length));
        assert_eq!(check(&"x".repeat(MAX_ROOM_NAME + 1)), Err(RoomNameError::Length));
        assert_eq!(check("a\u{0}b"), Err(RoomNameError::ControlCharacter));
    }
}
