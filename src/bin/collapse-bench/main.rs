//! `collapse-bench`: how fast the Collapse bundle renders, measured the same
//! way every time, through the OpenFX C ABI with the project's Rust host, next
//! to the same model run directly through ONNX Runtime on the same tensors.
//!
//! `make bench` (or `cargo run --release --bin collapse-bench -- [--quick]`)
//! prints a Markdown table: medians with min and max over repeated runs
//! (`--learned`: only the learned package's rows).

use collapse_ofx::host::{
    Bundle, ClipSource, Context, HostConfig, Image, Instance, OfxRectI, ParamValue, Plugin, Project,
};
use collapse_ofx::inference::{self, scene, DeviceRequest, FrameInputs, ModelRequest, OutputGrid};
use ndarray::Array4;
use std::path::{Path, PathBuf};
use std::time::Instant;

const PLUGIN_ID: &str = collapse_ofx::PLUGIN_ID;
/// Collapse progress the timed frames show: mid-fall, the busiest part.
const PROGRESS: f64 = 0.35;

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn measure(runs: usize, mut f: impl FnMut()) -> Stats {
    f(); // warm-up
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Stats {
        median: t[t.len() / 2],
        min: t[0],
        max: t[t.len() - 1],
    }
}

fn row(what: &str, s: &Stats, note: &str) {
    println!(
        "| {what} | {:.1} | {:.1} – {:.1} | {note} |",
        s.median, s.min, s.max
    );
}

/// Times `inference::clean_plate::synthesize` on the bench plate: the source
/// window of a 960x540 region at 1080p (1536x756) at `scale`.
fn clean_plate_synthesis(scale: f64, runs: usize) -> Stats {
    let (w, h) = ((1536.0 * scale) as usize, (756.0 * scale) as usize);
    let img = plate(1920, 1080);
    let (x0, y0) = (192.0, 162.0);
    let n = w * h;
    let mut rgba = vec![0.0f32; 4 * n];
    let mut hole = vec![0.0f32; n];
    for j in 0..h {
        for i in 0..w {
            let (x, y) = (
                x0 + (i as f64 + 0.5) / scale,
                y0 + 756.0 - (j as f64 + 0.5) / scale,
            );
            let p = img.get(x as i32, y as i32);
            for c in 0..4 {
                rgba[c * n + j * w + i] = p[c];
            }
            let inside = (480.0..1440.0).contains(&x) && (270.0..810.0).contains(&y);
            hole[j * w + i] = inside as i32 as f32;
        }
    }
    measure(runs, || {
        inference::clean_plate::synthesize(w, h, &rgba, &hole, scale, 7);
    })
}

/// A plate with a sky gradient, ground and textured building blocks.
fn plate(w: i32, h: i32) -> Image {
    let mut px = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let t = y as f32 / h as f32;
            let block = ((x / 37) ^ (y / 23)) & 3;
            let c = if y < h / 10 {
                [0.2, 0.2, 0.2, 1.0]
            } else if t < 0.7 && (x / 97) % 3 != 0 {
                let v = 0.4 + 0.1 * block as f32;
                [v, v * 0.8, v * 0.6, 1.0]
            } else {
                [0.4 + 0.3 * t, 0.6 + 0.2 * t, 0.95, 1.0]
            };
            px.extend_from_slice(&c);
        }
    }
    Image::from_f32_rgba(
        OfxRectI {
            x1: 0,
            y1: 0,
            x2: w,
            y2: h,
        },
        &px,
    )
}

fn bundle_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("COLLAPSE_BUNDLE") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("own path");
    exe.parent().unwrap().join("../ofx/Collapse.ofx.bundle")
}

fn load(bundle: &Bundle, w: i32, h: i32) -> Plugin {
    // Like the renderer: a production host.
    let config = HostConfig::production(Project::frames(w as f64, h as f64, (1.0, 100.0)));
    bundle
        .load_plugin(PLUGIN_ID, config)
        .expect("load the plugin")
}

/// An instance of the procedural model on a `w`x`h` plate with a `rw`x`rh` region standing
/// on the ground, centred.
fn instance(plugin: &Plugin, w: i32, h: i32, rw: f64, rh: f64) -> Instance {
    let inst = plugin
        .create_instance(Context::General)
        .expect("create an instance");
    inst.connect("Source", ClipSource::still(plate(w, h)))
        .unwrap();
    let set = |n: &str, v| inst.set_param(n, v).expect("set a parameter");
    set(
        "bottomLeft",
        ParamValue::Double2D((w as f64 - rw) / 2.0, h as f64 / 10.0),
    );
    set("size", ParamValue::Double2D(rw, rh));
    set("startFrame", ParamValue::Double(1.0));
    set("duration", ParamValue::Double(100.0));
    inst.set_param("bundledModel", ParamValue::Choice(0))
        .expect("choose the procedural model");
    inst
}

