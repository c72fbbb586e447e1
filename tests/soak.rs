//! A long farm render in one process (`make soak`; not part of `make test`):
//! SOAK_FRAMES (default 2000) frames of a 1080p shot, cycling through the whole
//! collapse, each rendered whole, in 256x256 tiles on two threads, or as a 0.5
//! proxy. Resident memory is printed every 100 frames and must not grow: at the
//! end under 5% above what it was after the first 100 frames (the highest sample
//! in between is printed too: the allocator's swings); a second pass over the
//! same frames, in reverse order on a fresh instance, must give the same checksum
//! for every frame.

mod plugin_util;

use collapse_ofx::host::{ClipSource, Context, HostConfig, Image, Instance, ParamValue, Project};
use plugin_util::*;

const FW: i32 = 1920;
const FH: i32 = 1080;

/// A 1080p plate: sky gradient with soft clouds, ground, a row of buildings.
fn plate_1080() -> Image {
    let mut px = Vec::with_capacity((FW * FH * 4) as usize);
    for y in 0..FH {
        for x in 0..FW {
            let t = y as f32 / FH as f32;
            let cloud = 0.04 * ((x as f32 * 0.011).sin() * (y as f32 * 0.017).cos());
            let mut c = [
                0.35 + 0.3 * (1.0 - t) + cloud,
                0.5 + 0.2 * (1.0 - t) + cloud,
                0.92,
                1.0,
            ];
            if y < 200 {
                c = [0.22, 0.21, 0.2, 1.0];
            } else if y < 600 && (x / 160) % 3 != 1 {
                let window = x % 24 < 12 && y % 30 < 14;
                c = if window {
                    [0.2, 0.2, 0.25, 1.0]
                } else {
                    [0.62, 0.5, 0.42, 1.0]
                };
            }
            if (720..1200).contains(&x) && (200..900).contains(&y) {
                let window = x % 20 < 9 && y % 26 < 12;
                c = if window {
                    [0.25, 0.14, 0.1, 1.0]
                } else {
                    [0.85, 0.45, 0.2, 1.0]
                };
            }
            px.extend_from_slice(&c);
        }
    }
    Image::from_f32_rgba(rect(0, 0, FW, FH), &px)
}

fn shot(plugin: &collapse_ofx::host::Plugin, plate: &Image) -> Instance {
    let inst = plugin.create_instance(Context::General).expect("instance");
    inst.connect("Source", ClipSource::still(plate.clone()))
        .unwrap();
    set(&inst, "bottomLeft", ParamValue::Double2D(720.0, 200.0));
    set(&inst, "size", ParamValue::Double2D(480.0, 700.0));
    set(&inst, "startFrame", ParamValue::Double(1.0));
    set(&inst, "duration", ParamValue::Double(48.0));
    inst
}

/// Frame `i` of the soak: its time (cycling through 96 frames of the shot) and layout.
fn job(i: usize) -> (f64, usize) {
    (1.0 + (i * 7 % 96) as f64, i % 3)
}

fn render(inst: &Instance, (time, layout): (f64, usize)) -> u64 {
    let img = match layout {
        0 => inst.render_frame(time, (1.0, 1.0)),
        1 => inst.render_tiled(time, (1.0, 1.0), Some((256, 256)), 2),
        _ => inst.render_frame(time, (0.5, 0.5)),
    }
    .unwrap_or_else(|e| panic!("frame at {time} failed: {e}; {:?}", inst.messages()));
    let b = img.bounds();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for y in b.y1..b.y2 {
        for x in b.x1..b.x2 {
            for v in img.get(x, y) {
                h = (h ^ v.to_bits() as u64).wrapping_mul(0x1000_0000_01b3);
            }
        }
    }
    h
}

#[test]
#[ignore = "a long soak: `make soak` runs it"]
fn a_long_render_keeps_its_memory_and_its_bits() {
    let frames: usize = std::env::var("SOAK_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let plate = plate_1080();
    let plugin = load(HostConfig {
        project: Project::frames(FW as f64, FH as f64, (1.0, 96.0)),
        ..HostConfig::default()
    });
    let inst = shot(&plugin, &plate);
    let started = std::time::Instant::now();
    let mut sums = Vec::with_capacity(frames);
    let (mut at_100, mut last) = (0.0, 0.0);
    let mut peak_after = 0.0f64;
    for i in 0..frames {
        sums.push(render(&inst, job(i)));
        if (i + 1) % 100 == 0 {
            let rss = status_kb("VmRSS:") / 1024.0;
            println!(
                "soak: {:5} frames, resident {rss:7.1} MB, {:.1} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
            if i + 1 == 100 {
                at_100 = rss;
            } else {
                peak_after = peak_after.max(rss);
            }
            last = rss;
        }
    }
    assert_clean(&inst);
    drop(inst);
    // The same frames again, newest first, on a fresh instance.
    let again = shot(&plugin, &plate);
    let mut differ = Vec::new();
    for i in (0..frames).rev() {
        if render(&again, job(i)) != sums[i] {
            differ.push(i);
        }
    }
    println!(
        "soak: second pass done at {:.1} s; {} of {frames} frames differ",
        started.elapsed().as_secs_f64(),
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "frames that differ between the passes: {differ:?}"
    );
    if frames > 100 {
        let growth = (last - at_100) / at_100;
        println!(
            "soak: resident after 100 frames {at_100:.1} MB, at the end {last:.1} MB ({:+.1}%), highest in between {peak_after:.1} MB ({:+.1}%)",
            growth * 100.0,
            (peak_after - at_100) / at_100 * 100.0
        );
        assert!(
            growth < 0.05,
            "resident memory grew by {:.1}% after the first 100 frames",
            growth * 100.0
        );
    }
}
