//! A small stderr logger for the plugin. `COLLAPSE_LOG` sets the level
//! (error, warn, info, debug, trace; default info). Messages the artist must
//! see also go through the host's message suite (see `ofx::Instance::set_persistent_message`).

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }
    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            // Never eprintln!: it panics when stderr is a broken pipe, and some
            // callers (ONNX Runtime's logger callback) cannot unwind.
            let _ = writeln!(
                std::io::stderr(),
                "[collapse {}] {}",
                record.level().as_str().to_lowercase(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the logger once; later calls (and a logger already set by someone else) are fine.
pub fn init() {
    if log::set_logger(&LOGGER).is_ok() {
        let level = std::env::var("COLLAPSE_LOG")
            .ok()
            .and_then(|v| v.parse::<LevelFilter>().ok())
            .unwrap_or(LevelFilter::Info);
        log::set_max_level(level);
    }
}
