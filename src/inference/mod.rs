//! Inference: ONNX Runtime sessions, the model contract, devices and tiling,
//! and the clean-plate stage that feeds the model's `background` input.
//! Knows nothing of OpenFX; the effect hands it plain tensors.

pub mod clean_plate;
mod contract;
mod devices;
pub mod fingerprint;
pub mod matte;
mod memory;
mod package;
mod runtime;
mod sessions;
mod tiling;

pub use contract::{scene, Contract, ControlSpec, Margins, Metadata, Precision, SCENE_LEN};
pub use devices::{DeviceRequest, ExecutionDevice};
pub use fingerprint::Fingerprint;
pub use memory::{
    GPU_MEMORY_LIMIT_ENV, MEMORY_LIMIT_ENV, MODEL_SIZE_LIMIT_ENV, RUN_TIME_LIMIT_ENV,
};
pub use package::{noise, PACKAGE_FILE};
pub use runtime::{check_elf, library_path, set_bundled_library_dir, LIBRARY_ENV};
pub use sessions::{load_model, loaded_model, purge, LoadedModel, ModelRequest, THREADS_ENV};
pub use tiling::{FrameInputs, OutputGrid, StageTiming, TILE_PIXELS, TILE_PIXELS_ENV};

use std::fmt;

/// Why inference could not run; the text is written for the artist.
#[derive(Clone, Debug)]
pub struct InferenceError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The ONNX Runtime library is missing, unloadable or unusable.
    Runtime,
    /// The model file is missing, unreadable or not a valid ONNX model.
    Model,
    /// The model loads but breaks the contract.
    Contract,
    /// Running the model failed.
    Run,
    /// The run needed more memory than the device (or the CPU cap) could give.
    OutOfMemory,
    /// The host asked us to stop.
    Aborted,
}

impl InferenceError {
    pub fn runtime(m: impl Into<String>) -> Self {
        InferenceError {
            kind: ErrorKind::Runtime,
            message: m.into(),
        }
    }
    pub fn model(m: impl Into<String>) -> Self {
        InferenceError {
            kind: ErrorKind::Model,
            message: m.into(),
        }
    }
    pub fn contract(m: impl Into<String>) -> Self {
        InferenceError {
            kind: ErrorKind::Contract,
            message: format!("the model breaks the collapse contract: {}", m.into()),
        }
    }
    pub fn run(m: impl Into<String>) -> Self {
        InferenceError {
            kind: ErrorKind::Run,
            message: m.into(),
        }
    }
    pub fn out_of_memory(m: impl Into<String>) -> Self {
        InferenceError {
            kind: ErrorKind::OutOfMemory,
            message: m.into(),
        }
    }
    pub fn aborted() -> Self {
        InferenceError {
            kind: ErrorKind::Aborted,
            message: "aborted".into(),
        }
    }
}

impl fmt::Display for InferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InferenceError {}
