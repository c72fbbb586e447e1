//! Collapse: an OpenFX image effect that fills a region of a plate with a
//! synthesized building collapse, computed by an ONNX model through ONNX Runtime.
//!
//! Layers, each using only the one below it:
//! `ffi` (bindgen) -> `ofx` (safe OpenFX layer) -> `effect` (describe, params,
//! render) -> `inference` (sessions, contract, tiling, devices) -> the model.
//! `host` is the other side of the ABI: the Rust OpenFX host used by the tests
//! and by the `collapse-render` command-line renderer.

mod effect;
pub mod ffi;
pub mod host;
pub mod inference;
mod logging;
pub mod ofx;

pub use effect::PLUGIN_ID;
pub use effect::PROCEDURAL_MODEL_FILE;
