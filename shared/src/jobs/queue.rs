//! A runner's queue: the order in which one client works through the jobs it was asked to
//! run while it was busy (oldest first). The runner takes the next job from it, and the jobs
//! panel shows every queued job's place in it, so both read the same order from the same
//! document.

use super::model::Job;

/// The queued jobs of `runner` in `jobs` (any order), in the order the runner takes them:
/// by creation time, then id.
pub fn queued_for(jobs: &[Job], runner: u64) -> Vec<&Job> {
    let mut queued: Vec<&Job> = jobs.iter().filter(|j| j.is_queued() && j.runner == runner).collect();
    crate::order::sort_by(&mut queued, |a, b| a.created_ms.total_cmp(&b.created_ms).then_with(|| a.id.cmp(&b.id)));
    queued
}

/// Where job `id` stands in its runner's queue: 1 for the next to run; `None` if it is not
/// queued.
pub fn position(jobs: &[Job], id: &str) -> Option<usize> {
    let job = jobs.iter().find(|j| j.id == id && j.is_queued())?;
    queued_for(jobs, job.runner).iter().position(|j| j.id == id).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobState;

    fn job(id: &str, runner: u64, state: JobState, created_ms: f64) -> Job {
        Job { id: id.into(), runner, state: Some(state), created_ms, ..Job::default() }
    }

    #[test]
    fn each_runner_takes_its_own_queued_jobs_oldest_first() {
        let jobs = vec![
            job("c", 1, JobState::Queued, 30.0),
            job("r", 1, JobState::Running, 5.0),
            job("a", 1, JobState::Queued, 10.0),
            job("x", 2, JobState::Queued, 1.0),
            job("b", 1, JobState::Queued, 10.0),
            job("gone", 1, JobState::Cancelled, 2.0),
        ];
        let order: Vec<&str> = queued_for(&jobs, 1).iter().map(|j| j.id.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!((position(&jobs, "a"), position(&jobs, "c"), position(&jobs, "x")), (Some(1), Some(3), Some(1)));
        assert_eq!((position(&jobs, "r"), position(&jobs, "gone"), position(&jobs, "nope")), (None, None, None));
    }
}
