//! Running a model over an output window in bounded tiles.
//!
//! Every tile sees the same source-window tensors and only its own output
//! coordinates, so a frame computed in tiles equals the frame computed whole,
//! and memory stays bounded by the tile size whatever the window.

use super::contract::{Precision, OUTPUT, SCENE_LEN};
use super::memory::{run_time_limit, MEMORY_LIMIT_ENV, RUN_TIME_LIMIT_ENV};
use super::runtime::memory_cap;
use super::sessions::{Graph, LoadedModel};
use super::InferenceError;
use half::f16;
use ndarray::{Array1, Array4, ArrayView, ArrayView4, ArrayViewD};
use ort::session::{RunOptions, Session, SessionInputValue, SessionOutputs};
use ort::value::{PrimitiveTensorElementType, TensorRef};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

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
    /// The plate a package's per-shot stages read: the reference frame's (the same at
    /// every frame of a shot, so they run once on a plate sequence); `None`: `plate`.
    pub shot_plate: Option<Array4<f32>>,
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
pub(crate) trait Sample:
    PrimitiveTensorElementType + Copy + std::fmt::Debug + 'static
{
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
        self.run_stages(inputs, grid, aborted)
            .map(|(element, _)| element)
    }

    /// Like [`run`](Self::run), and how long each stage took (a contract-1 model is one
    /// stage, "model"): for the benchmark.
    pub fn run_stages(
        &self,
        inputs: &FrameInputs,
        grid: &OutputGrid,
        aborted: &dyn Fn() -> bool,
    ) -> Result<(Vec<f32>, Vec<StageTiming>), InferenceError> {
        if inputs.controls.len() != self.contract.controls.len() {
            return Err(InferenceError::run(format!(
                "{} control values for {} declared controls",
                inputs.controls.len(),
                self.contract.controls.len()
            )));
        }
        let session = match &self.graph {
            Graph::Package(package) => {
                return package.run(&self.contract.name, inputs, grid, aborted)
            }
            Graph::Single(session) => session,
        };
        let clock = std::time::Instant::now();
        let element = match self.contract.precision {
            Precision::Float32 => self.run_single(
                session,
                [
                    inputs.plate.view(),
                    inputs.background.view(),
                    inputs.mask.view(),
                ],
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
                self.run_single(
                    session,
                    [p.view(), b.view(), m.view()],
                    inputs,
                    grid,
                    aborted,
                )
            }
        }?;
        let timing = StageTiming {
            name: "model".into(),
            runs: "tile",
            ms: clock.elapsed().as_secs_f64() * 1e3,
            cached: false,
        };
        Ok((element, vec![timing]))
    }

    fn run_single<T: Sample>(
        &self,
        session: &Mutex<Session>,
        images: [ArrayView4<T>; 3],
        inputs: &FrameInputs,
        grid: &OutputGrid,
        aborted: &dyn Fn() -> bool,
    ) -> Result<Vec<f32>, InferenceError> {
        let scene = Array1::from(inputs.scene.to_vec());
        let controls = Array1::from(inputs.controls.clone());
        let what = format!("the model '{}'", self.contract.name);
        over_tiles::<T>(grid, self.contract.halo as usize, aborted, |xs, ys, put| {
            run_session(
                session,
                &what,
                single_inputs(images, xs, ys, &scene, &controls)?,
                |out| put(element_of(out, xs.len(), ys.len())?),
            )
        })
    }

    /// One run over the whole grid, without tiling: the benchmark's "raw ONNX Runtime" reference.
    pub fn run_whole(&self, inputs: &FrameInputs, grid: &OutputGrid) -> Result<(), InferenceError> {
        let Graph::Single(session) = &self.graph else {
            return self.run(inputs, grid, &|| false).map(drop);
        };
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
        let what = format!("the model '{}'", self.contract.name);
        run_session(
            session,
            &what,
            single_inputs(images, &xs, &ys, &scene, &controls)?,
            |out| element_of::<f32>(out, xs.len(), ys.len()).map(drop),
        )
    }
}

/// How long one stage took in a run (the tile stage: all its tiles together).
#[derive(Clone, Debug)]
pub struct StageTiming {
    pub name: String,
    /// "shot", "frame" or "tile".
    pub runs: &'static str,
    pub ms: f64,
    /// Served from the stage cache: the stage did not run.
    pub cached: bool,
}

/// A named input of a session run.
pub(crate) type Input<'v> = (String, SessionInputValue<'v>);

/// `view` as the session input `name`.
pub(crate) fn input<
    'v,
    T: PrimitiveTensorElementType + std::fmt::Debug + Clone + 'static,
    D: ndarray::Dimension + 'static,
>(
    name: &str,
    view: ArrayView<'v, T, D>,
) -> Result<Input<'v>, InferenceError> {
    let tensor = TensorRef::from_array_view(view).map_err(|e| {
        InferenceError::run(format!(
            "cannot pass the tensor '{name}' to ONNX Runtime: {e}"
        ))
    })?;
    Ok((name.to_string(), tensor.into()))
}

