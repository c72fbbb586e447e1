//! Contract 2 (docs/MODEL_CONTRACT.md): a model package, a folder `NAME.collapse/`
//! with `package.toml` and one ONNX file per stage. Stages run once per shot, once
//! per frame or once per tile; the outputs of the first two are kept here, keyed by
//! the bytes of their inputs, so every tile of a frame shares one per-frame run.
//! `package.toml` and every stage file are checked on load; a package that breaks
//! the contract is refused with a message naming the stage and the tensor.

use super::contract::{
    margins, push_control, scene, Contract, Margins, Precision, OUTPUT, SCENE_LEN,
};
use super::devices::ExecutionDevice;
use super::sessions::{
    build_session, check_model_file, half_variant, join_warnings, Graph, LoadedModel, ModelRequest,
    Threads,
};
use super::tiling::{
    element_of, input, over_tiles, run_session, FrameInputs, Input, OutputGrid, StageTiming,
};
use super::{Fingerprint, InferenceError};
use ndarray::{Array1, ArrayD, ArrayViewD};
use ort::session::Session;
use ort::value::{Outlet, TensorElementType, ValueType};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The package's description file, in its folder.
pub const PACKAGE_FILE: &str = "package.toml";
const CONTRACT_VERSION: i64 = 2;
/// Runs whose outputs a shot or frame stage keeps (a few frames rendered at once).
const KEPT_RUNS: usize = 4;
/// Most bytes of outputs a stage keeps; a run with larger outputs is not kept.
const KEPT_BYTES: usize = 256 << 20;
/// Largest `noise` length.
const MAX_NOISE: usize = 1 << 20;

