//! A strict OpenFX 1.4 image-effect host.
//!
//! It loads a plugin bundle through the C ABI, describes it, creates instances
//! and renders them, like Natron does. Every protocol violation the plugin commits
//! (unknown or mistyped property, bad index, suite misuse, pixels written outside
//! the render window, images never released ...) is answered with the proper OFX
//! status *and* recorded, so that tests can assert the list is empty.
//!
//! All `unsafe` code of the crate's host side lives in this module tree; the
//! variadic suite entry points are C shims in `variadic.c`.

mod actions;
mod bundle;
mod clips;
mod config;
mod effect;
mod error;
mod gl;
mod handles;
mod images;
mod instance;
mod journal;
mod overlay;
mod params;
mod plugin;
mod properties;
mod queries;
mod render;
mod specs;
mod status;
mod strings;
mod suites;
mod threads;

pub use bundle::{Bundle, PluginInfo};
pub use clips::{ClipDesc, ClipPref, ClipPreferences, ClipSource, FrameSource};
pub use config::{Context, HostConfig, InputRegion, Project, RowOrder};
pub use error::HostError;
pub use gl::GlCanvas;
pub use images::{BitDepth, Components, Image, Premult};
pub use instance::Instance;
pub use journal::{Message, MessageLevel, ProgressEvent};
pub use overlay::{Backend, Canvas, Drawn, Overlay, View};
pub use params::{Edit, ParamDesc, ParamKind, ParamValue};
pub use plugin::{ContextDescription, Plugin};
pub use properties::{PropValue, Props};
pub use status::{status_name, Status};

pub use crate::ffi::{OfxRectD, OfxRectI};

/// Violations that could not be attributed to a plugin or an instance (a call
/// with a handle the host never gave out). [`Instance::violations`] and
/// [`Plugin::violations`] include them too.
pub fn stray_violations() -> Vec<String> {
    journal::stray().violations()
}
