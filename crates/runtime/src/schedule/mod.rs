//! Scheduled jobs (`@schedule`): walkers and functions the host runs on its own timer.
//!
//! Each job of an app version gets a tokio task that sleeps until the job's next firing
//! and runs it through [`App::invoke`] like any call (fresh instance, limits, changeset
//! committed when it returns `ok`), as the system user (the original's `__system__`,
//! with its own private root) and with no arguments.
//! A job never overlaps itself: the next firing is computed from the last one, and
//! firings that passed while the run was still going are skipped (and logged), as the
//! original's `max_instances=1` does. Failures are logged with the job named.
//! [`Schedules::stop`] (also on drop) ends every task; a run in progress is cancelled,
//! so its changes are dropped.

pub mod cron;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::{App, Call, Kind};

/// When a job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Every interval, the first run one interval after the app is loaded.
    Interval(Duration),
    /// At the minutes a cron expression names (UTC).
    Cron(cron::Cron),
    /// Created at run time through the original's `/jobs` API, which this host does not
    /// serve: logged at start, never run.
    Dynamic,
}

impl Trigger {
    /// The firing after the one at `last` (or after the start, for the first).
    fn next_after(&self, last: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Trigger::Interval(every) => Some(last + chrono::Duration::from_std(*every).ok()?),
            Trigger::Cron(cron) => cron.next_after(last),
            Trigger::Dynamic => None,
        }
    }
}

/// One scheduled walker or function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub name: String,
    pub kind: Kind,
    pub trigger: Trigger,
}

/// The running jobs of one app version.
#[derive(Debug, Default)]
pub struct Schedules {
    tasks: Vec<JoinHandle<()>>,
}

impl Schedules {
    /// Start a timer task for every job of `app`, each run as `caller` (needs a tokio
    /// runtime when there are jobs).
    pub fn start(app: Arc<App>, caller: &graph::Caller) -> Self {
        let mut tasks = Vec::new();
        for job in &app.manifest().jobs {
            if job.trigger == Trigger::Dynamic {
                tracing::warn!(
                    app = %app.name(), job = %job.name,
                    "dynamic schedules need the /jobs API, which this host does not serve: not run"
                );
                continue;
            }
            tracing::info!(app = %app.name(), job = %job.name, trigger = ?job.trigger, "scheduled");
            tasks.push(tokio::spawn(run_job(
                app.clone(),
                job.clone(),
                caller.clone(),
            )));
        }
        Schedules { tasks }
    }

    /// Stop every job; a run in progress is cancelled (its changes are dropped).
    pub fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Schedules {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Fire `job` at each of its times until the task is aborted.
async fn run_job(app: Arc<App>, job: Job, caller: graph::Caller) {
    let Some(mut next) = job.trigger.next_after(Utc::now()) else {
        return;
    };
    loop {
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let call = Call {
            name: job.name.clone(),
            args: serde_json::Map::new(),
            target: None,
            uploads: files::Uploads::default(),
        };
        match app.invoke(caller.clone(), call).await {
            Ok(_) => tracing::debug!(app = %app.name(), job = %job.name, "scheduled run done"),
            Err(e) => {
                tracing::error!(app = %app.name(), job = %job.name, "scheduled run failed: {e}")
            }
        }
        // Never overlap: firings that passed while this run went on are skipped.
        let now = Utc::now();
        let mut skipped = 0u64;
        loop {
            match job.trigger.next_after(next) {
                Some(t) if t <= now => {
                    next = t;
                    skipped += 1;
                }
                Some(t) => {
                    next = t;
                    break;
                }
                None => return,
            }
        }
        if skipped > 0 {
            tracing::warn!(
                app = %app.name(), job = %job.name, skipped,
                "the run outlasted its interval: skipped firings so it does not overlap itself"
            );
        }
    }
}
