//! The roles a room grants, as the wire spells them: the `role` claim of a room token, the
//! `role` of message 104 (docs/protocol.md) and of a share link. The relay checks them and
//! the page obeys them, so the names live here once for both.

use serde::{Deserialize, Serialize};

/// What the holder of a grant may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Editor,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// `editor` or `viewer`, as [`Role::as_str`] writes them.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "editor" => Some(Role::Editor),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// Whether a holder of `self` may hand out `other` (never a role above one's own).
    pub fn may_grant(self, other: Role) -> bool {
        self == Role::Editor || other == Role::Viewer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_serde_agrees() {
        for role in [Role::Editor, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn nobody_grants_above_their_own_role() {
        assert!(Role::Editor.may_grant(Role::Editor));
        assert!(Role::Editor.may_grant(Role::Viewer));
        assert!(Role::Viewer.may_grant(Role::Viewer));
        assert!(!Role::Viewer.may_grant(Role::Editor));
    }
}
