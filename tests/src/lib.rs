//! Helpers for the integration tests: a native y-websocket client on yrs.
