//! One loaded model per (model path, device, precision), created on first use
//! and shared by every instance and render thread: a contract-1 `.onnx` file
//! (one session) or a contract-2 package (one session per stage, `package.rs`).

use super::contract::Contract;
use super::devices::{gpu_candidates, DeviceRequest, ExecutionDevice};
use super::package::{self, Package};
use super::runtime::{environment, memory_cap, renew_capped_arena};
use super::InferenceError;
use once_cell::sync::Lazy;
use ort::session::{builder::GraphOptimizationLevel, Session};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Which model to run and how.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModelRequest {
    pub path: PathBuf,
    pub device: DeviceRequest,
    pub half: bool,
    pub tensorrt: bool,
}

/// A model ready to run.
pub struct LoadedModel {
    pub(crate) graph: Graph,
    pub contract: Contract,
    pub device: ExecutionDevice,
    /// The file actually loaded (the fp16 variant when half precision found one),
    /// or the package's folder.
    pub path: PathBuf,
    /// Set when the artist asked for something we could not give (GPU, fp16).
    pub warning: Option<String>,
}

/// What runs: one contract-1 session, or a package's stages.
pub(crate) enum Graph {
    /// `Session::run` needs exclusive access; ONNX Runtime parallelises inside a run.
    Single(Mutex<Session>),
    Package(Package),
}

impl LoadedModel {
    /// True for a contract-2 package: it keeps its per-shot and per-frame stages'
    /// outputs itself, so a tile costs only its own pixels (no frame-wide element cache).
    pub fn is_package(&self) -> bool {
        matches!(self.graph, Graph::Package(_))
    }

    /// Session runs per stage since loading, in package order (a contract-1 model:
    /// one entry, "model", not counted: 0). Served from the kept outputs does not count.
    pub fn stage_runs(&self) -> Vec<(String, u64)> {
        match &self.graph {
            Graph::Package(p) => p.runs(),
            Graph::Single(_) => vec![("model".into(), 0)],
        }
    }

    /// Forgets the package's cached stage outputs (the benchmark times cold stages).
    pub fn clear_stage_cache(&self) {
        if let Graph::Package(p) = &self.graph {
            p.clear_cache();
        }
    }
}

static CACHE: Lazy<Mutex<HashMap<ModelRequest, Arc<LoadedModel>>>> =
    Lazy::new(|| Mutex::new(HashMap::new()));

/// The shared session for a request, creating it on first use.
pub fn load_model(request: &ModelRequest) -> Result<Arc<LoadedModel>, InferenceError> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(model) = cache.get(request) {
        return Ok(model.clone());
    }
    let model = Arc::new(create(request)?);
    log::info!(
        "model '{}' ({}) loaded from {} on {}",
        model.contract.name,
        match model.contract.precision {
            super::Precision::Float32 => "float32",
            super::Precision::Float16 => "float16",
        },
        model.path.display(),
        model.device.label()
    );
    cache.insert(request.clone(), model.clone());
    Ok(model)
}

/// The shared session for a request if one was already created (never loads).
pub fn loaded_model(request: &ModelRequest) -> Option<Arc<LoadedModel>> {
    let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.get(request).cloned()
}

/// Drops every cached session (purgeCaches, unload). Renders holding one keep it alive.
pub fn purge() {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.clear();
    renew_capped_arena();
}

fn create(request: &ModelRequest) -> Result<LoadedModel, InferenceError> {
    if let Some(dir) = package_dir(&request.path) {
        return package::load(request, &dir);
    }
    check_model_file(&request.path)?;
    let mut warnings = Vec::new();
    let path = if request.half {
        match half_variant(&request.path) {
            Some(p) => p,
            None => {
                warnings.push(format!(
                    "{} has no half-precision variant; running it in float32",
                    request.path.display()
                ));
                request.path.clone()
            }
        }
    } else {
        request.path.clone()
    };
    let (session, device) = build_session(&path, request, Threads::AllCores, &mut warnings)?;
    let contract = Contract::from_session(&session).map_err(|e| InferenceError {
        message: format!("{} ({})", e.message, path.display()),
        ..e
    })?;
    Ok(LoadedModel {
        graph: Graph::Single(Mutex::new(session)),
        contract,
        device,
        path,
        warning: join_warnings(warnings),
    })
}

/// The warnings for the artist as one message, if any (repeats dropped).
pub(crate) fn join_warnings(mut warnings: Vec<String>) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    (!warnings.is_empty()).then(|| warnings.join("; "))
}

/// How many threads a session's operators may use on the CPU.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Threads {
    /// Every core, or `COLLAPSE_THREADS`.
    AllCores,
    /// One: for small graphs (a package's per-frame stages, well under a millisecond of
    /// work per operator), where waking a pool for each operator costs more than it
    /// saves, and much more when the other cores are busy.
    One,
}