/// `package.toml` as written (unknown top-level keys are ignored, for later versions).
#[derive(Deserialize)]
struct Manifest {
    contract: toml::Value,
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    reach: Vec<f64>,
    context: Vec<f64>,
    #[serde(default)]
    noise: usize,
    #[serde(default)]
    controls: Vec<ControlEntry>,
    #[serde(default)]
    stages: Vec<StageEntry>,
    #[serde(default)]
    tensors: HashMap<String, TensorEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlEntry {
    name: String,
    min: f32,
    max: f32,
    default: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageEntry {
    name: String,
    runs: String,
    file: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorEntry {
    shape: Vec<i64>,
    dtype: String,
}

/// How often a stage runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runs {
    /// Once per plate, mask, background, seed, scale and controls: `scene` has
    /// progress and frames zeroed, so it does not depend on time.
    Shot,
    /// Once per frame, whatever the tiles.
    Frame,
    /// Once per tile (the last stage; gives `element`).
    Tile,
}

impl Runs {
    fn label(self) -> &'static str {
        match self {
            Runs::Shot => "shot",
            Runs::Frame => "frame",
            Runs::Tile => "tile",
        }
    }
}

/// A stage as `package.toml` declares it.
struct StageDecl {
    name: String,
    runs: Runs,
    file: PathBuf,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

/// `package.toml`, checked against itself (the stage files are checked on load).
struct Plan {
    dir: PathBuf,
    name: String,
    reach: Margins,
    context: Margins,
    controls: Vec<super::ControlSpec>,
    noise: usize,
    stages: Vec<StageDecl>,
    /// Every tensor's shape (-1: any size): the plugin's and the declared ones.
    shapes: HashMap<String, Vec<i64>>,
}

/// The tensors the plugin gives (float32), with their shapes.
fn plugin_tensors(controls: usize, noise: usize) -> [(&'static str, Vec<i64>); 8] {
    [
        ("plate", vec![1, 4, -1, -1]),
        ("background", vec![1, 4, -1, -1]),
        ("mask", vec![1, 1, -1, -1]),
        ("out_x", vec![-1]),
        ("out_y", vec![-1]),
        ("scene", vec![SCENE_LEN as i64]),
        ("controls", vec![controls as i64]),
        ("noise", vec![noise as i64]),
    ]
}

/// A contract error about the package in `dir`.
fn refuse(dir: &Path, what: impl std::fmt::Display) -> InferenceError {
    InferenceError::contract(format!("package {}: {what}", dir.display()))
}

/// `e` (from the shared contract checks) placed in the package, `where_` saying where.
fn within(dir: &Path, where_: &str, e: InferenceError) -> InferenceError {
    let prefix = InferenceError::contract("").message;
    let text = e.message.strip_prefix(&prefix).unwrap_or(&e.message);
    InferenceError {
        kind: e.kind,
        message: format!("{prefix}package {}: {where_}{text}", dir.display()),
    }
}

impl Plan {
    /// Reads and checks `dir/package.toml`.
    fn read(dir: &Path) -> Result<Plan, InferenceError> {
        let file = dir.join(PACKAGE_FILE);
        let text = std::fs::read_to_string(&file).map_err(|e| {
            InferenceError::model(format!(
                "cannot read the package file {}: {e}",
                file.display()
            ))
        })?;
        let m: Manifest = toml::from_str(&text)
            .map_err(|e| refuse(dir, format!("{PACKAGE_FILE} cannot be read: {e}")))?;
        if m.contract.as_integer() != Some(CONTRACT_VERSION) {
            return Err(refuse(
                dir,
                format!(
                    "contract = {}; a package is contract {CONTRACT_VERSION}",
                    m.contract
                ),
            ));
        }
        let reach = margins("reach", &m.reach).map_err(|e| within(dir, "", e))?;
        let context = margins("context", &m.context).map_err(|e| within(dir, "", e))?;
        if m.noise > MAX_NOISE {
            return Err(refuse(
                dir,
                format!("noise = {} is more than {MAX_NOISE}", m.noise),
            ));
        }
        let mut controls = Vec::new();
        for c in &m.controls {
            push_control(
                &mut controls,
                "controls",
                &c.name,
                [c.min, c.max, c.default],
            )
            .map_err(|e| within(dir, "", e))?;
        }
        let plugin = plugin_tensors(controls.len(), m.noise);
        let is_plugin = |name: &str| plugin.iter().any(|(n, _)| *n == name);
        let mut shapes: HashMap<String, Vec<i64>> = plugin
            .iter()
            .map(|(n, s)| (n.to_string(), s.clone()))
            .collect();
        for (name, t) in &m.tensors {
            if !is_plugin(name) {
                shapes.insert(name.clone(), t.shape.clone());
            }
        }
        // Which stage gives each tensor (for the messages about reading a later one).
        let mut producer: HashMap<&str, usize> = HashMap::new();
        for (i, s) in m.stages.iter().enumerate() {
            for o in &s.outputs {
                let stage_tensor =
                    |what: String| refuse(dir, format!("stage '{}', tensor '{o}': {what}", s.name));
                if is_plugin(o) {
                    return Err(stage_tensor(
                        "is given by the plugin; a stage cannot output it".into(),
                    ));
                }
                if !shapes.contains_key(o) {
                    return Err(stage_tensor("is not declared in [tensors]".into()));
                }
                if let Some(j) = producer.insert(o, i) {
                    return Err(stage_tensor(format!(
                        "is already an output of stage '{}'",
                        m.stages[j].name
                    )));
                }
            }
        }
        for (name, t) in &m.tensors {
            let tensor = |what: String| match producer.get(name.as_str()) {
                Some(&i) => refuse(
                    dir,
                    format!("stage '{}', tensor '{name}': {what}", m.stages[i].name),
                ),
                None => refuse(
                    dir,
                    format!("tensor '{name}' (no stage outputs it): {what}"),
                ),
            };
            if is_plugin(name) {
                return Err(tensor(
                    "is given by the plugin; it is not declared in [tensors]".into(),
                ));
            }
            if t.dtype != "float32" {
                return Err(tensor(format!(
                    "declared dtype \"{}\"; tensors passed between stages are \"float32\"",
                    t.dtype
                )));
            }
            if t.shape.iter().any(|&d| d != -1 && d < 1) {
                return Err(tensor(format!(
                    "declared shape {:?}: each dimension is a size of at least 1, or -1 (any size)",
                    t.shape
                )));
            }
        }
        let mut stages: Vec<StageDecl> = Vec::new();
        for (i, s) in m.stages.iter().enumerate() {
            let stage = |what: String| refuse(dir, format!("stage '{}': {what}", s.name));
            if s.name.trim().is_empty() {
                return Err(refuse(dir, format!("stage {} has no name", i + 1)));
            }
            if stages.iter().any(|d| d.name == s.name) {
                return Err(stage("the name is used twice".into()));
            }
            let runs = match s.runs.as_str() {
                "shot" => Runs::Shot,
                "frame" => Runs::Frame,
                "tile" => Runs::Tile,
                other => {
                    return Err(stage(format!(
                        "runs = \"{other}\"; a stage runs once per \"shot\", \"frame\" or \"tile\""
                    )))
                }
            };
            if s.file.trim().is_empty() {
                return Err(stage("no file".into()));
            }
            for (k, n) in s.inputs.iter().enumerate() {
                let input =
                    |what: String| refuse(dir, format!("stage '{}', tensor '{n}': {what}", s.name));
                if s.inputs[..k].contains(n) {
                    return Err(input("is listed twice in its inputs".into()));
                }
                if is_plugin(n) {
                    if (n == "out_x" || n == "out_y") && runs != Runs::Tile {
                        return Err(input(
                            "output coordinates exist only in the tile stage".into(),
                        ));
                    }
                    if n == "noise" && m.noise == 0 {
                        return Err(input(
                            "is read, but package.toml sets noise = 0 (no noise)".into(),
                        ));
                    }
                    continue;
                }
                match producer.get(n.as_str()) {
                    None => {
                        return Err(input(
                            "is neither given by the plugin nor an output of an earlier stage"
                                .into(),
                        ))
                    }
                    Some(&j) if j >= i => {
                        return Err(input(format!(
                            "is an output of stage '{}', which does not run before it",
                            m.stages[j].name
                        )))
                    }
                    Some(&j) if runs == Runs::Shot && stages[j].runs == Runs::Frame => {
                        return Err(input(format!(
                            "is a per-frame output of stage '{}'; a per-shot stage cannot read it",
                            m.stages[j].name
                        )))
                    }
                    Some(_) => {}
                }
            }
            for (k, o) in s.outputs.iter().enumerate() {
                if s.outputs[..k].contains(o) {
                    return Err(stage(format!("output '{o}' is listed twice")));
                }
            }
            // A stage's file lies in the package folder itself: no other path is read.
            let plain = Path::new(&s.file).file_name().map(|f| f == s.file.as_str());
            if plain != Some(true) || s.file == ".." {
                return Err(stage(format!(
                    "file '{}' is not a file name in the package folder",
                    s.file
                )));
            }
            stages.push(StageDecl {
                name: s.name.clone(),
                runs,
                file: dir.join(&s.file),
                inputs: s.inputs.clone(),
                outputs: s.outputs.clone(),
            });
        }
        let tiles = stages.iter().filter(|s| s.runs == Runs::Tile).count();
        let last = stages.last().filter(|s| s.runs == Runs::Tile);
        let Some(last) = last.filter(|_| tiles == 1) else {
            return Err(refuse(
                dir,
                format!("{tiles} tile stages; a package has exactly one, the last stage"),
            ));
        };
        if !last.outputs.iter().any(|o| o == OUTPUT)
            || shapes.get(OUTPUT) != Some(&vec![1, 4, -1, -1])
        {
            return Err(refuse(
                dir,
                format!(
                    "stage '{}', tensor '{OUTPUT}': the tile stage gives '{OUTPUT}' declared \
                     {{ shape = [1, 4, -1, -1], dtype = \"float32\" }}",
                    last.name
                ),
            ));
        }
        Ok(Plan {
            dir: dir.to_path_buf(),
            name: m.name.unwrap_or_else(|| "unnamed package".into()),
            reach,
            context,
            controls,
            noise: m.noise,
            stages,
            shapes,
        })
    }

    /// Checks a stage file's inputs and outputs against the declarations: the inputs
    /// exactly the declared ones, each declared output present, every tensor float32
    /// with the declared rank and fixed sizes (a declared -1 accepts any size; a fixed
    /// declared size needs the same fixed size in the file).
    fn check_stage(&self, i: usize, session: &Session, file: &Path) -> Result<(), InferenceError> {
        let decl = &self.stages[i];
        let fail = |tensor: &str, what: String| {
            refuse(
                &self.dir,
                format!(
                    "stage '{}', tensor '{tensor}': {what} ({})",
                    decl.name,
                    file.display()
                ),
            )
        };
        let check = |outlet: &Outlet, what: &str| -> Result<(), InferenceError> {
            let name = outlet.name();
            let want = &self.shapes[name];
            let ValueType::Tensor { ty, shape, .. } = outlet.dtype() else {
                return Err(fail(name, format!("the file's {what} is not a tensor")));
            };
            if *ty != TensorElementType::Float32 {
                return Err(fail(
                    name,
                    format!("the file's {what} is {ty:?}, the package's tensors are float32"),
                ));
            }
            let shape: Vec<i64> = shape.iter().copied().collect();
            let fits = shape.len() == want.len()
                && shape.iter().zip(want).all(|(d, w)| *w == -1 || d == w);
            if !fits {
                let whose = if self.is_plugin(name) {
                    "the plugin gives"
                } else {
                    "package.toml declares"
                };
                return Err(fail(name, format!(
                    "the file's {what} has shape {shape:?} (-1: symbolic), {whose} {want:?} (-1: any size)"
                )));
            }
            Ok(())
        };
        for outlet in session.inputs() {
            if !decl.inputs.iter().any(|n| n == outlet.name()) {
                return Err(fail(
                    outlet.name(),
                    "the file has this input, package.toml does not list it for the stage".into(),
                ));
            }
            check(outlet, "input")?;
        }
        for n in &decl.inputs {
            if !session.inputs().iter().any(|o| o.name() == n) {
                return Err(fail(
                    n,
                    "package.toml lists this input, the file has no input of that name".into(),
                ));
            }
        }
        for n in &decl.outputs {
            match session.outputs().iter().find(|o| o.name() == n) {
                Some(outlet) => check(outlet, "output")?,
                None => {
                    return Err(fail(
                        n,
                        "package.toml lists this output, the file has no output of that name"
                            .into(),
                    ))
                }
            }
        }
        Ok(())
    }

    fn is_plugin(&self, name: &str) -> bool {
        plugin_tensors(0, 0).iter().any(|(n, _)| *n == name)
    }
}

/// One stage's session, the outputs it keeps and how often it ran.
struct Stage {
    session: Mutex<Session>,
    /// Runs kept, most recent last: (key of the inputs, outputs in declared order).
    kept: Mutex<Vec<(u64, Outputs)>>,
    runs: AtomicU64,
}

type Outputs = Arc<Vec<Arc<ArrayD<f32>>>>;

/// A loaded package: its plan and one session per stage.
pub(crate) struct Package {
    plan: Plan,
    stages: Vec<Stage>,
}

/// Loads the package in `dir`: every stage file checked against `package.toml`,
/// each session built like a contract-1 model's (device, fallback, memory, threads).
pub(crate) fn load(request: &ModelRequest, dir: &Path) -> Result<LoadedModel, InferenceError> {
    let plan = Plan::read(dir)?;
    let mut warnings = Vec::new();
    let (mut stages, mut device, mut halves) = (Vec::new(), ExecutionDevice::Cpu, 0);
    for (i, decl) in plan.stages.iter().enumerate() {
        let in_stage = |e: InferenceError| InferenceError {
            kind: e.kind,
            message: format!(
                "package {}: stage '{}': {}",
                dir.display(),
                decl.name,
                e.message
            ),
        };
        check_model_file(&decl.file).map_err(in_stage)?;
        let path = match half_variant(&decl.file).filter(|_| request.half) {
            Some(p) => {
                halves += 1;
                check_model_file(&p).map_err(in_stage)?;
                p
            }
            None => decl.file.clone(),
        };
        // (A per-frame stage is a small graph: one thread, see `Threads::One`.)
        let threads = match decl.runs {
            Runs::Frame => Threads::One,
            Runs::Shot | Runs::Tile => Threads::AllCores,
        };
        let (session, dev) =
            build_session(&path, request, threads, &mut warnings).map_err(in_stage)?;
        plan.check_stage(i, &session, &path)?;
        if decl.runs == Runs::Tile {
            device = dev;
        }
        stages.push(Stage {
            session: Mutex::new(session),
            kept: Mutex::default(),
            runs: AtomicU64::new(0),
        });
    }
    if request.half && halves == 0 {
        warnings.push(format!(
            "the package {} has no half-precision stages; running it in float32",
            dir.display()
        ));
    }
    let contract = Contract {
        name: plan.name.clone(),
        precision: Precision::Float32,
        halo: 0,
        reach: plan.reach,
        context: plan.context,
        controls: plan.controls.clone(),
    };
    Ok(LoadedModel {
        graph: Graph::Package(Package { plan, stages }),
        contract,
        device,
        path: dir.to_path_buf(),
        warning: join_warnings(warnings),
    })
}

/// `n` standard normal numbers drawn from `seed`, the same on every machine.
///
/// splitmix64 with its state set to the seed's 64-bit two's complement: each step
/// adds 0x9e3779b97f4a7c15 to the state and mixes it (`z ^= z >> 30; z *=
/// 0xbf58476d1ce4e5b9; z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31`). Each
/// pair of draws `a`, `b` gives two numbers by Box-Muller in f64: `u1 = ((a >> 11) + 1)
/// / 2^53` in (0, 1], `u2 = (b >> 11) / 2^53`, `r = sqrt(-2 ln u1)`, then `r cos(2π u2)`
/// and `r sin(2π u2)`, each rounded to f32 (an odd `n` drops the last sine).
pub fn noise(seed: i64, n: usize) -> Vec<f32> {
    let mut state = seed as u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let unit = (0.5f64).powi(53);
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = ((next() >> 11) + 1) as f64 * unit;
        let u2 = (next() >> 11) as f64 * unit;
        let r = (-2.0 * u1.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * u2;
        out.extend([(r * t.cos()) as f32, (r * t.sin()) as f32]);
    }
    out.truncate(n);
    out
}

/// The fingerprint of one stage input: its name, shape and values.
fn tensor_print(name: &str, v: &ArrayViewD<f32>) -> u64 {
    let mut f = Fingerprint::new();
    f.bytes(name.as_bytes());
    f.word(v.ndim() as u64);
    v.shape().iter().for_each(|&d| f.word(d as u64));
    match v.as_slice() {
        Some(s) => f.floats(s),
        None => f.floats(&v.iter().copied().collect::<Vec<f32>>()),
    }
    f.finish()
}

/// The tensors every stage of a run may read, besides the outputs of earlier stages.
struct Given<'a> {
    inputs: &'a FrameInputs,
    scene: ArrayD<f32>,
    /// `scene` with progress and frames zeroed, for the shot stages.
    shot_scene: ArrayD<f32>,
    controls: ArrayD<f32>,
    noise: ArrayD<f32>,
}

impl<'a> Given<'a> {
    /// The tensor `name` as a stage that runs `runs` sees it (out_x/out_y excepted).
    fn get<'b>(
        &'b self,
        name: &str,
        runs: Runs,
        made: &'b HashMap<String, Arc<ArrayD<f32>>>,
    ) -> Result<ArrayViewD<'b, f32>, InferenceError> {
        Ok(match name {
            "plate" if runs == Runs::Shot => self
                .inputs
                .shot_plate
                .as_ref()
                .unwrap_or(&self.inputs.plate)
                .view()
                .into_dyn(),
            "plate" => self.inputs.plate.view().into_dyn(),
            "background" => self.inputs.background.view().into_dyn(),
            "mask" => self.inputs.mask.view().into_dyn(),
            "scene" if runs == Runs::Shot => self.shot_scene.view(),
            "scene" => self.scene.view(),
            "controls" => self.controls.view(),
            "noise" => self.noise.view(),
            _ => made
                .get(name)
                .ok_or_else(|| InferenceError::run(format!("no tensor '{name}' for the stage")))?
                .view(),
        })
    }
}

