//! Shared by the tests that drive the Collapse bundle: a bundle assembled from
//! this build, synthetic plates, and a ready instance.
#![allow(dead_code)]

use collapse_ofx::host::{
    Bundle, ClipSource, Context, HostConfig, Image, Instance, OfxRectI, ParamValue, Plugin, Project,
};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const PLUGIN_ID: &str = "org.collapseofx.Collapse";

/// Plate size and the building's rectangle in it (canonical = pixels at scale 1).
pub const W: i32 = 320;
pub const H: i32 = 240;
pub const BUILDING: (f64, f64, f64, f64) = (120.0, 30.0, 80.0, 170.0); // x, y, w, h

pub const FACADE: [f32; 4] = [0.85, 0.45, 0.2, 1.0];

/// Fails the test with a loud banner: a test that cannot run never passes.
pub fn cannot_run(why: &str) -> ! {
    let bar = "=".repeat(78);
    panic!("\n{bar}\nCOLLAPSE TEST COULD NOT RUN: {why}\n{bar}\n");
}

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `Collapse.ofx.bundle` assembled from the plugin this test binary was built
/// with (so it is never stale), the fetched ONNX Runtime and the repo's resources.
pub fn bundle_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let deps = exe.parent().expect("deps folder");
        let plugin = [deps.join("libcollapse_ofx.so"), deps.join("../libcollapse_ofx.so")]
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| cannot_run("libcollapse_ofx.so was not built next to the test binary"));
        // ORT_FLAVOR=gpu (the GPU tests) takes the onnxruntime-gpu build and its providers.
        let flavor = std::env::var("ORT_FLAVOR").unwrap_or_else(|_| "cpu".into());
        let ort_dir = std::fs::read_dir(repo().join("target/deps"))
            .ok()
            .and_then(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .find(|p| p.join("libonnxruntime.so.1").is_file() && p.to_string_lossy().contains(&format!("-{flavor}-")))
            })
            .unwrap_or_else(|| {
                cannot_run(&format!(
                    "the {flavor} ONNX Runtime library is not fetched: run `ORT_FLAVOR={flavor} tools/setup.sh` (`make test` does it for cpu)"
                ))
            });
        let name = exe.file_stem().unwrap().to_string_lossy().into_owned();
        let root = repo().join("target/test-bundles").join(name).join("Collapse.ofx.bundle");
        let _ = std::fs::remove_dir_all(&root);
        let bin = root.join("Contents/Linux-x86-64");
        std::fs::create_dir_all(bin.join("lib")).unwrap();
        std::fs::create_dir_all(root.join("Contents/Resources")).unwrap();
        std::fs::copy(&plugin, bin.join("Collapse.ofx")).unwrap();
        for lib in std::fs::read_dir(&ort_dir).unwrap().flatten() {
            std::fs::copy(lib.path(), bin.join("lib").join(lib.file_name())).unwrap();
        }
        std::fs::copy(repo().join("bundle/Contents/Info.plist"), root.join("Contents/Info.plist")).unwrap();
        copy_tree(&repo().join("bundle/Contents/Resources"), &root.join("Contents/Resources"));
        root
    })
}

pub fn load(config: HostConfig) -> Plugin {
    let bundle =
        Bundle::open(bundle_dir()).unwrap_or_else(|e| panic!("cannot open the bundle: {e}"));
    bundle
        .load_plugin(PLUGIN_ID, config)
        .unwrap_or_else(|e| panic!("cannot load the plugin: {e}"))
}

pub fn config() -> HostConfig {
    HostConfig {
        project: Project::frames(W as f64, H as f64, (1.0, 48.0)),
        ..HostConfig::default()
    }
}

pub fn rect(x1: i32, y1: i32, x2: i32, y2: i32) -> OfxRectI {
    OfxRectI { x1, y1, x2, y2 }
}

/// True for pixels inside the BUILDING rectangle (the test region).
pub fn in_building(x: i32, y: i32) -> bool {
    let (bx, by, bw, bh) = BUILDING;
    (x as f64) >= bx && (x as f64) < bx + bw && (y as f64) >= by && (y as f64) < by + bh
}

/// The test plate's sky at row `y` (a gradient, lighter toward the top).
pub fn sky(y: i32) -> [f32; 4] {
    let t = y as f32 / H as f32;
    [0.35 + 0.3 * (1.0 - t), 0.55 + 0.2 * (1.0 - t), 0.95, 1.0]
}

/// A float RGBA plate: sky gradient, ground, an orange building with dark windows.
pub fn plate() -> Image {
    let mut px = Vec::with_capacity((W * H * 4) as usize);
    for y in 0..H {
        for x in 0..W {
            let mut c = sky(y);
            if y < 30 {
                c = [0.22, 0.21, 0.2, 1.0];
            }
            if in_building(x, y) {
                let window = (x - 120) % 10 >= 3
                    && (x - 120) % 10 < 7
                    && (y - 30) % 12 >= 4
                    && (y - 30) % 12 < 9;
                c = if window {
                    [0.25, 0.14, 0.1, 1.0]
                } else {
                    FACADE
                };
            }
            px.extend_from_slice(&c);
        }
    }
    Image::from_f32_rgba(rect(0, 0, W, H), &px)
}

