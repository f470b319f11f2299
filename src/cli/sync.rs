//! `vaxentry sync`: sends what waits in the outbox, headless (for cron), with a
//! progress bar on a terminal and a one-line summary.

use super::UNREADABLE;
use crate::clock::Clock;
use crate::config::Config;
use crate::delivery::sync;
use crate::store::Store;
use crate::submit::Submitter;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

pub fn run(store: &mut Store, config: &Config, clock: Clock, now: bool) -> ExitCode {
    let endpoint = match crate::submit::configured_endpoint(config) {
        None => {
            err!(
                "vaxentry sync: no endpoint is configured; add an [endpoint] section to the config file (see README) and run again"
            );
            return ExitCode::from(UNREADABLE);
        }
        Some(Ok(e)) => e,
        Some(Err(e)) => {
            err!("vaxentry sync: {e}");
            return ExitCode::from(UNREADABLE);
        }
    };
    for warning in &endpoint.warnings {
        err!("warning: {warning}");
    }
    let mut submitter = Submitter::new(endpoint, clock);
    // Hidden automatically when stderr is not a terminal (cron, pipes).
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} sending")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = sync(store, &mut submitter, now, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            let problem = report
                .problem
                .as_deref()
                .map(|p| format!(" (last problem: {p})"))
                .unwrap_or_default();
            out!(
                "sync: {} sent, {} failed, {} will be retried, {} waiting{problem}",
                report.sent,
                report.failed,
                report.deferred,
                report.waiting
            );
            if report.failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            err!("vaxentry sync: {e:#}");
            ExitCode::from(UNREADABLE)
        }
    }
}