fn time_at(progress: f64) -> f64 {
    1.0 + 100.0 * progress
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// A bundled model loaded straight through the inference layer (no OFX).
fn direct(bundle: &Path, model: &str) -> std::sync::Arc<inference::LoadedModel> {
    std::env::set_var(
        inference::LIBRARY_ENV,
        bundle.join("Contents/Linux-x86-64/lib/libonnxruntime.so.1"),
    );
    let request = ModelRequest {
        path: bundle.join("Contents/Resources").join(model),
        device: DeviceRequest::Cpu,
        half: false,
        tensorrt: false,
    };
    inference::load_model(&request).expect("load the model directly")
}

/// The tensors the plugin would build for a `w`x`h` frame with a centred `rw`x`rh`
/// region (its rectangle as the mask), and the frame's affected area as the grid.
fn frame_tensors(
    model: &inference::LoadedModel,
    w: i32,
    h: i32,
    rw: f64,
    rh: f64,
) -> (FrameInputs, OutputGrid) {
    let c = &model.contract;
    let (x0, y0) = ((w as f64 - rw) / 2.0, h as f64 / 10.0);
    let grow = |a: f64, b: f64, lo: f64, hi: f64, len: f64| {
        ((a - lo * len).floor(), (b + hi * len).ceil())
    };
    let (sx1, sx2) = grow(x0, x0 + rw, c.context.left, c.context.right, rw);
    let (sy1, sy2) = grow(y0, y0 + rh, c.context.bottom, c.context.top, rh);
    let (ax1, ax2) = grow(x0, x0 + rw, c.reach.left, c.reach.right, rw);
    let (ay1, ay2) = grow(y0, y0 + rh, c.reach.bottom, c.reach.top, rh);
    let (ax1, ax2, ay1, ay2) = (
        ax1.max(0.0),
        ax2.min(w as f64),
        ay1.max(0.0),
        ay2.min(h as f64),
    );
    let img = plate(w, h);
    let (ws, hs) = ((sx2 - sx1) as usize, (sy2 - sy1) as usize);
    let mut plate_t = Array4::<f32>::zeros((1, 4, hs, ws));
    let mut mask = Array4::<f32>::zeros((1, 1, hs, ws));
    for j in 0..hs {
        let y = sy2 as i32 - 1 - j as i32;
        for i in 0..ws {
            let x = sx1 as i32 + i as i32;
            let p = img.get(x, y);
            for k in 0..4 {
                plate_t[[0, k, j, i]] = p[k];
            }
            let inside = (x as f64) >= x0
                && (x as f64) < x0 + rw
                && (y as f64) >= y0
                && (y as f64) < y0 + rh;
            mask[[0, 0, j, i]] = inside as i32 as f32;
        }
    }
    let mut s = [0.0f32; 16];
    s[scene::PROGRESS] = PROGRESS as f32;
    s[scene::FRAMES] = (PROGRESS * 100.0) as f32;
    s[scene::DURATION] = 100.0;
    s[scene::SEED] = 1.0;
    s[scene::SCALE_X] = 1.0;
    s[scene::SCALE_Y] = 1.0;
    s[scene::SOURCE_LEFT] = sx1 as f32;
    s[scene::SOURCE_TOP] = sy2 as f32;
    s[scene::REGION_LEFT] = x0 as f32;
    s[scene::REGION_BOTTOM] = y0 as f32;
    s[scene::REGION_WIDTH] = rw as f32;
    s[scene::REGION_HEIGHT] = rh as f32;
    s[scene::HAS_MASK] = 0.0;
    let inputs = FrameInputs {
        background: Array4::zeros(plate_t.raw_dim()),
        plate: plate_t,
        shot_plate: None,
        mask,
        scene: s,
        controls: c.control_values(&[]),
    };
    let grid = OutputGrid {
        left: ax1 + 0.5,
        top: ay2 - 0.5,
        step_x: 1.0,
        step_y: 1.0,
        width: (ax2 - ax1) as usize,
        height: (ay2 - ay1) as usize,
    };
    (inputs, grid)
}

/// The bundled procedural model run straight through ONNX Runtime on the tensors the
/// plugin would build for the same frame (one run over the whole affected area).
fn raw_ort(bundle: &Path, w: i32, h: i32, rw: f64, rh: f64, runs: usize) -> Stats {
    let model = direct(bundle, collapse_ofx::PROCEDURAL_MODEL_FILE);
    let (inputs, grid) = frame_tensors(&model, w, h, rw, rh);
    measure(runs, || {
        model.run_whole(&inputs, &grid).expect("run the model");
    })
}

/// The learned package: whole frames and a zoomed viewer tile through the plugin,
/// each stage alone (cold: its cache cleared) through the inference layer, and the
/// generator against the reference simulation (model/learned/bench.py, Python).
fn learned_rows(bundle: &Bundle, bundle_path: &Path, runs: usize) {
    println!("\n### The learned package (bundledModel = Learned)\n");
    println!("| what | median | min – max | note |");
    println!("|---|---|---|---|");
    let t = time_at(PROGRESS);
    let plugin = load(bundle, 1920, 1080);
    let inst = instance(&plugin, 1920, 1080, 960.0, 540.0);
    inst.set_param("bundledModel", ParamValue::Choice(1))
        .expect("choose the learned package");
    let whole = measure(runs, || {
        inst.render_frame(t, (1.0, 1.0)).unwrap();
    });
    row(
        "learned package: 1080p, region 960x540, whole frame",
        &whole,
        "",
    );
    // A viewer zoomed in on the building: one 512x512 window inside the region.
    let zoom = OfxRectI {
        x1: 704,
        y1: 200,
        x2: 1216,
        y2: 712,
    };
    let tile = measure(runs, || {
        let mut out = inst.new_output_image(zoom);
        inst.render(t, (1.0, 1.0), zoom, &mut out).unwrap();
    });
    row(
        "learned package: one 512x512 viewer tile in the region",
        &tile,
        "its own pixels plus the kept per-frame stage",
    );
    drop(inst);
    let model = direct(bundle_path, LEARNED_PACKAGE);
    let (inputs, grid) = frame_tensors(&model, 1920, 1080, 960.0, 540.0);
    let mut per_stage: Vec<(String, &'static str, Vec<f64>)> = Vec::new();
    for _ in 0..runs {
        model.clear_stage_cache();
        let (_, timings) = model
            .run_stages(&inputs, &grid, &|| false)
            .expect("run the learned package");
        for st in timings {
            match per_stage.iter_mut().find(|(n, ..)| *n == st.name) {
                Some((.., v)) => v.push(st.ms),
                None => per_stage.push((st.name.clone(), st.runs, vec![st.ms])),
            }
        }
    }
    for (name, runs_per, mut ms) in per_stage {
        ms.sort_by(|a, b| a.total_cmp(b));
        let s = Stats {
            median: ms[ms.len() / 2],
            min: ms[0],
            max: ms[ms.len() - 1],
        };
        let note = match runs_per {
            "tile" => format!(
                "per tile: the whole {}x{} affected area here (budget 100 ms)",
                grid.width, grid.height
            ),
            other => format!("once per {other}"),
        };
        row(&format!("learned package, stage '{name}' alone"), &s, &note);
    }
    println!();
    let python = repo_root().join("target/venv/bin/python");
    let done = std::process::Command::new(&python)
        .args(["-m", "model.learned.bench", "--package"])
        .arg(bundle_path.join("Contents/Resources").join(LEARNED_PACKAGE))
        .current_dir(repo_root())
        .output();
    match done {
        Ok(out) if out.status.success() => {
            println!("The generator against the reference simulation, per frame, in one run (model/learned/bench.py):\n");
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        Ok(out) => println!(
            "**The generator-vs-simulation speed ratio was NOT measured**: model.learned.bench failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        ),
        Err(e) => println!(
            "**The generator-vs-simulation speed ratio was NOT measured**: {} cannot run ({e}); \
             `SETUP_PYTHON=\"sim train\" tools/setup.sh` makes it",
            python.display()
        ),
    }
    println!();
}

/// The learned package in the bundle's Resources.
const LEARNED_PACKAGE: &str = "learned.collapse";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 7 };
    let bundle_path = bundle_dir();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "Collapse benchmark: {} ({} cores), bundle {}",
        cpu_name(),
        cores,
        bundle_path.display()
    );
    println!("Float RGBA, CPU execution provider, frames at collapse progress {PROGRESS}. Times in ms. The procedural model (bundledModel = Procedural) unless a section says otherwise.\n");

    let load_start = Instant::now();
    let bundle = Bundle::open(&bundle_path)
        .unwrap_or_else(|e| panic!("{e}: build the bundle with `make bundle`"));
    if std::env::args().any(|a| a == "--learned") {
        return learned_rows(&bundle, &bundle_path, runs);
    }
    let plugin = load(&bundle, 1920, 1080);
    let first = instance(&plugin, 1920, 1080, 960.0, 540.0);
    first
        .render_frame(time_at(PROGRESS), (1.0, 1.0))
        .expect("first frame");
    let first_frame = load_start.elapsed().as_secs_f64() * 1000.0;

    println!("| what | median | min – max | note |");
    println!("|---|---|---|---|");
    println!("| first frame after load (1080p) | {first_frame:.0} | – | bundle load, describe, ORT library load, session creation, one render |");

    let t = time_at(PROGRESS);
    let whole = measure(runs, || {
        first.render_frame(t, (1.0, 1.0)).unwrap();
    });
    row("1080p, region 960x540, whole frame, all cores", &whole, "");
    let tiled = measure(runs, || {
        first
            .render_tiled(t, (1.0, 1.0), Some((256, 256)), cores)
            .unwrap();
    });
    row(
        "1080p, region 960x540, 256x256 tiles on all cores",
        &tiled,
        "Natron-style tiles",
    );
    let raw = raw_ort(&bundle_path, 1920, 1080, 960.0, 540.0, runs);
    row(
        "same tensors straight through ort",
        &raw,
        "model only, no OFX",
    );
    println!(
        "| plugin overhead (whole frame / raw ort) | {:.2}x | | |",
        whole.median / raw.median
    );

    let before = measure(runs * 3, || {
        first.render_frame(0.0, (1.0, 1.0)).unwrap();
    });
    row(
        "identity frame (before the start)",
        &before,
        "host copies the source",
    );
    let identity_query = measure(runs * 3, || {
        first
            .is_identity(
                0.0,
                (1.0, 1.0),
                OfxRectI {
                    x1: 0,
                    y1: 0,
                    x2: 1920,
                    y2: 1080,
                },
            )
            .unwrap();
    });
    row(
        "isIdentity call before the start",
        &identity_query,
        "what the plugin spends",
    );
    let far = OfxRectI {
        x1: 0,
        y1: 0,
        x2: 200,
        y2: 1080,
    };
    let outside = measure(runs * 3, || {
        let mut out = first.new_output_image(far);
        first.render(t, (1.0, 1.0), far, &mut out).unwrap();
    });
    row(
        "render window outside the region (200x1080)",
        &outside,
        "a tile within the region's reach: served from the frame's element the tiles row kept",
    );

    // Single core: a fresh session with one ONNX Runtime thread.
    std::env::set_var(inference::THREADS_ENV, "1");
    first.purge_caches().unwrap();
    let single = measure(runs, || {
        first.render_frame(t, (1.0, 1.0)).unwrap();
    });
    row(
        "1080p, region 960x540, one core",
        &single,
        "COLLAPSE_THREADS=1",
    );
    std::env::remove_var(inference::THREADS_ENV);
    first.purge_caches().unwrap();
    drop(first);

    // The per-shot clean plate (no Background connected): synthesized once per
    // plate, then kept; the rows above hit that cache.
    for (scale, label) in [(1.0, "full"), (0.5, "0.5 proxy")] {
        let s = clean_plate_synthesis(scale, runs.min(3));
        row(
            &format!("clean plate synthesis, 960x540 hole in a 1536x756 window ({label})"),
            &s,
            "once per shot (per plate, hole and seed), not per frame",
        );
    }

    for (rw, rh) in [
        (240.0, 135.0),
        (480.0, 270.0),
        (960.0, 540.0),
        (1440.0, 810.0),
    ] {
        let inst = instance(&plugin, 1920, 1080, rw, rh);
        let s = measure(runs, || {
            inst.render_frame(t, (1.0, 1.0)).unwrap();
        });
        row(
            &format!("1080p, region {rw}x{rh} ({:.0}k px)", rw * rh / 1000.0),
            &s,
            "cost vs region area",
        );
    }
    drop(plugin);
    for (w, h) in [(1280, 720), (1920, 1080), (3840, 2160)] {
        let plugin = load(&bundle, w, h);
        let inst = instance(&plugin, w, h, 480.0, 270.0);
        let s = measure(runs, || {
            inst.render_frame(t, (1.0, 1.0)).unwrap();
        });
        row(
            &format!("{w}x{h}, region 480x270"),
            &s,
            "cost vs frame size",
        );
    }
    let plugin = load(&bundle, 3840, 2160);
    let inst = instance(&plugin, 3840, 2160, 1920.0, 1080.0);
    let s = measure(runs.min(3), || {
        inst.render_frame(t, (1.0, 1.0)).unwrap();
    });
    row("4K, region 1920x1080, whole frame", &s, "");
    println!(
        "| peak memory (resident, whole run) | {:.0} MB | | after the 4K frames |",
        peak_rss_mb()
    );
    // (The next rows load the plugin with another configuration: nothing may hold this one.)
    drop(inst);
    drop(plugin);
    learned_rows(&bundle, &bundle_path, runs);
}