impl Package {
    /// Runs the stages: the shot and frame stages once per distinct input (kept),
    /// then the tile stage over `grid` in the plugin's tiles.
    pub(crate) fn run(
        &self,
        model: &str,
        inputs: &FrameInputs,
        grid: &OutputGrid,
        aborted: &dyn Fn() -> bool,
    ) -> Result<(Vec<f32>, Vec<StageTiming>), InferenceError> {
        let scene_v = Array1::from(inputs.scene.to_vec()).into_dyn();
        let mut shot_scene = scene_v.clone();
        shot_scene[[scene::PROGRESS]] = 0.0;
        shot_scene[[scene::FRAMES]] = 0.0;
        let given = Given {
            inputs,
            scene: scene_v,
            shot_scene,
            controls: Array1::from(inputs.controls.clone()).into_dyn(),
            noise: Array1::from(noise(
                inputs.scene[scene::SEED].round() as i64,
                self.plan.noise,
            ))
            .into_dyn(),
        };
        let mut made: HashMap<String, Arc<ArrayD<f32>>> = HashMap::new();
        // Each input's fingerprint, once per run (the plate feeds several shot stages):
        // by name, and whether a shot stage reads it (its scene has no time).
        let mut prints: HashMap<(String, bool), u64> = HashMap::new();
        let mut timings = Vec::new();
        let n = self.stages.len();
        for (i, (stage, decl)) in self
            .stages
            .iter()
            .zip(&self.plan.stages)
            .enumerate()
            .take(n - 1)
        {
            if aborted() {
                return Err(InferenceError::aborted());
            }
            let clock = std::time::Instant::now();
            let (outputs, cached) = {
                let views = decl
                    .inputs
                    .iter()
                    .map(|name| Ok((name.as_str(), given.get(name, decl.runs, &made)?)))
                    .collect::<Result<Vec<_>, InferenceError>>()?;
                let mut key = Fingerprint::new();
                key.word(i as u64);
                for (name, v) in &views {
                    let at = (name.to_string(), decl.runs == Runs::Shot);
                    key.word(*prints.entry(at).or_insert_with(|| tensor_print(name, v)));
                }
                self.kept_or_run(stage, key.finish(), || {
                    let list = views
                        .iter()
                        .map(|(name, v)| input(name, v.view()))
                        .collect::<Result<Vec<Input>, _>>()?;
                    self.run_stage(model, stage, decl, list)
                })?
            };
            for (name, t) in decl.outputs.iter().zip(outputs.iter()) {
                made.insert(name.clone(), t.clone());
            }
            timings.push(StageTiming {
                name: decl.name.clone(),
                runs: decl.runs.label(),
                ms: clock.elapsed().as_secs_f64() * 1e3,
                cached,
            });
        }
        let (stage, decl) = (&self.stages[n - 1], &self.plan.stages[n - 1]);
        let clock = std::time::Instant::now();
        let what = format!("the model '{model}' (stage '{}')", decl.name);
        let element = over_tiles::<f32>(grid, 0, aborted, |xs, ys, put| {
            let mut list = Vec::with_capacity(decl.inputs.len());
            for name in &decl.inputs {
                let v = match name.as_str() {
                    "out_x" => xs.view().into_dyn(),
                    "out_y" => ys.view().into_dyn(),
                    _ => given.get(name, decl.runs, &made)?,
                };
                list.push(input(name, v)?);
            }
            stage.runs.fetch_add(1, Ordering::Relaxed);
            run_session(&stage.session, &what, list, |out| {
                put(element_of(out, xs.len(), ys.len())?)
            })
        })?;
        timings.push(StageTiming {
            name: decl.name.clone(),
            runs: decl.runs.label(),
            ms: clock.elapsed().as_secs_f64() * 1e3,
            cached: false,
        });
        Ok((element, timings))
    }

