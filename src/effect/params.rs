//! The effect's parameters. Their names are a public interface: saved comp
//! scripts store them, so never rename one.

use crate::inference::DeviceRequest;
use crate::ofx::{OfxResult, ParamValues};

pub const BOTTOM_LEFT: &str = "bottomLeft";
pub const SIZE: &str = "size";
pub const START_FRAME: &str = "startFrame";
pub const DURATION: &str = "duration";
pub const SEED: &str = "seed";
pub const OUTPUT: &str = "output";
pub const DIRECTION: &str = "direction";
pub const FRAGMENT_SIZE: &str = "fragmentSize";
pub const GRAVITY: &str = "gravity";
pub const DUST_AMOUNT: &str = "dustAmount";
pub const DUST_COLOR: &str = "dustColor";
pub const DUST_TINT: &str = "dustTint";
pub const DUST_SPREAD: &str = "dustSpread";
pub const DEBRIS: &str = "debris";
pub const MODEL: &str = "model";
pub const BUNDLED_MODEL: &str = "bundledModel";
pub const DEVICE: &str = "device";
pub const HALF_PRECISION: &str = "halfPrecision";
pub const USE_TENSORRT: &str = "useTensorRT";

/// Options of the `output` choice, in menu order.
/// New options only ever go at the end: saved comps store the index.
pub const OUTPUT_OPTIONS: &[&str] = &["Composite", "Collapse element only", "Matte", "Clean plate"];
/// Options of the `device` choice, in menu order.
pub const DEVICE_OPTIONS: &[&str] = &["Auto", "CPU", "GPU"];
/// Options of the `bundledModel` choice (used while `model` is empty), in menu order,
/// with the file or package folder each names in the bundle's Resources.
pub const BUNDLED_MODEL_OPTIONS: &[&str] = &["Procedural", "Learned (trained on simulations)"];
pub const BUNDLED_MODEL_FILES: &[&str] = &["collapse_default.onnx", "learned.collapse"];
/// The learned package. (The options keep their order: saved comps store the index.)
pub const BUNDLED_MODEL_DEFAULT: usize = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    Composite,
    Element,
    Matte,
    /// What stands behind the building: the Background clip, or the plate's own
    /// pixels synthesized into the hole; the plate elsewhere. At every frame.
    CleanPlate,
}

/// Every parameter's value at one time.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bottom_left: (f64, f64),
    pub size: (f64, f64),
    pub start_frame: f64,
    pub duration: f64,
    pub seed: i32,
    pub output: OutputMode,
    /// Creative controls by model-contract name, e.g. ("dust_amount", 1.0).
    pub controls: Vec<(&'static str, f64)>,
    pub model: String,
    /// Index into BUNDLED_MODEL_FILES: the bundled model run while `model` is empty.
    pub bundled_model: usize,
    pub device: DeviceRequest,
    pub half_precision: bool,
    pub use_tensorrt: bool,
}

impl Settings {
    pub fn read(p: &ParamValues, time: f64) -> OfxResult<Self> {
        let output = match p.int(OUTPUT, time)? {
            1 => OutputMode::Element,
            2 => OutputMode::Matte,
            3 => OutputMode::CleanPlate,
            _ => OutputMode::Composite,
        };
        let device = match p.int(DEVICE, time)? {
            1 => DeviceRequest::Cpu,
            2 => DeviceRequest::Gpu,
            _ => DeviceRequest::Auto,
        };
        let dust = p.rgb(DUST_COLOR, time)?;
        let controls = vec![
            ("direction", p.double(DIRECTION, time)?),
            ("fragment_size", p.double(FRAGMENT_SIZE, time)?),
            ("gravity", p.double(GRAVITY, time)?),
            ("dust_amount", p.double(DUST_AMOUNT, time)?),
            ("dust_r", dust[0]),
            ("dust_g", dust[1]),
            ("dust_b", dust[2]),
            ("dust_tint", p.double(DUST_TINT, time)?),
            ("dust_spread", p.double(DUST_SPREAD, time)?),
            ("debris_amount", p.double(DEBRIS, time)?),
        ];
        Ok(Settings {
            bottom_left: p.double2d(BOTTOM_LEFT, time)?,
            size: p.double2d(SIZE, time)?,
            start_frame: p.double(START_FRAME, time)?,
            duration: p.double(DURATION, time)?,
            seed: p.int(SEED, time)?,
            output,
            controls,
            model: p.string(MODEL, time)?,
            bundled_model: (p.int(BUNDLED_MODEL, time)?.max(0) as usize)
                .min(BUNDLED_MODEL_FILES.len() - 1),
            device,
            half_precision: p.int(HALF_PRECISION, time)? != 0,
            use_tensorrt: p.int(USE_TENSORRT, time)? != 0,
        })
    }

    /// Collapse progress: 0 at the start frame, 1 when the fall is over.
    pub fn progress(&self, time: f64) -> f64 {
        (time - self.start_frame) / self.duration.max(1e-6)
    }
}
