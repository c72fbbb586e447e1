//! Running a model over an output window in bounded tiles.
//!
//! Every tile sees the same source-window tensors and only its own output
//! coordinates, so a frame computed in tiles equals the frame computed whole,
//! and memory stays bounded by the tile size whatever the window.

use super::contract::{Precision, OUTPUT, SCENE_LEN};
use super::memory::{run_time_limit, MEMORY_LIMIT_ENV, RUN_TIME_LIMIT_ENV};
use super::runtime::memory_cap;
use super::sessions::LoadedModel;
use super::InferenceError;
use half::f16;
use ndarray::{Array1, Array4, ArrayView4};
use ort::session::RunOptions;
use ort::value::{PrimitiveTensorElementType, TensorRef};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// Most output pixels one model run computes. Every run also redoes the
/// model's per-frame work over the whole source window, so tiles are as large
/// as memory allows: a 1080p affected area is one run, 4K a few.
pub const TILE_PIXELS: usize = 1 << 21;
/// Widest tile; wider windows are split into columns too.
pub const TILE_MAX_WIDTH: usize = 4096;

/// Environment variable lowering the pixel budget of a tile (to bound memory on small machines).
pub const TILE_PIXELS_ENV: &str = "COLLAPSE_TILE_PIXELS";

/// The tile size for a `width`-wide grid: full-width strips up to the pixel budget.
fn tile_shape(width: usize) -> (usize, usize) {
    let budget = std::env::var(TILE_PIXELS_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|b| *b >= 64)
        .map_or(TILE_PIXELS, |b| b.min(TILE_PIXELS));
    let w = width.clamp(1, TILE_MAX_WIDTH).min(budget);
    (w, (budget / w).max(1))
}

/// The model's image inputs over the source window, and its scalars.
pub struct FrameInputs {
    pub plate: Array4<f32>,
    pub background: Array4<f32>,
    pub mask: Array4<f32>,
    pub scene: [f32; SCENE_LEN],
    pub controls: Vec<f32>,
}

/// The output pixel grid in canonical coordinates: column `i` has centre
/// `left + i * step_x`, row `j` (top row first) has centre `top - j * step_y`.
#[derive(Clone, Copy, Debug)]
pub struct OutputGrid {
    pub left: f64,
    pub top: f64,
    pub step_x: f64,
    pub step_y: f64,
    pub width: usize,
    pub height: usize,
}

impl OutputGrid {
    fn xs(&self, from: i64, to: i64) -> Array1<f32> {
        (from..to)
            .map(|i| (self.left + i as f64 * self.step_x) as f32)
            .collect()
    }
    fn ys(&self, from: i64, to: i64) -> Array1<f32> {
        (from..to)
            .map(|j| (self.top - j as f64 * self.step_y) as f32)
            .collect()
    }
}

/// Element types an image tensor may have.
trait Sample: PrimitiveTensorElementType + Copy + std::fmt::Debug + 'static {
    fn to_f32(self) -> f32;
}
impl Sample for f32 {
    fn to_f32(self) -> f32 {
        self
    }
}
impl Sample for f16 {
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
}

impl LoadedModel {
    /// Computes the element (premultiplied RGBA, planar `[4, height, width]`, top row first)
    /// over `grid`. `aborted` is polled between tiles.
    pub fn run(
        &self,
        inputs: &FrameInputs,
        grid: &OutputGrid,
        aborted: &dyn Fn() -> bool,
    ) -> Result<Vec<f32>, InferenceError> {
        if inputs.controls.len() != self.contract.controls.len() {
            return Err(InferenceError::run(format!(
                "{} control values for {} declared controls",
                inputs.controls.len(),
                self.contract.controls.len()
            )));
        }
        match self.contract.precision {
            Precision::Float32 => self.run_tiles(
                inputs.plate.view(),
                inputs.background.view(),
                inputs.mask.view(),
                inputs,
                grid,
                aborted,
            ),
            Precision::Float16 => {
                let (p, b, m) = (
                    inputs.plate.mapv(f16::from_f32),
                    inputs.background.mapv(f16::from_f32),
                    inputs.mask.mapv(f16::from_f32),
                );
                self.run_tiles(p.view(), b.view(), m.view(), inputs, grid, aborted)
            }
        }
    }

    fn run_tiles<T: Sample>(
        &self,
        plate: ArrayView4<T>,
        background: ArrayView4<T>,
        mask: ArrayView4<T>,
        inputs: &FrameInputs,
        grid: &OutputGrid,
        aborted: &dyn Fn() -> bool,
    ) -> Result<Vec<f32>, InferenceError> {
        let (w, h) = (grid.width, grid.height);
        let mut out = vec![0.0f32; 4 * w * h];
        let halo = self.contract.halo as i64;
        let scene = Array1::from(inputs.scene.to_vec());
        let controls = Array1::from(inputs.controls.clone());
        let (tile_w, tile_h) = tile_shape(w);
        for ty in (0..h).step_by(tile_h) {
            for tx in (0..w).step_by(tile_w) {
                if aborted() {
                    return Err(InferenceError::aborted());
                }
                let (tw, th) = (tile_w.min(w - tx), tile_h.min(h - ty));
                let (x0, y0) = (tx as i64 - halo, ty as i64 - halo);
                let xs = grid.xs(x0, tx as i64 + tw as i64 + halo);
                let ys = grid.ys(y0, ty as i64 + th as i64 + halo);
                let h0 = halo as usize;
                self.run_once(
                    [plate, background, mask],
                    &xs,
                    &ys,
                    &scene,
                    &controls,
                    |element| {
                        for c in 0..4 {
                            for j in 0..th {
                                let row = &mut out[(c * h + ty + j) * w + tx..][..tw];
                                for (i, o) in row.iter_mut().enumerate() {
                                    *o = element[[0, c, j + h0, i + h0]].to_f32();
                                }
                            }
                        }
                    },
                )?;
            }
        }
        Ok(out)
    }
}

