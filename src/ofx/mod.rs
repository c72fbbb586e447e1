//! The safe OpenFX layer of the plugin: property sets, parameters, clips,
//! images, host suites and the entry point. Every `unsafe` call into the host
//! lives in this module tree; the effect above it sees only safe types.

mod bundle;
mod clip;
mod entry;
mod error;
mod image;
mod interact;
mod message;
mod param;
mod property;
mod suites;

pub use bundle::{binary_dir, resources_dir};
pub use clip::{Clip, ClipDef, Clips, ALL_COMPONENTS};
pub use entry::{
    dispatch, ClipPreferences, Context, Descriptor, ImageEffect, Instance, MainEntry, PluginExport,
    PluginInfo, RenderArgs,
};
pub use error::{OfxError, OfxResult, Status};
pub use image::{BitDepth, Components, Image};
pub use interact::{
    dispatch_interact, entry_pointer, Interact, Overlay, Painter, Pen, PenPhase, Shape, ViewArgs,
};
pub use message::MessageLevel;
pub use param::{ChoiceDef, DoubleKind, ParamDefs, ParamInfo, ParamValues};
pub use property::PropertySet;
pub use suites::host_suites;

use crate::ffi;
use std::ffi::CStr;

/// True when a host string equals an OpenFX string constant.
pub fn matches(name: &str, constant: &[u8]) -> bool {
    name.as_bytes() == &constant[..constant.len() - 1]
}

/// An OpenFX string constant (bindgen gives NUL-terminated byte arrays) as a `CStr`.
pub fn c(bytes: &'static [u8]) -> &'static CStr {
    CStr::from_bytes_with_nul(bytes).expect("OpenFX string constants are NUL-terminated")
}

/// Canonical rectangle (double precision), as in `OfxRectD`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct RectD {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

/// Pixel rectangle (`OfxRectI`): x1,y1 inclusive, x2,y2 exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RectI {
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
}

impl RectD {
    pub fn is_empty(&self) -> bool {
        !(self.x2 > self.x1 && self.y2 > self.y1)
    }
    pub fn intersect(&self, o: &RectD) -> RectD {
        RectD {
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
            x2: self.x2.min(o.x2),
            y2: self.y2.min(o.y2),
        }
    }
    pub fn union(&self, o: &RectD) -> RectD {
        if self.is_empty() {
            return *o;
        }
        if o.is_empty() {
            return *self;
        }
        RectD {
            x1: self.x1.min(o.x1),
            y1: self.y1.min(o.y1),
            x2: self.x2.max(o.x2),
            y2: self.y2.max(o.y2),
        }
    }
    pub(crate) fn from_ffi(r: ffi::OfxRectD) -> Self {
        RectD {
            x1: r.x1,
            y1: r.y1,
            x2: r.x2,
            y2: r.y2,
        }
    }
    pub(crate) fn to_ffi(self) -> ffi::OfxRectD {
        ffi::OfxRectD {
            x1: self.x1,
            y1: self.y1,
            x2: self.x2,
            y2: self.y2,
        }
    }
}

impl RectI {
    pub fn width(&self) -> i32 {
        (self.x2 - self.x1).max(0)
    }
    pub fn height(&self) -> i32 {
        (self.y2 - self.y1).max(0)
    }
    pub fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }
    pub fn intersect(&self, o: &RectI) -> RectI {
        let r = RectI {
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
            x2: self.x2.min(o.x2),
            y2: self.y2.min(o.y2),
        };
        if r.is_empty() {
            RectI::default()
        } else {
            r
        }
    }
    pub fn contains(&self, x: i32, y: i32) -> bool {
        x >= self.x1 && x < self.x2 && y >= self.y1 && y < self.y2
    }
}
