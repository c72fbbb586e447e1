//! Progress on a terminal (a bar with frames per second and time left) or as
//! plain log lines when stderr is not a terminal (farm logs).

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    total: usize,
    done: usize,
    started: Instant,
    terminal: bool,
    quiet: bool,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Self {
        Progress {
            total,
            done: 0,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    pub fn frame_done(&mut self, frame: i64, path: &std::path::Path) {
        self.done += 1;
        if self.quiet {
            return;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let fps = self.done as f64 / elapsed.max(1e-9);
        let left = (self.total - self.done) as f64 / fps.max(1e-9);
        if self.terminal {
            let width = 30;
            let filled = width * self.done / self.total.max(1);
            eprint!(
                "\r[{}{}] {}/{} frames  {:.2} fps  {} left ",
                "#".repeat(filled),
                " ".repeat(width - filled),
                self.done,
                self.total,
                fps,
                clock(left)
            );
            if self.done == self.total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        } else {
            eprintln!(
                "frame {frame} -> {} ({}/{}, {:.2} fps, {} left)",
                path.display(),
                self.done,
                self.total,
                fps,
                clock(left)
            );
        }
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}
