//! Progress: an indicatif bar (frames, frames per second, time left) on a terminal,
//! one plain line per frame when stderr is not a terminal (farm logs).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    total: usize,
    done: usize,
    started: Instant,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "[{bar:30}] {pos}/{len} frames  {per_sec:.2}  {eta_precise} left",
                )
                .expect("a valid progress template")
                .progress_chars("#> "),
            );
            bar
        });
        Progress {
            bar,
            plain: !quiet && !terminal,
            total,
            done: 0,
            started: Instant::now(),
        }
    }

    pub fn frame_done(&mut self, frame: i64, path: &std::path::Path) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if self.done == self.total {
                bar.finish();
            }
        } else if self.plain {
            let fps = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            let left = (self.total - self.done) as f64 / fps.max(1e-9);
            eprintln!(
                "frame {frame} -> {} ({}/{}, {fps:.2} fps, {} left)",
                path.display(),
                self.done,
                self.total,
                indicatif::FormattedDuration(std::time::Duration::from_secs_f64(left.round())),
            );
        }
    }
}