/// A contract-1 model's seven inputs.
fn single_inputs<'v, T: Sample>(
    [plate, background, mask]: [ArrayView4<'v, T>; 3],
    xs: &'v Array1<f32>,
    ys: &'v Array1<f32>,
    scene: &'v Array1<f32>,
    controls: &'v Array1<f32>,
) -> Result<Vec<Input<'v>>, InferenceError> {
    Ok(vec![
        input("plate", plate)?,
        input("background", background)?,
        input("mask", mask)?,
        input("out_x", xs.view())?,
        input("out_y", ys.view())?,
        input("scene", scene.view())?,
        input("controls", controls.view())?,
    ])
}

/// Runs `tile` over `grid` in tiles grown by `halo` output pixels, polling `aborted`
/// between them, and assembles the planar element. `tile(xs, ys, put)` computes the
/// element over the tile's coordinates and hands it (`[1, 4, ys, xs]`) to `put`.
pub(crate) fn over_tiles<T: Sample>(
    grid: &OutputGrid,
    halo: usize,
    aborted: &dyn Fn() -> bool,
    mut tile: impl FnMut(
        &Array1<f32>,
        &Array1<f32>,
        &mut dyn FnMut(ArrayViewD<T>) -> Result<(), InferenceError>,
    ) -> Result<(), InferenceError>,
) -> Result<Vec<f32>, InferenceError> {
    let (w, h) = (grid.width, grid.height);
    let mut out = vec![0.0f32; 4 * w * h];
    let (tile_w, tile_h) = tile_shape(w);
    for ty in (0..h).step_by(tile_h) {
        for tx in (0..w).step_by(tile_w) {
            if aborted() {
                return Err(InferenceError::aborted());
            }
            let (tw, th) = (tile_w.min(w - tx), tile_h.min(h - ty));
            let (x0, y0) = (tx as i64 - halo as i64, ty as i64 - halo as i64);
            let xs = grid.xs(x0, (tx + tw + halo) as i64);
            let ys = grid.ys(y0, (ty + th + halo) as i64);
            tile(&xs, &ys, &mut |element| {
                for c in 0..4 {
                    for j in 0..th {
                        let row = &mut out[(c * h + ty + j) * w + tx..][..tw];
                        for (i, o) in row.iter_mut().enumerate() {
                            *o = element[[0, c, j + halo, i + halo]].to_f32();
                        }
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(out)
}

/// The output `element` of a run over a `gw` x `gh` grid, its shape checked.
pub(crate) fn element_of<'a, T: Sample>(
    outputs: &'a SessionOutputs,
    gw: usize,
    gh: usize,
) -> Result<ArrayViewD<'a, T>, InferenceError> {
    let element = outputs
        .get(OUTPUT)
        .ok_or_else(|| InferenceError::contract("the model gives no output 'element'"))?
        .try_extract_array::<T>()
        .map_err(|e| InferenceError::run(format!("cannot read the model's output: {e}")))?;
    if element.shape() != [1, 4, gh, gw] {
        return Err(InferenceError::contract(format!(
            "output 'element' has shape {:?} for a {gw}x{gh} tile",
            element.shape()
        )));
    }
    Ok(element)
}

/// One run of `session` on named inputs; `read` gets its outputs. A run longer than
/// the run-time limit is stopped; `what` names the model (or stage) in messages.
pub(crate) fn run_session<R>(
    session: &Mutex<Session>,
    what: &str,
    inputs: Vec<Input<'_>>,
    read: impl FnOnce(&SessionOutputs) -> Result<R, InferenceError>,
) -> Result<R, InferenceError> {
    // A run that takes longer than the limit is stopped by a watchdog thread
    // (ONNX Runtime's terminate flag; the watchdog never calls the host).
    let options = RunOptions::new()
        .map_err(|e| InferenceError::run(format!("cannot create run options: {e}")))?;
    let limit = run_time_limit();
    let timed_out = AtomicBool::new(false);
    let (finished, wait) = mpsc::channel::<()>();
    let mut session = session.lock().unwrap_or_else(|e| e.into_inner());
    std::thread::scope(|scope| {
        if let Some(limit) = limit {
            let (options, timed_out) = (&options, &timed_out);
            scope.spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                    timed_out.store(true, Ordering::SeqCst);
                    let _ = options.terminate();
                }
            });
        }
        let run = session.run_with_options(inputs, &options);
        let _ = finished.send(());
        let outputs =
            run.map_err(
                |e| match limit.filter(|_| timed_out.load(Ordering::SeqCst)) {
                    Some(limit) => InferenceError::run(format!(
                "{what} ran for more than {} s and was stopped (raise {RUN_TIME_LIMIT_ENV}, \
                 or make the region smaller)",
                limit.as_secs_f64()
            )),
                    None => run_failure(what, &e.to_string()),
                },
            )?;
        read(&outputs)
    })
}

/// What to tell the artist when a run fails. Running out of memory (the capped
/// CPU arena, or the GPU's) is its own kind, so the effect can retry a GPU frame
/// on the CPU; on the CPU it names the cap and how to raise it.
fn run_failure(what: &str, error: &str) -> InferenceError {
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
        return InferenceError::run(format!("{what} failed to run: {error}"));
    }
    InferenceError::out_of_memory(match memory_cap() {
        Some(cap) => format!(
            "{what} needs more memory than ONNX Runtime may use here ({} MiB; raise \
             {MEMORY_LIMIT_ENV}, or make the region smaller): {error}",
            cap >> 20
        ),
        None => format!("{what} ran out of memory: {error}"),
    })
}
