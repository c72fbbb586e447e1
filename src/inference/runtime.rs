//! Finding and loading the ONNX Runtime library, once per process.
//!
//! The library ships inside the bundle next to the plugin binary
//! (`Contents/Linux-x86-64/lib/libonnxruntime.so.1`); `COLLAPSE_ORT_LIBRARY`
//! (or ort's own `ORT_DYLIB_PATH`) points elsewhere. The file is checked before
//! `dlopen`, because a truncated ELF file kills the process inside the loader.

use super::{memory, InferenceError};
use once_cell::sync::OnceCell;
use ort::environment::Environment;
use ort::logging::LogLevel;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const LIBRARY_ENV: &str = "COLLAPSE_ORT_LIBRARY";
const LIBRARY_NAME: &str = "libonnxruntime.so.1";

static ENVIRONMENT: OnceCell<Result<Environment, InferenceError>> = OnceCell::new();

/// The process-wide ONNX Runtime environment. A failure is remembered: ort
/// cannot load a second library into the same process.
pub fn environment() -> Result<&'static Environment, InferenceError> {
    ENVIRONMENT.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Environment, InferenceError> {
    let path = library_path()?;
    check_elf(&path)?;
    let builder = ort::init_from(&path).map_err(|e| {
        InferenceError::runtime(match e {
            ort::LoadDynamicError::BadVersion { version_str, .. } => format!(
                "ONNX Runtime at {} is version '{version_str}', too old: the plugin needs \
                 1.{} or newer (the bundle ships one)",
                path.display(),
                ort::MINOR_VERSION
            ),
            other => format!("cannot load ONNX Runtime from {}: {other}", path.display()),
        })
    })?;
    let env = builder
        .with_name("collapse-ofx")
        .with_logger(Arc::new(forward_log))
        .build()
        .map_err(|e| {
            InferenceError::runtime(format!(
                "ONNX Runtime at {} refused to start: {e}",
                path.display()
            ))
        })?;
    log::info!("ONNX Runtime loaded from {}", path.display());
    if let Some(cap) = memory::memory_limit() {
        match memory::register_capped_arena(&env, cap) {
            Ok(()) => {
                log::info!("ONNX Runtime may allocate at most {} MiB", cap >> 20);
                let _ = CAPPED.set(cap);
            }
            Err(e) => log::warn!("{e}; ONNX Runtime's memory is not capped"),
        }
    }
    Ok(env)
}

/// ONNX Runtime's own messages, through `log` (its default logger writes
/// coloured lines straight to stderr). Called from ONNX Runtime's threads,
/// inside C++: nothing may unwind out of it.
fn forward_log(level: LogLevel, category: &str, _id: &str, location: &str, message: &str) {
    let level = match level {
        LogLevel::Verbose => log::Level::Trace,
        LogLevel::Info => log::Level::Debug,
        LogLevel::Warning => log::Level::Warn,
        LogLevel::Error | LogLevel::Fatal => log::Level::Error,
    };
    let _ = std::panic::catch_unwind(|| {
        log::log!(
            level,
            "ONNX Runtime ({category}, {location}): {}",
            message.trim_end()
        )
    });
}

static CAPPED: OnceCell<usize> = OnceCell::new();

/// The CPU cap in bytes when the capped arena is in place (see [`memory`]):
/// sessions then allocate from it.
pub fn memory_cap() -> Option<usize> {
    CAPPED.get().copied()
}

/// Swaps in a fresh capped arena, so the memory of purged sessions goes back
/// to the system once their last render ends. Call with no session being created.
pub fn renew_capped_arena() {
    if let (Some(&cap), Some(Ok(env))) = (CAPPED.get(), ENVIRONMENT.get()) {
        if let Err(e) = memory::register_capped_arena(env, cap) {
            log::warn!("{e}");
        }
    }
}

/// Where the bundle keeps the library, set by the effect on load.
static BUNDLED_LIBRARY: OnceCell<PathBuf> = OnceCell::new();

/// Tells the runtime where the bundle's own library is (`<binary dir>/lib/libonnxruntime.so.1`).
pub fn set_bundled_library_dir(binary_dir: &Path) {
    let _ = BUNDLED_LIBRARY.set(binary_dir.join("lib").join(LIBRARY_NAME));
}

/// Where the library is looked for, in order: the environment overrides, then the bundle.
pub fn library_path() -> Result<PathBuf, InferenceError> {
    for var in [LIBRARY_ENV, "ORT_DYLIB_PATH"] {
        if let Some(p) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(p));
        }
    }
    BUNDLED_LIBRARY.get().cloned().ok_or_else(|| {
        InferenceError::runtime(format!(
            "the plugin does not know its bundle's {LIBRARY_NAME}; set {LIBRARY_ENV}"
        ))
    })
}

/// Refuses anything `dlopen` could crash on: not a file, not a 64-bit ELF shared
/// object for this machine, or program segments / section table past the end.
pub fn check_elf(path: &Path) -> Result<(), InferenceError> {
    let bad = |why: &str| {
        InferenceError::runtime(format!(
            "{} is not a usable ONNX Runtime library: {why}",
            path.display()
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(&e.to_string()))?;
    if !meta.is_file() {
        return Err(bad("not a regular file"));
    }
    let data = std::fs::read(path).map_err(|e| bad(&e.to_string()))?;
    let len = data.len() as u64;
    let u16_at = |o: usize| {
        data.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as u64)
    };
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as u64)
    };
    let u64_at = |o: usize| {
        data.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err(bad("no ELF header"));
    }
    if data[4] != 2 || data[5] != 1 {
        return Err(bad("not a 64-bit little-endian ELF file"));
    }
    if u16_at(16) != Some(3) {
        return Err(bad("not a shared object"));
    }
    let (phoff, phentsize, phnum) = (
        u64_at(0x20).unwrap_or(0),
        u16_at(0x36).unwrap_or(0),
        u16_at(0x38).unwrap_or(0),
    );
    let (shoff, shentsize, shnum) = (
        u64_at(0x28).unwrap_or(0),
        u16_at(0x3a).unwrap_or(0),
        u16_at(0x3c).unwrap_or(0),
    );
    if phnum == 0 || phoff.saturating_add(phentsize * phnum) > len {
        return Err(bad("program headers lie outside the file (truncated?)"));
    }
    if shoff.saturating_add(shentsize * shnum) > len {
        return Err(bad("section headers lie outside the file (truncated?)"));
    }
    for i in 0..phnum {
        let at = (phoff + i * phentsize) as usize;
        let (ty, offset, filesz) = (
            u32_at(at).unwrap_or(0),
            u64_at(at + 8).unwrap_or(0),
            u64_at(at + 32).unwrap_or(0),
        );
        if ty == 1 && offset.saturating_add(filesz) > len {
            return Err(bad(
                "a loadable segment lies past the end of the file (truncated?)",
            ));
        }
    }
    Ok(())
}