    /// One run of a shot or frame stage: its outputs, their shapes checked.
    fn run_stage(
        &self,
        model: &str,
        stage: &Stage,
        decl: &StageDecl,
        list: Vec<Input>,
    ) -> Result<Vec<Arc<ArrayD<f32>>>, InferenceError> {
        stage.runs.fetch_add(1, Ordering::Relaxed);
        let what = format!("the model '{model}' (stage '{}')", decl.name);
        run_session(&stage.session, &what, list, |out| {
            decl.outputs
                .iter()
                .map(|name| {
                    let t = out
                        .get(name)
                        .ok_or_else(|| InferenceError::run(format!("{what} gave no '{name}'")))?
                        .try_extract_array::<f32>()
                        .map_err(|e| InferenceError::run(format!("cannot read '{name}' of {what}: {e}")))?;
                    let want = &self.plan.shapes[name];
                    let fits = t.ndim() == want.len()
                        && t.shape().iter().zip(want).all(|(&d, &w)| w == -1 || d as i64 == w);
                    if !fits {
                        return Err(refuse(&self.plan.dir, format!(
                            "stage '{}', tensor '{name}': the run gave shape {:?}, package.toml declares {want:?}",
                            decl.name,
                            t.shape()
                        )));
                    }
                    Ok(Arc::new(t.as_standard_layout().into_owned()))
                })
                .collect()
        })
    }

