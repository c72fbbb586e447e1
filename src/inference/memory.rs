//! A cap on what ONNX Runtime may allocate on the CPU, so a hostile or broken
//! model fails its run with a message instead of pushing the host into the
//! kernel's out-of-memory killer.
//!
//! ONNX Runtime allows this through a shared CPU arena registered on the
//! environment with `max_mem`; sessions opt in with `session.use_env_allocators`.
//! An arena keeps what it grew to until it is dropped, so purging the session
//! cache also swaps in a fresh arena: the old one is freed with the last
//! session that used it. What kernels allocate outside the arena (small scratch
//! buffers) is not capped.

use super::InferenceError;
use ort::environment::Environment;
use ort::AsPointer;

/// Environment variable: the cap in MiB; `0` means no cap.
pub const MEMORY_LIMIT_ENV: &str = "COLLAPSE_MEMORY_LIMIT_MB";

/// Environment variable: the most GPU memory (MiB) the CUDA provider's arena may take.
pub const GPU_MEMORY_LIMIT_ENV: &str = "COLLAPSE_GPU_MEMORY_LIMIT_MB";

/// A MiB count from the environment: `None` when unset or empty, `Some(Err)`
/// with the text when it is not a number.
fn env_mib(var: &str) -> Option<Result<usize, String>> {
    let v = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
    Some(v.trim().parse::<usize>().map_err(|_| v))
}

const MIB: usize = 1 << 20;

/// Environment variable: the longest one model run may take, in seconds; `0` for no limit.
pub const RUN_TIME_LIMIT_ENV: &str = "COLLAPSE_RUN_TIME_LIMIT_S";

/// Default run-time limit: far above any sane model's run (the default model takes
/// well under a second a strip), short enough that a hung model does not hang an
/// interactive host for good.
const DEFAULT_RUN_TIME_LIMIT_S: f64 = 120.0;

/// The run-time limit: `COLLAPSE_RUN_TIME_LIMIT_S`, else two minutes.
pub fn run_time_limit() -> Option<std::time::Duration> {
    let v = std::env::var(RUN_TIME_LIMIT_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let secs = match v.as_deref().map(|v| v.trim().parse::<f64>()) {
        Some(Ok(s)) if s == 0.0 => return None,
        Some(Ok(s)) if s.is_finite() && s > 0.0 => s,
        Some(_) => {
            log::warn!("{RUN_TIME_LIMIT_ENV}='{}' is not a number of seconds; using {DEFAULT_RUN_TIME_LIMIT_S}", v.unwrap_or_default());
            DEFAULT_RUN_TIME_LIMIT_S
        }
        None => DEFAULT_RUN_TIME_LIMIT_S,
    };
    Some(std::time::Duration::from_secs_f64(secs))
}

/// Environment variable: the largest model file (MiB) the plugin reads; `0` for no limit.
pub const MODEL_SIZE_LIMIT_ENV: &str = "COLLAPSE_MODEL_MAX_MB";

/// Default model-file limit: generous (the bundled model is under 1 MB; large
/// learned models are a few hundred MB).
const DEFAULT_MODEL_MAX_MB: usize = 2048;

/// The largest model file in bytes: `COLLAPSE_MODEL_MAX_MB`, else 2 GiB.
pub fn model_size_limit() -> Option<u64> {
    let mb = match env_mib(MODEL_SIZE_LIMIT_ENV) {
        Some(Ok(0)) => return None,
        Some(Ok(mb)) => mb,
        Some(Err(v)) => {
            log::warn!(
                "{MODEL_SIZE_LIMIT_ENV}='{v}' is not a number of MiB; using {DEFAULT_MODEL_MAX_MB}"
            );
            DEFAULT_MODEL_MAX_MB
        }
        None => DEFAULT_MODEL_MAX_MB,
    };
    Some(mb as u64 * MIB as u64)
}

/// The CPU cap in bytes: `COLLAPSE_MEMORY_LIMIT_MB`, else half the machine's physical memory.
pub fn memory_limit() -> Option<usize> {
    match env_mib(MEMORY_LIMIT_ENV) {
        Some(Ok(0)) => None,
        Some(Ok(mb)) => Some(mb.saturating_mul(MIB)),
        Some(Err(v)) => {
            log::warn!("{MEMORY_LIMIT_ENV}='{v}' is not a number of MiB; using the default cap");
            default_limit()
        }
        None => default_limit(),
    }
}

/// The CUDA provider's cap in bytes: `COLLAPSE_GPU_MEMORY_LIMIT_MB`; unset,
/// the provider takes what it needs.
pub fn gpu_memory_limit() -> Option<usize> {
    match env_mib(GPU_MEMORY_LIMIT_ENV)? {
        Ok(mb) => (mb > 0).then(|| mb.saturating_mul(MIB)),
        Err(v) => {
            log::warn!("{GPU_MEMORY_LIMIT_ENV}='{v}' is not a number of MiB; no GPU cap");
            None
        }
    }
}

fn default_limit() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: usize = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024) / 2)
}

/// Registers a capped CPU arena on the environment, replacing the one
/// registered before (if any). Sessions created with `with_env_allocators()`
/// from then on allocate from it; older sessions keep theirs.
pub fn register_capped_arena(env: &Environment, max_bytes: usize) -> Result<(), InferenceError> {
    let fail =
        |what: &str| InferenceError::runtime(format!("cannot cap ONNX Runtime's memory: {what}"));
    let api = ort::api();
    let keys = [c"max_mem", c"arena_extend_strategy"];
    let values = [max_bytes, 1]; // 1 = kSameAsRequested: grow only by what a run needs
    let key_ptrs: Vec<_> = keys.iter().map(|k| k.as_ptr()).collect();
    let mut arena_cfg = std::ptr::null_mut();
    let mut mem_info = std::ptr::null_mut();
    // SAFETY: plain calls into the OrtApi table with valid out-pointers; each
    // object created here is released before returning, whatever happens.
    unsafe {
        let status = (api.CreateArenaCfgV2)(
            key_ptrs.as_ptr(),
            values.as_ptr(),
            keys.len(),
            &mut arena_cfg,
        );
        check(api, status).map_err(|e| fail(&e))?;
        let status = (api.CreateCpuMemoryInfo)(
            ort::sys::OrtAllocatorType::OrtArenaAllocator,
            ort::sys::OrtMemType::OrtMemTypeDefault,
            &mut mem_info,
        );
        let env = env.ptr().cast_mut();
        let result = check(api, status).and_then(|()| {
            // Fails harmlessly when none is registered yet.
            let _ = check(api, (api.UnregisterAllocator)(env, mem_info));
            check(
                api,
                (api.CreateAndRegisterAllocator)(env, mem_info, arena_cfg),
            )
        });
        if !mem_info.is_null() {
            (api.ReleaseMemoryInfo)(mem_info);
        }
        (api.ReleaseArenaCfg)(arena_cfg);
        result.map_err(|e| fail(&e))
    }
}

/// Turns an `OrtStatus` into a message, releasing it.
///
/// # Safety
/// `status` is null or a status returned by `api`, not yet released.
unsafe fn check(api: &ort::sys::OrtApi, status: ort::sys::OrtStatusPtr) -> Result<(), String> {
    let status = status.0;
    if status.is_null() {
        return Ok(());
    }
    // SAFETY: per this function's contract; the message lives until the release.
    let message = unsafe {
        let text = std::ffi::CStr::from_ptr((api.GetErrorMessage)(status))
            .to_string_lossy()
            .into_owned();
        (api.ReleaseStatus)(status);
        text
    };
    Err(message)
}
