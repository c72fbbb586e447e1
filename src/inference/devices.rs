//! Execution providers: which device a session runs on.

use super::memory::gpu_memory_limit;
use ort::ep::{ExecutionProvider, ExecutionProviderDispatch, TensorRT, CUDA};
use std::path::PathBuf;

/// What the artist asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceRequest {
    /// The GPU when ONNX Runtime can use one, else the CPU, silently.
    Auto,
    Cpu,
    /// The GPU; falls back to the CPU with a warning.
    Gpu,
}

/// What a session actually runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionDevice {
    Cpu,
    Cuda,
    TensorRt,
}

impl ExecutionDevice {
    pub fn label(self) -> &'static str {
        match self {
            ExecutionDevice::Cpu => "CPU",
            ExecutionDevice::Cuda => "CUDA GPU",
            ExecutionDevice::TensorRt => "TensorRT GPU",
        }
    }
}

/// Environment variable naming the TensorRT engine cache folder.
pub const TENSORRT_CACHE_ENV: &str = "COLLAPSE_TENSORRT_CACHE";

/// The TensorRT engine cache folder: `COLLAPSE_TENSORRT_CACHE`, else the user's cache folder.
pub fn tensorrt_cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os(TENSORRT_CACHE_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("collapse-ofx").join("tensorrt")
}

/// GPU providers to try, best first, for a request.
pub fn gpu_candidates(
    request: DeviceRequest,
    tensorrt: bool,
    half: bool,
) -> Vec<(ExecutionDevice, ExecutionProviderDispatch)> {
    if request == DeviceRequest::Cpu {
        return Vec::new();
    }
    let mut out = Vec::new();
    if tensorrt && TensorRT::is_available().unwrap_or(false) {
        let cache = tensorrt_cache_dir();
        if let Err(e) = std::fs::create_dir_all(&cache) {
            log::warn!(
                "cannot create the TensorRT cache folder {}: {e}",
                cache.display()
            );
        }
        let trt = TensorRT::default()
            .with_engine_cache(true)
            .with_engine_cache_path(cache.display().to_string())
            .with_timing_cache(true)
            .with_fp16(half)
            .build()
            .error_on_failure();
        out.push((ExecutionDevice::TensorRt, trt));
    }
    if CUDA::is_available().unwrap_or(false) {
        let mut cuda = CUDA::default();
        if let Some(bytes) = gpu_memory_limit() {
            cuda = cuda.with_memory_limit(bytes);
        }
        out.push((ExecutionDevice::Cuda, cuda.build().error_on_failure()));
    }
    out
}
