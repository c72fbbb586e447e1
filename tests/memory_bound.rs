//! An 8K plate: the plugin's memory follows the collapse region, not the plate,
//! because it reads only the source window the region needs and renders it in
//! bounded strips. Each plate size renders in a process of its own, so that the
//! kernel's peak-resident figure belongs to that render alone.

mod plugin_util;

use collapse_ofx::host::{Context, Image, ParamValue};
use plugin_util::*;
use std::process::Command;

const CASE_ENV: &str = "COLLAPSE_MEMORY_CASE";
/// The region, the same number of pixels on every plate: 960x1080 at the plate's centre.
const REGION: (i32, i32) = (960, 1080);
const MIB: f64 = 1024.0 * 1024.0;

/// A float RGBA plate with some texture (the model's lighting and fill read it).
fn big_plate(w: i32, h: i32) -> Image {
    let mut px = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let t = y as f32 / h as f32;
            let brick = ((x / 7 + y / 5) % 3) as f32 * 0.03;
            px.extend_from_slice(&[0.4 + 0.3 * t + brick, 0.5 + 0.2 * t, 0.8 - brick, 1.0]);
        }
    }
    Image::from_f32_rgba(rect(0, 0, w, h), &px)
}

/// The child: renders mid-collapse on a plate of the size in `COLLAPSE_MEMORY_CASE`
/// and prints the resident memory before the render and its peak during it.
#[test]
#[ignore = "a child process of the memory test, which runs it once per plate size"]
fn render_one_plate_and_report_memory() {
    let Ok(case) = std::env::var(CASE_ENV) else {
        eprintln!("{CASE_ENV} is not set: nothing to do (the memory test runs this)");
        return;
    };
    let (w, h) = case
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .expect("COLLAPSE_MEMORY_CASE=WxH");
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, big_plate(w, h));
    let (rw, rh) = REGION;
    set(
        &inst,
        "bottomLeft",
        ParamValue::Double2D(((w - rw) / 2) as f64, 0.0),
    );
    set(&inst, "size", ParamValue::Double2D(rw as f64, rh as f64));
    // Writing 5 to clear_refs resets the peak-resident mark (VmHWM) to now.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak-resident mark");
    let before = status_kb("VmRSS:");
    let _ = frame(&inst, 12.0);
    let peak = status_kb("VmHWM:");
    assert_clean(&inst);
    println!("MEMORY {w}x{h} before_kb={before} peak_kb={peak}");
}

/// Renders one plate size in a child process; returns (resident before, peak during) in MiB.
fn measure(w: i32, h: i32) -> (f64, f64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "render_one_plate_and_report_memory",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_ENV, format!("{w}x{h}"))
        .output()
        .expect("run the child test");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the {w}x{h} render failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find_map(|l| l.split_once("MEMORY ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("the child printed no MEMORY line:\n{text}"));
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(name))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in '{line}'"))
            / 1024.0
    };
    (field("before_kb="), field("peak_kb="))
}

#[test]
fn an_8k_plate_costs_the_memory_of_its_region_not_of_its_plate() {
    // On HD the region's context is clipped by the plate's edges; from 4K up it
    // is whole, so the plugin's share must stop growing with the plate.
    let plates = [(1920, 1080), (3840, 2160), (7680, 4320)];
    let mut share = Vec::new();
    for (w, h) in plates {
        let (before, peak) = measure(w, h);
        // The host's images for the frame, float RGBA: the output, and its copy
        // of the plate that the plugin fetches (the whole render window, since
        // pixels outside the region pass through).
        let host = 2.0 * (w as f64) * (h as f64) * 16.0 / MIB;
        let plugin = peak - before - host;
        eprintln!(
            "{w}x{h} plate, {}x{} region: {before:.0} MiB before the render, peak {peak:.0} MiB; \
             the host's images {host:.0} MiB; the rest (plugin, ONNX Runtime) {plugin:.0} MiB",
            REGION.0, REGION.1
        );
        assert!(
            plugin < 1024.0,
            "a {}x{} region on a {w}x{h} plate took {plugin:.0} MiB beyond the host's images",
            REGION.0,
            REGION.1
        );
        share.push(plugin);
    }
    let (uhd4, uhd8) = (share[1], share[2]);
    assert!(
        uhd8 < uhd4 * 1.1 + 32.0,
        "the same region took {uhd4:.0} MiB on a 4K plate but {uhd8:.0} MiB on an 8K one: \
         memory follows the plate"
    );
}