    /// The kept outputs for `key`, else `run`'s (kept, least recently used first out).
    /// Tiles rendering at once wait for the first to compute them. Also says whether they were kept.
    fn kept_or_run(
        &self,
        stage: &Stage,
        key: u64,
        run: impl FnOnce() -> Result<Vec<Arc<ArrayD<f32>>>, InferenceError>,
    ) -> Result<(Outputs, bool), InferenceError> {
        let mut kept = stage.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = kept.iter().position(|(k, _)| *k == key) {
            let hit = kept.remove(at);
            let outputs = hit.1.clone();
            kept.push(hit);
            return Ok((outputs, true));
        }
        let outputs = Arc::new(run()?);
        let bytes = |o: &Outputs| o.iter().map(|t| t.len() * 4).sum::<usize>();
        if bytes(&outputs) <= KEPT_BYTES {
            kept.push((key, outputs.clone()));
            while kept.len() > KEPT_RUNS
                || kept.iter().map(|(_, o)| bytes(o)).sum::<usize>() > KEPT_BYTES
            {
                kept.remove(0);
            }
        }
        Ok((outputs, false))
    }

    pub(crate) fn runs(&self) -> Vec<(String, u64)> {
        self.plan
            .stages
            .iter()
            .zip(&self.stages)
            .map(|(d, s)| (d.name.clone(), s.runs.load(Ordering::Relaxed)))
            .collect()
    }

