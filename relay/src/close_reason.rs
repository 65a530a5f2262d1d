//! Why a connection is closed: a WebSocket close code (`shared::close`) and a reason the
//! client can read. Rooms, admission, the connection task and the HTTP API all say it, so it
//! lives on its own instead of in one of them.

/// A WebSocket close code and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

impl CloseReason {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        // A close frame's reason must fit in 123 bytes; cut on a character boundary.
        let mut reason = reason.into();
        if reason.len() > 123 {
            let mut end = 123;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        CloseReason { code, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_to_fit_a_close_frame() {
        let reason = CloseReason::new(1000, "é".repeat(100));
        assert!(reason.reason.len() <= 123);
    }
}