impl LoadedModel {
    /// One model run over the grid `xs` x `ys`: checks the element's shape and hands it to `read`.
    fn run_once<T: Sample>(
        &self,
        [plate, background, mask]: [ArrayView4<T>; 3],
        xs: &Array1<f32>,
        ys: &Array1<f32>,
        scene: &Array1<f32>,
        controls: &Array1<f32>,
        read: impl FnOnce(ndarray::ArrayViewD<T>),
    ) -> Result<(), InferenceError> {
        let tensor_err = |e: ort::Error| {
            InferenceError::run(format!("cannot pass a tensor to ONNX Runtime: {e}"))
        };
        // A run that takes longer than the limit is stopped by a watchdog thread
        // (ONNX Runtime's terminate flag; the watchdog never calls the host).
        let options = RunOptions::new()
            .map_err(|e| InferenceError::run(format!("cannot create run options: {e}")))?;
        let limit = run_time_limit();
        let timed_out = AtomicBool::new(false);
        let (finished, wait) = mpsc::channel::<()>();
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = std::thread::scope(|scope| {
            if let Some(limit) = limit {
                let (options, timed_out) = (&options, &timed_out);
                scope.spawn(move || {
                    if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                        timed_out.store(true, Ordering::SeqCst);
                        let _ = options.terminate();
                    }
                });
            }
            let run = session.run_with_options(
                ort::inputs![
                    "plate" => TensorRef::from_array_view(plate).map_err(tensor_err)?,
                    "background" => TensorRef::from_array_view(background).map_err(tensor_err)?,
                    "mask" => TensorRef::from_array_view(mask).map_err(tensor_err)?,
                    "out_x" => TensorRef::from_array_view(xs).map_err(tensor_err)?,
                    "out_y" => TensorRef::from_array_view(ys).map_err(tensor_err)?,
                    "scene" => TensorRef::from_array_view(scene).map_err(tensor_err)?,
                    "controls" => TensorRef::from_array_view(controls).map_err(tensor_err)?,
                ],
                &options,
            );
            let _ = finished.send(());
            run.map_err(|e| match limit.filter(|_| timed_out.load(Ordering::SeqCst)) {
                Some(limit) => InferenceError::run(format!(
                    "the model '{}' ran for more than {} s and was stopped (raise {RUN_TIME_LIMIT_ENV}, \
                     or make the region smaller)",
                    self.contract.name,
                    limit.as_secs_f64()
                )),
                None => run_failure(&e.to_string()),
            })
        })?;
        let element = outputs[OUTPUT]
            .try_extract_array::<T>()
            .map_err(|e| InferenceError::run(format!("cannot read the model's output: {e}")))?;
        let (gh, gw) = (ys.len(), xs.len());
        if element.shape() != [1, 4, gh, gw] {
            return Err(InferenceError::contract(format!(
                "output 'element' has shape {:?} for a {gw}x{gh} tile",
                element.shape()
            )));
        }
        read(element);
        Ok(())
    }

    /// One run over the whole grid, without tiling: the benchmark's "raw ONNX Runtime" reference.
    pub fn run_whole(&self, inputs: &FrameInputs, grid: &OutputGrid) -> Result<(), InferenceError> {
        let images = [
            inputs.plate.view(),
            inputs.background.view(),
            inputs.mask.view(),
        ];
        let scene = Array1::from(inputs.scene.to_vec());
        let controls = Array1::from(inputs.controls.clone());
        let (xs, ys) = (
            grid.xs(0, grid.width as i64),
            grid.ys(0, grid.height as i64),
        );
        self.run_once(images, &xs, &ys, &scene, &controls, |_| ())
    }
}

/// What to tell the artist when a run fails. Running out of memory (the capped
/// CPU arena, or the GPU's) is its own kind, so the effect can retry a GPU frame
/// on the CPU; on the CPU it names the cap and how to raise it.
fn run_failure(error: &str) -> InferenceError {
    let out_of_memory = [
        "smaller than requested bytes",
        "Failed to allocate memory",
        "out of memory",
        "cudaErrorMemoryAllocation",
        "CUBLAS_STATUS_ALLOC_FAILED",
    ]
    .iter()
    .any(|sign| error.contains(sign));
    if !out_of_memory {
        return InferenceError::run(format!("the model failed to run: {error}"));
    }
    InferenceError::out_of_memory(match memory_cap() {
        Some(cap) => format!(
            "the model needs more memory than ONNX Runtime may use here ({} MiB; raise \
             {MEMORY_LIMIT_ENV}, or make the region smaller): {error}",
            cap >> 20
        ),
        None => format!("the model ran out of memory: {error}"),
    })
}
