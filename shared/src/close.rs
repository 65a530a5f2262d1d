//! WebSocket close codes the relay uses, and what a client should do on each.
//!
//! Codes 1000–1015 are the standard ones from RFC 6455; 4000–4999 are ours. Clients treat
//! [`RESYNC`] and [`GOING_AWAY`] as "reconnect and run the state-vector handshake again";
//! everything else is reported to the user.

/// Normal close: the peer asked to leave.
pub const NORMAL: u16 = 1000;
/// The relay is shutting down; reconnect later (possibly to another relay).
pub const GOING_AWAY: u16 = 1001;
/// A text frame arrived; the protocol is binary only.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// A binary frame did not decode as y-websocket messages, or carried an invalid update.
pub const INVALID_PAYLOAD: u16 = 1007;
/// The connection broke a rule of the relay (for example it stopped answering pings).
pub const POLICY_VIOLATION: u16 = 1008;
/// A frame was larger than the relay accepts.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The relay hit an internal error while serving this room.
pub const INTERNAL_ERROR: u16 = 1011;
/// Too many connections (to this room, or from this address); try again later.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// The connection fell behind its outbound budget. Nothing was dropped silently: reconnect,
/// and the state-vector handshake brings the client back up to date.
pub const RESYNC: u16 = 4001;
/// The room could not be loaded (for example its stored data is damaged).
pub const ROOM_UNAVAILABLE: u16 = 4004;
/// The reason that comes with [`ROOM_UNAVAILABLE`] when an administrator deleted the room:
/// the client then drops its local copy rather than upload the deleted room again.
pub const ROOM_DELETED: &str = "room deleted";
/// The connection sent nothing for the idle timeout.
pub const IDLE_TIMEOUT: u16 = 4008;
/// The update would make the room larger than the relay allows.
pub const ROOM_TOO_LARGE: u16 = 4009;
/// The connection sent messages faster than its rate limit.
pub const RATE_LIMITED: u16 = 4029;
/// No valid token: missing, malformed, forged or expired.
pub const UNAUTHORIZED: u16 = 4401;
/// The token does not allow this: another room, or a viewer trying to edit.
pub const FORBIDDEN: u16 = 4403;

/// The relay cannot reach the store that is the source of truth for this room (Redis, in
/// cluster mode): it refuses writes rather than let relays diverge. Keep your edits and
/// reconnect; the state-vector handshake uploads them once the store is back.
pub const STORE_UNAVAILABLE: u16 = 4503;

/// The relay's auth webhook (`--auth-webhook`) did not answer in time, failed or answered
/// something it cannot read: the relay refuses rather than guess (fails closed). Transient
/// like a store outage: reconnect with backoff.
pub const AUTH_UNAVAILABLE: u16 = 4502;

/// True when a client should reconnect on its own after the relay closed with `code`.
pub fn should_reconnect(code: u16) -> bool {
    matches!(code, GOING_AWAY | RESYNC | INTERNAL_ERROR | TRY_AGAIN_LATER | IDLE_TIMEOUT | STORE_UNAVAILABLE | AUTH_UNAVAILABLE | 1005 | 1006)
}

/// A short human description of `code`, for the same wording in every client.
pub fn describe(code: u16) -> &'static str {
    match code {
        NORMAL => "closed",
        GOING_AWAY => "relay going away",
        UNSUPPORTED_DATA => "unsupported data",
        INVALID_PAYLOAD => "invalid data",
        POLICY_VIOLATION => "policy violation",
        MESSAGE_TOO_BIG => "message too big",
        INTERNAL_ERROR => "relay error",
        TRY_AGAIN_LATER => "too many connections, try again later",
        RESYNC => "fell behind, resyncing",
        ROOM_UNAVAILABLE => "room unavailable",
        IDLE_TIMEOUT => "idle for too long",
        ROOM_TOO_LARGE => "room too large",
        RATE_LIMITED => "sending too fast",
        UNAUTHORIZED => "not signed in (token missing, invalid or expired)",
        FORBIDDEN => "not allowed",
        STORE_UNAVAILABLE => "storage unavailable, retrying",
        AUTH_UNAVAILABLE => "sign-in service unavailable, retrying",
        1005 => "closed without a code",
        1006 => "connection lost",
        _ => "closed",
    }
}