    pub(crate) fn clear_cache(&self) {
        for s in &self.stages {
            s.kept.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::{load_model, DeviceRequest, LIBRARY_ENV};
    use ndarray::Array4;

    /// The mini package the tests render (`COLLAPSE_TEST_PACKAGE`, else target/learned-mini).
    pub(crate) fn test_package() -> PathBuf {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let path = std::env::var_os("COLLAPSE_TEST_PACKAGE")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/learned-mini/learned.collapse"));
        if !path.join(PACKAGE_FILE).is_file() {
            panic!(
                "\nCOLLAPSE TEST COULD NOT RUN: no model package at {}; make it with\n  \
                 target/venv/bin/python -m model.learned.train --mini --out target/learned-mini && \
                 target/venv/bin/python -m model.learned.package --model target/learned-mini --out target/learned-mini/learned.collapse\n",
                path.display()
            );
        }
        path
    }

    fn use_fetched_runtime() {
        let deps = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/deps");
        let lib = std::fs::read_dir(&deps)
            .ok()
            .and_then(|rd| {
                rd.flatten()
                    .map(|e| e.path().join("libonnxruntime.so.1"))
                    .find(|p| p.is_file() && p.to_string_lossy().contains("-cpu-"))
            })
            .expect("the cpu ONNX Runtime is not fetched: run tools/setup.sh");
        std::env::set_var(LIBRARY_ENV, lib);
    }

    fn frame_inputs(model: &LoadedModel, progress: f32, seed: f32) -> FrameInputs {
        let (w, h) = (64, 48);
        let mut plate = Array4::<f32>::zeros((1, 4, h, w));
        let mut mask = Array4::<f32>::zeros((1, 1, h, w));
        for j in 0..h {
            for i in 0..w {
                let building = (16..48).contains(&i) && j >= 8;
                for c in 0..4 {
                    plate[[0, c, j, i]] = if building {
                        [0.8, 0.4, 0.2, 1.0][c]
                    } else {
                        [0.4, 0.6, 0.9, 1.0][c]
                    };
                }
                mask[[0, 0, j, i]] = building as i32 as f32;
            }
        }
        let mut s = [0.0f32; SCENE_LEN];
        s[scene::PROGRESS] = progress;
        s[scene::FRAMES] = progress * 24.0;
        s[scene::DURATION] = 24.0;
        s[scene::SEED] = seed;
        s[scene::SCALE_X] = 1.0;
        s[scene::SCALE_Y] = 1.0;
        s[scene::SOURCE_LEFT] = 0.0;
        s[scene::SOURCE_TOP] = h as f32;
        s[scene::REGION_LEFT] = 16.0;
        s[scene::REGION_BOTTOM] = 0.0;
        s[scene::REGION_WIDTH] = 32.0;
        s[scene::REGION_HEIGHT] = 40.0;
        s[scene::HAS_BACKGROUND] = 1.0;
        s[scene::HAS_MASK] = 1.0;
        FrameInputs {
            background: plate.clone(),
            plate,
            shot_plate: None,
            mask,
            scene: s,
            controls: model.contract.control_values(&[]),
        }
    }

    fn grid(x: usize, y: usize, width: usize, height: usize) -> OutputGrid {
        OutputGrid {
            left: x as f64 + 0.5,
            top: 48.0 - y as f64 - 0.5,
            step_x: 1.0,
            step_y: 1.0,
            width,
            height,
        }
    }

    /// Runs of the stages of one kind so far (the most any of them ran: a package may
    /// have several frame stages, and each must run once per frame).
    fn runs_of(model: &LoadedModel, kind: Runs) -> u64 {
        let Graph::Package(p) = &model.graph else {
            panic!("not a package")
        };
        p.plan
            .stages
            .iter()
            .zip(p.runs())
            .filter(|(d, _)| d.runs == kind)
            .map(|(_, (_, n))| n)
            .max()
            .unwrap_or(0)
    }

    /// The per-frame stage runs once per frame whatever the tiles, the tile stage once
    /// per tile, the per-shot stage once per shot; tiles equal the whole frame.
    #[test]
    fn stages_run_once_per_shot_frame_and_tile() {
        use_fetched_runtime();
        let request = ModelRequest {
            path: test_package(),
            device: DeviceRequest::Cpu,
            half: false,
            tensorrt: false,
        };
        let model = load_model(&request).unwrap_or_else(|e| panic!("{e}"));
        assert!(model.is_package());
        let inputs = frame_inputs(&model, 0.4, 3.0);
        let (shot0, frame0, tile0) = (
            runs_of(&model, Runs::Shot),
            runs_of(&model, Runs::Frame),
            runs_of(&model, Runs::Tile),
        );
        let mut tiles = Vec::new();
        for (x, y) in [(0, 0), (32, 0), (0, 24), (32, 24)] {
            tiles.push((
                (x, y),
                model.run(&inputs, &grid(x, y, 32, 24), &|| false).unwrap(),
            ));
        }
        assert_eq!(
            runs_of(&model, Runs::Frame) - frame0,
            1,
            "the per-frame stage ran more than once for 4 tiles"
        );
        assert_eq!(
            runs_of(&model, Runs::Tile) - tile0,
            4,
            "the tile stage ran once per tile"
        );
        assert_eq!(
            runs_of(&model, Runs::Shot) - shot0,
            1,
            "the per-shot stage ran once"
        );
        assert!(whole_is_not_empty(&tiles), "the package rendered nothing");
        // Tiles equal the whole frame.
        let whole = model.run(&inputs, &grid(0, 0, 64, 48), &|| false).unwrap();
        for ((x, y), t) in &tiles {
            for c in 0..4 {
                for j in 0..24 {
                    for i in 0..32 {
                        let (a, b) = (
                            t[(c * 24 + j) * 32 + i],
                            whole[(c * 48 + y + j) * 64 + x + i],
                        );
                        assert!(
                            (a - b).abs() <= 1e-6,
                            "tile {x},{y} differs at {c},{i},{j}: {a} vs {b}"
                        );
                    }
                }
            }
        }
        // Another frame: the frame stage again, not the shot stage; another seed: both.
        let (shot1, frame1) = (runs_of(&model, Runs::Shot), runs_of(&model, Runs::Frame));
        model
            .run(
                &frame_inputs(&model, 0.6, 3.0),
                &grid(0, 0, 64, 48),
                &|| false,
            )
            .unwrap();
        assert_eq!(runs_of(&model, Runs::Frame) - frame1, 1);
        assert_eq!(
            runs_of(&model, Runs::Shot),
            shot1,
            "the per-shot stage depends on time"
        );
        let (_, timings) = model
            .run_stages(
                &frame_inputs(&model, 0.6, 4.0),
                &grid(0, 0, 64, 48),
                &|| false,
            )
            .unwrap();
        assert_eq!(timings.len(), model.stage_runs().len());
        // (Every stage that reads the seed runs again; one that reads only the images,
        // the plate's light, is kept.)
        let Graph::Package(p) = &model.graph else {
            panic!("not a package")
        };
        for (t, d) in timings.iter().zip(&p.plan.stages) {
            let seeded = d.inputs.iter().any(|i| i == "scene" || i == "noise");
            assert_eq!(t.cached, !seeded, "stage '{}': {timings:?}", d.name);
        }
        // A plate sequence: the next frame's plate differs (grain). With the reference
        // frame's plate given to the shot stages, none of them runs again.
        let reference = frame_inputs(&model, 0.6, 4.0).plate;
        let mut grainy = frame_inputs(&model, 0.6, 4.0);
        grainy.plate.mapv_inplace(|v| v + 0.001);
        grainy.shot_plate = Some(reference);
        let (_, timings) = model
            .run_stages(&grainy, &grid(0, 0, 64, 48), &|| false)
            .unwrap();
        for (t, d) in timings.iter().zip(&p.plan.stages) {
            if d.runs == Runs::Shot {
                assert!(t.cached, "stage '{}': {timings:?}", d.name);
            }
        }
        // Without it they read this frame's plate: those that read the plate run again,
        // the others (the fracture reads the matte) do not.
        grainy.shot_plate = None;
        let (_, timings) = model
            .run_stages(&grainy, &grid(0, 0, 64, 48), &|| false)
            .unwrap();
        for (t, d) in timings.iter().zip(&p.plan.stages) {
            if d.runs == Runs::Shot {
                let reads = d.inputs.iter().any(|i| i == "plate");
                assert_eq!(t.cached, !reads, "stage '{}': {timings:?}", d.name);
            }
        }
        assert!(
            timings.iter().any(|t| t.name == "fracture" && t.cached),
            "the fracture ran again for another frame's plate: {timings:?}"
        );
    }

    fn whole_is_not_empty(tiles: &[((usize, usize), Vec<f32>)]) -> bool {
        tiles.iter().any(|(_, t)| t.iter().any(|v| *v != 0.0))
    }

    #[test]
    fn noise_is_standard_normal_and_fixed_by_the_seed() {
        let a = noise(3, 20001);
        assert_eq!(a.len(), 20001);
        assert_eq!(a, noise(3, 20001));
        assert_ne!(a, noise(4, 20001));
        assert_eq!(noise(-7, 5), noise(-7, 6)[..5]);
        let mean = a.iter().map(|v| *v as f64).sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / a.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean}, variance {var}"
        );
        assert!(noise(0, 0).is_empty());
    }