/// True for pixels whose colour is the building's facade.
pub fn is_facade(p: [f32; 4]) -> bool {
    (p[0] - FACADE[0]).abs() < 0.08
        && (p[1] - FACADE[1]).abs() < 0.08
        && (p[2] - FACADE[2]).abs() < 0.08
}

/// An instance in `context` with the plate connected and the region on the building:
/// the collapse starts at frame 1 and lasts 24 frames.
pub fn instance(plugin: &Plugin, context: Context, plate: Image) -> Instance {
    let inst = plugin
        .create_instance(context)
        .unwrap_or_else(|e| panic!("createInstance failed: {e}"));
    inst.connect("Source", ClipSource::still(plate)).unwrap();
    let (x, y, w, h) = BUILDING;
    set(&inst, "bottomLeft", ParamValue::Double2D(x, y));
    set(&inst, "size", ParamValue::Double2D(w, h));
    set(&inst, "startFrame", ParamValue::Double(1.0));
    set(&inst, "duration", ParamValue::Double(24.0));
    set(&inst, "seed", ParamValue::Int(3));
    inst
}

pub fn set(inst: &Instance, name: &str, v: ParamValue) {
    inst.set_param(name, v)
        .unwrap_or_else(|e| panic!("cannot set {name}: {e}"));
}

/// No protocol violations and no error messages from the plugin.
pub fn assert_clean(inst: &Instance) {
    let v = inst.violations();
    assert!(
        v.is_empty(),
        "the plugin broke the OpenFX protocol:\n{}",
        v.join("\n")
    );
    let errors: Vec<_> = inst
        .messages()
        .into_iter()
        .filter(|m| format!("{:?}", m.level).contains("Error"))
        .collect();
    assert!(errors.is_empty(), "the plugin posted errors: {errors:?}");
}

/// Copies the files under `from` into `to`, folders (model packages) included.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

pub fn frame(inst: &Instance, time: f64) -> Image {
    inst.render_frame(time, (1.0, 1.0)).unwrap_or_else(|e| {
        panic!(
            "render at {time} failed: {e}; messages: {:?}",
            inst.messages()
        )
    })
}

/// Pixels where two images differ (over the first one's bounds).
pub fn changed(a: &Image, b: &Image) -> Vec<(i32, i32)> {
    let r = a.bounds();
    let mut out = Vec::new();
    for y in r.y1..r.y2 {
        for x in r.x1..r.x2 {
            if a.get(x, y)
                .iter()
                .zip(b.get(x, y))
                .any(|(p, q)| p.to_bits() != q.to_bits())
            {
                out.push((x, y));
            }
        }
    }
    out
}

/// Mean absolute RGB difference of two images over `a`'s bounds.
pub fn mean_difference(a: &Image, b: &Image) -> f64 {
    let r = a.bounds();
    let (mut sum, mut n) = (0.0f64, 0usize);
    for y in r.y1..r.y2 {
        for x in r.x1..r.x2 {
            let (p, q) = (a.get(x, y), b.get(x, y));
            sum += (0..3).map(|c| (p[c] - q[c]).abs() as f64).sum::<f64>() / 3.0;
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

/// A `kB` field of `/proc/self/status` (`VmRSS:`, `VmHWM:`), in kB.
pub fn status_kb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The photograph as float RGBA (bottom row first, as the host stores it).
pub fn photo(path: &Path) -> (Vec<f32>, i32, i32) {
    let img = image::open(path)
        .unwrap_or_else(|e| cannot_run(&format!("cannot read {}: {e}", path.display())))
        .to_rgb8();
    let (w, h) = (img.width() as i32, img.height() as i32);
    let mut px = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let p = img.get_pixel(x as u32, (h - 1 - y) as u32);
            px.extend([p[0], p[1], p[2]].map(|v| v as f32 / 255.0));
            px.push(1.0);
        }
    }
    (px, w, h)
}

/// An image's pixels as 8-bit RGBA, top row first (as image files store them).
pub fn rgba8_top_first(img: &Image) -> Vec<u8> {
    let r = img.bounds();
    let mut buf = Vec::with_capacity(((r.x2 - r.x1) * (r.y2 - r.y1) * 4).max(0) as usize);
    for y in (r.y1..r.y2).rev() {
        for x in r.x1..r.x2 {
            buf.extend(
                img.get(x, y)
                    .iter()
                    .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
            );
        }
    }
    buf
}

/// The synthetic plate written as a PNG, for the command-line renderer.
pub fn save_plate_png(path: &Path) {
    image::RgbaImage::from_raw(W as u32, H as u32, rgba8_top_first(&plate()))
        .expect("the plate's size")
        .save(path)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