/// A session for the ONNX file `path` on the requested device: the GPU providers
/// best first, else the CPU (with a warning in `warnings` when the GPU was asked for).
pub(crate) fn build_session(
    path: &Path,
    request: &ModelRequest,
    threads: Threads,
    warnings: &mut Vec<String>,
) -> Result<(Session, ExecutionDevice), InferenceError> {
    let env = environment()?;
    for (device, ep) in gpu_candidates(request.device, request.tensorrt, request.half) {
        match builder(env, threads)?
            .with_execution_providers([ep])
            .map_err(|e| e.to_string())
            .and_then(|mut b| b.commit_from_file(path).map_err(|e| e.to_string()))
        {
            Ok(s) => return Ok((s, device)),
            Err(e) => log::warn!("{} unavailable for {}: {e}", device.label(), path.display()),
        }
    }
    if request.device == DeviceRequest::Gpu {
        warnings.push(
            "GPU asked for, but ONNX Runtime has no usable GPU here; rendering on the CPU"
                .to_string(),
        );
    }
    let s = builder(env, threads)?.commit_from_file(path).map_err(|e| {
        InferenceError::model(format!(
            "ONNX Runtime cannot load the model {}: {e}",
            path.display()
        ))
    })?;
    Ok((s, ExecutionDevice::Cpu))
}

/// Environment variable limiting ONNX Runtime's threads per session (default: every core).
pub const THREADS_ENV: &str = "COLLAPSE_THREADS";

fn builder(
    env: &ort::environment::Environment,
    threads: Threads,
) -> Result<ort::session::builder::SessionBuilder, InferenceError> {
    let threads = match threads {
        Threads::One => 1,
        Threads::AllCores => std::env::var(THREADS_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            }),
    };
    let fail = |e: ort::Error| {
        InferenceError::runtime(format!("cannot configure an ONNX Runtime session: {e}"))
    };
    let builder = Session::builder(env)
        .map_err(fail)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| fail(e.into()))?
        .with_intra_threads(threads)
        .map_err(|e| fail(e.into()))?
        .with_deterministic_compute(true)
        .map_err(|e| fail(e.into()))?;
    if memory_cap().is_some() {
        builder.with_env_allocators().map_err(|e| fail(e.into()))
    } else {
        Ok(builder)
    }
}

/// The package folder `path` names (the folder, or its `package.toml`), if it is one.
fn package_dir(path: &Path) -> Option<PathBuf> {
    if path.file_name().is_some_and(|n| n == package::PACKAGE_FILE) {
        return path.parent().map(Path::to_path_buf);
    }
    path.join(package::PACKAGE_FILE)
        .is_file()
        .then(|| path.to_path_buf())
}

/// A clear message for the common ways a model path is wrong, before ONNX Runtime sees it.
pub(crate) fn check_model_file(path: &Path) -> Result<(), InferenceError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        InferenceError::model(format!(
            "cannot read the model file {}: {e}",
            path.display()
        ))
    })?;
    if meta.is_dir() {
        return Err(InferenceError::model(format!(
            "the model path {} is a folder, not an .onnx file (nor a model package: no {} in it)",
            path.display(),
            package::PACKAGE_FILE
        )));
    }
    // A pipe would block the render forever and a device (/dev/zero) never ends.
    if !meta.is_file() {
        return Err(InferenceError::model(format!(
            "the model path {} is not a regular file (a pipe, socket or device)",
            path.display()
        )));
    }
    // Refused before it is read: a huge file would be read into memory whole.
    if let Some(limit) = super::memory::model_size_limit() {
        if meta.len() > limit {
            return Err(InferenceError::model(format!(
                "the model file {} is {} MiB, larger than the {} MiB the plugin reads (raise {})",
                path.display(),
                meta.len() >> 20,
                limit >> 20,
                super::memory::MODEL_SIZE_LIMIT_ENV
            )));
        }
    }
    std::fs::File::open(path).map_err(|e| {
        InferenceError::model(format!(
            "cannot open the model file {}: {e}",
            path.display()
        ))
    })?;
    Ok(())
}

/// `name.onnx` -> `name.fp16.onnx` next to it, if present.
pub(crate) fn half_variant(path: &Path) -> Option<PathBuf> {
    if path.to_string_lossy().ends_with(".fp16.onnx") {
        return Some(path.to_path_buf());
    }
    let stem = path.file_stem()?.to_string_lossy();
    let candidate = path.with_file_name(format!("{stem}.fp16.onnx"));
    candidate.is_file().then_some(candidate)
}