    /// package.toml's own rules, without ONNX Runtime: each broken variant is refused
    /// with a message naming the stage and the tensor.
    #[test]
    fn package_toml_rules_refuse_with_the_stage_and_tensor() {
        const GOOD: &str = r#"
contract = 2
name = "t"
reach = [0.5, 0.1, 0.5, 0.5]
context = [0.3, 0.05, 0.3, 0.35]
noise = 8
[[controls]]
name = "direction"
min = -1
max = 1
default = 0
[[stages]]
name = "cut"
runs = "shot"
file = "cut.onnx"
inputs = ["mask", "scene", "noise"]
outputs = ["rest"]
[[stages]]
name = "move"
runs = "frame"
file = "move.onnx"
inputs = ["scene", "controls", "rest"]
outputs = ["motion"]
[[stages]]
name = "draw"
runs = "tile"
file = "draw.onnx"
inputs = ["plate", "out_x", "out_y", "rest", "motion"]
outputs = ["element"]
[tensors]
rest = { shape = [16, 4], dtype = "float32" }
motion = { shape = [16, -1], dtype = "float32" }
element = { shape = [1, 4, -1, -1], dtype = "float32" }
"#;
        let dir = std::env::temp_dir().join(format!("collapse-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let read = |text: &str| {
            std::fs::write(dir.join(PACKAGE_FILE), text).unwrap();
            Plan::read(&dir)
        };
        let plan = read(GOOD).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.stages.len(), 3);
        assert_eq!(plan.shapes["controls"], vec![1]);
        assert_eq!(plan.shapes["noise"], vec![8]);
        for (edit, expect) in [
            (("contract = 2", "contract = 1"), "contract = 1"),
            (
                ("reach = [0.5, 0.1, 0.5, 0.5]", "reach = [0.5, 0.1]"),
                "reach",
            ),
            (("name = \"direction\"", "name = \"warp\""), "warp"),
            (
                (
                    "inputs = [\"scene\", \"controls\", \"rest\"]",
                    "inputs = [\"scene\", \"out_x\", \"rest\"]",
                ),
                "stage 'move', tensor 'out_x'",
            ),
            (
                (
                    "inputs = [\"mask\", \"scene\", \"noise\"]",
                    "inputs = [\"mask\", \"motion\"]",
                ),
                "stage 'cut', tensor 'motion'",
            ),
            (
                (
                    "inputs = [\"mask\", \"scene\", \"noise\"]",
                    "inputs = [\"mask\", \"elsewhere\"]",
                ),
                "stage 'cut', tensor 'elsewhere'",
            ),
            (("noise = 8", "noise = 0"), "stage 'cut', tensor 'noise'"),
            (
                ("outputs = [\"motion\"]", "outputs = [\"rest\"]"),
                "stage 'move', tensor 'rest': is already an output of stage 'cut'",
            ),
            (
                ("outputs = [\"motion\"]", "outputs = [\"undeclared\"]"),
                "stage 'move', tensor 'undeclared': is not declared",
            ),
            (
                (
                    "motion = { shape = [16, -1], dtype = \"float32\" }",
                    "motion = { shape = [16, -1], dtype = \"float16\" }",
                ),
                "stage 'move', tensor 'motion': declared dtype",
            ),
            (
                ("motion = { shape = [16, -1]", "motion = { shape = [16, 0]"),
                "stage 'move', tensor 'motion': declared shape",
            ),
            (("runs = \"frame\"", "runs = \"tile\""), "2 tile stages"),
            (
                ("runs = \"frame\"", "runs = \"often\""),
                "stage 'move': runs = \"often\"",
            ),
            (
                ("name = \"move\"", "name = \"cut\""),
                "stage 'cut': the name is used twice",
            ),
            (
                ("file = \"move.onnx\"", "file = \"../move.onnx\""),
                "stage 'move': file '../move.onnx' is not a file name in the package folder",
            ),
            (
                (
                    "element = { shape = [1, 4, -1, -1]",
                    "element = { shape = [1, 3, -1, -1]",
                ),
                "tensor 'element'",
            ),
            (
                (
                    "rest = { shape",
                    "scene = { shape = [16], dtype = \"float32\" }\nrest = { shape",
                ),
                "tensor 'scene'",
            ),
        ] {
            assert!(GOOD.contains(edit.0), "{}", edit.0);
            match read(&GOOD.replacen(edit.0, edit.1, 1)) {
                Ok(_) => panic!("{} was accepted", edit.1),
                Err(e) => {
                    assert!(e.message.contains(expect), "{}: {}", edit.1, e.message);
                    assert!(
                        e.message.contains(&dir.display().to_string()),
                        "{}",
                        e.message
                    );
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
