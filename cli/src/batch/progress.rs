//! Progress of a batch: an indicatif multi-line view on stderr (a bar of
//! finished jobs with rate and ETA, and a line of counts: queued, creating,
//! waiting, downloading, done, failed), drawn only on a terminal; or, with
//! `--json`, one line per job event on stdout (`{"event": "job", "line": 3,
//! "state": "waiting", ...}`). Text passes through `Output`'s key redactor.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::results::Status;
use crate::output::Output;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not sent yet.
    Queued,
    /// Its create is being sent (or retried).
    Creating,
    /// Created; waiting for its terminal status (stream or poll scheduler).
    Waiting,
    /// Terminal; its outputs are being saved.
    Downloading,
    /// Done for this run.
    Ended(Status),
}

impl Phase {
    /// The phase's name in `job` events.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Creating => "creating",
            Phase::Waiting => "waiting",
            Phase::Downloading => "downloading",
            Phase::Ended(s) => s.as_str(),
        }
    }
}

/// The progress view (or JSON event lines).
pub struct Progress<'a> {
    out: &'a Output,
    view: Option<View>,
    /// Jobs per phase: queued, creating, waiting, downloading.
    live: [usize; 4],
    done: usize,
    failed: usize,
}

struct View {
    multi: MultiProgress,
    bar: ProgressBar,
    counts: ProgressBar,
}

impl<'a> Progress<'a> {
    /// A view of `total` jobs (none in JSON mode or off a terminal).
    pub fn new(out: &'a Output, total: usize) -> Self {
        let view = (!out.is_json()).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let bar = multi.add(ProgressBar::new(total as u64));
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} jobs  {per_sec}  ETA {eta}  {elapsed}",
            ) {
                bar.set_style(style);
            }
            let counts = multi.add(ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                counts.set_style(style);
            }
            counts.enable_steady_tick(Duration::from_millis(200));
            View { multi, bar, counts }
        });
        Progress {
            out,
            view,
            live: [0; 4],
            done: 0,
            failed: 0,
        }
    }

    /// A job moved from `from` to `to`; `event` is its JSON line.
    pub fn moved(&mut self, from: Option<Phase>, to: Phase, event: Value) {
        if let Some(i) = from.and_then(slot) {
            self.live[i] = self.live[i].saturating_sub(1);
        }
        match to {
            Phase::Ended(Status::Completed) => self.done += 1,
            Phase::Ended(_) => self.failed += 1,
            other => {
                if let Some(i) = slot(other) {
                    self.live[i] += 1;
                }
            }
        }
        self.out.line(&event);
        self.redraw();
    }

    /// `n` jobs wait in the queue at the start (counted, no event lines).
    pub fn queued(&mut self, n: usize) {
        self.live[0] += n;
        self.redraw();
    }

    /// A job already finished by an earlier run (counted, no event line).
    pub fn skipped(&mut self, status: Status) {
        if status == Status::Completed {
            self.done += 1;
        } else {
            self.failed += 1;
        }
    }

    fn redraw(&self) {
        if let Some(v) = &self.view {
            v.bar.set_position((self.done + self.failed) as u64);
            let [queued, creating, waiting, downloading] = self.live;
            v.counts.set_message(format!(
                "queued {queued} · creating {creating} · waiting {waiting} · downloading {downloading} · done {} · failed {}",
                self.done, self.failed
            ));
        }
    }

    /// A human note above the view (nothing in JSON mode).
    pub fn note(&self, text: &str) {
        if self.out.is_json() {
            return;
        }
        let text = self.out.redact(text);
        match &self.view {
            Some(v) if !v.multi.is_hidden() => v.multi.suspend(|| eprintln!("{text}")),
            _ => eprintln!("{text}"),
        }
    }

    /// Removes the view.
    pub fn finish(&mut self) {
        if let Some(v) = self.view.take() {
            v.counts.finish_and_clear();
            v.bar.finish_and_clear();
            let _ = v.multi.clear();
        }
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

fn slot(p: Phase) -> Option<usize> {
    match p {
        Phase::Queued => Some(0),
        Phase::Creating => Some(1),
        Phase::Waiting => Some(2),
        Phase::Downloading => Some(3),
        Phase::Ended(_) => None,
    }
}
