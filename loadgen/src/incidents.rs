//! Errors as they happen: when (seconds into the run), which client, and why (the close
//! code and reason the server sent, or the transport error). A count alone could not tell
//! that every observer of a 15-minute run was closed at the first ping tick after ten
//! minutes with 4008 (issue 21); this log does.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::report::LoadError;

/// Incidents kept one by one; beyond this only the summary counts them.
const KEPT: usize = 2_000;

/// One error of one simulated client.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Seconds since the log was created (the swarm's start).
    pub at_secs: f64,
    pub client: String,
    /// The close code the server sent (1006: the connection ended without one), if it closed.
    pub code: Option<u16>,
    pub reason: String,
}

/// Incidents of the same code and reason.
#[derive(Debug, Clone)]
pub struct Group {
    pub code: Option<u16>,
    pub reason: String,
    pub count: u64,
    pub first_at_secs: f64,
    pub last_at_secs: f64,
}

pub struct Incidents {
    started: Instant,
    kept: Mutex<Vec<Incident>>,
    groups: Mutex<BTreeMap<(Option<u16>, String), Group>>,
}

impl Incidents {
    pub fn new() -> Incidents {
        Incidents { started: Instant::now(), kept: Mutex::new(Vec::new()), groups: Mutex::new(BTreeMap::new()) }
    }

    /// Seconds since the log was created: the clock incidents are stamped with.
    pub fn now_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn record(&self, client: &str, error: &LoadError) {
        let at_secs = self.now_secs();
        let (code, reason) = match error {
            LoadError::Closed { code, reason } => (Some(*code), reason.clone()),
            other => (None, other.to_string()),
        };
        if let Ok(mut groups) = self.groups.lock() {
            let group = groups.entry((code, reason.clone())).or_insert_with(|| Group {
                code,
                reason: reason.clone(),
                count: 0,
                first_at_secs: at_secs,
                last_at_secs: at_secs,
            });
            group.count += 1;
            group.last_at_secs = at_secs;
        }
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() < KEPT {
                kept.push(Incident { at_secs, client: client.to_owned(), code, reason });
            }
        }
    }

    /// The first incident, as one line.
    pub fn first(&self) -> Option<String> {
        self.kept.lock().ok().and_then(|kept| kept.first().map(Incident::line))
    }

    /// The incidents kept, in the order they happened.
    pub fn all(&self) -> Vec<Incident> {
        self.kept.lock().map(|kept| kept.clone()).unwrap_or_default()
    }

    /// One group per code and reason, by first occurrence.
    pub fn summary(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = self.groups.lock().map(|g| g.values().cloned().collect()).unwrap_or_default();
        groups.sort_by(|a, b| a.first_at_secs.total_cmp(&b.first_at_secs));
        groups
    }
}

impl Incident {
    pub fn line(&self) -> String {
        format!("at {:.1} s, {}: {}", self.at_secs, self.client, why(self.code, &self.reason))
    }
}

/// "closed 4008: reason", or the error itself when the server sent no close.
pub fn why(code: Option<u16>, reason: &str) -> String {
    match code {
        Some(code) => format!("closed {code} {:?} ({})", reason, shared::close::describe(code)),
        None => reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_keep_when_who_and_why_and_group_by_close() {
        let log = Incidents::new();
        let idle = || LoadError::Closed { code: 4008, reason: "idle".into() };
        log.record("shape-0 observer 1", &idle());
        log.record("shape-1 observer 2", &idle());
        log.record("shape-1 writer w0", &LoadError::Client("reset".into()));
        let all = log.all();
        assert_eq!(all.len(), 3);
        assert_eq!((all[0].code, all[0].client.as_str()), (Some(4008), "shape-0 observer 1"));
        assert!(all[0].line().contains("closed 4008 \"idle\""), "{}", all[0].line());
        assert_eq!(all[2].code, None);
        let groups = log.summary();
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].code, groups[0].count), (Some(4008), 2));
        assert!(groups[0].first_at_secs <= groups[0].last_at_secs);
        assert_eq!((groups[1].code, groups[1].reason.as_str(), groups[1].count), (None, "client: reset", 1));
    }
}
