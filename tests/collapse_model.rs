//! What the collapse looks like and how it behaves, rendered through the bundle
//! with the bundled default model: determinism, identity, locality, the fall,
//! the dust, output modes, precision and devices.

mod plugin_util;

use collapse_ofx::host::{Context, Image, Instance, ParamValue, Plugin};
use plugin_util::*;

/// The bundled model's reach (collapse.reach "0.75 0.06 0.75 0.6") around BUILDING.
fn affected(x: i32, y: i32) -> bool {
    let (bx, by, bw, bh) = BUILDING;
    let (x, y) = (x as f64 + 0.5, y as f64 + 0.5);
    x > bx - 0.75 * bw - 1.0
        && x < bx + bw * 1.75 + 1.0
        && y > by - 0.06 * bh - 1.0
        && y < by + bh * 1.6 + 1.0
}

/// Time at a given collapse progress (start 1, duration 24).
fn at(progress: f64) -> f64 {
    1.0 + 24.0 * progress
}

fn facade_pixels(img: &Image) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for y in 0..H {
        for x in 0..W {
            if is_facade(img.get(x, y)) {
                out.push((x, y));
            }
        }
    }
    out
}

fn mean_alpha(img: &Image, xs: &[std::ops::Range<i32>], ys: std::ops::Range<i32>) -> f64 {
    let (mut sum, mut n) = (0.0, 0);
    for y in ys {
        for r in xs {
            for x in r.clone() {
                sum += img.get(x, y)[3] as f64;
                n += 1;
            }
        }
    }
    sum / n as f64
}

/// Dust and debris off: every facade-coloured pixel then belongs to the building or its chunks.
fn fragments_only(inst: &Instance) {
    set(inst, "dustAmount", ParamValue::Double(0.0));
    set(inst, "debris", ParamValue::Double(0.0));
}

fn with_output(inst: &Instance, mode: i32) {
    set(inst, "output", ParamValue::Choice(mode));
}

/// A clean plate of one green (the Background input).
fn green_behind(inst: &Instance) {
    use collapse_ofx::host::{BitDepth, ClipSource, Components};
    let green = Image::filled(
        BitDepth::Float,
        Components::Rgba,
        rect(0, 0, W, H),
        [0.1, 0.8, 0.2, 1.0],
    );
    inst.connect("Background", ClipSource::still(green))
        .unwrap();
}

/// An instance over a plate and a Mask painted per pixel: `paint(x, y)` gives the
/// plate's colour there and whether the Mask covers it.
fn painted(plugin: &Plugin, paint: impl Fn(i32, i32) -> ([f32; 4], bool)) -> Instance {
    use collapse_ofx::host::ClipSource;
    let (mut px, mut mask) = (Vec::new(), Vec::new());
    for y in 0..H {
        for x in 0..W {
            let (c, covered) = paint(x, y);
            px.extend_from_slice(&c);
            mask.extend_from_slice(&[f32::from(u8::from(covered)); 4]);
        }
    }
    let whole = rect(0, 0, W, H);
    let inst = instance(plugin, Context::General, Image::from_f32_rgba(whole, &px));
    inst.connect(
        "Mask",
        ClipSource::still(Image::from_f32_rgba(whole, &mask)),
    )
    .unwrap();
    inst
}

#[test]
fn same_inputs_give_the_same_bits_and_seeds_change_the_collapse() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    let a = frame(&inst, at(0.4));
    let b = frame(&inst, at(0.4));
    assert!(a.same_pixels(&b), "two renders of one frame differ");
    let other = instance(&plugin, Context::General, plate());
    let c = other
        .render_tiled(at(0.4), (1.0, 1.0), Some((33, 57)), 4)
        .unwrap();
    assert!(
        a.same_pixels(&c),
        "another instance, in tiles on 4 threads, differs"
    );
    // Frame independence: render order does not matter.
    let later_first = instance(&plugin, Context::General, plate());
    frame(&later_first, at(0.9));
    assert!(
        frame(&later_first, at(0.4)).same_pixels(&a),
        "a frame depends on what was rendered before"
    );
    set(&other, "seed", ParamValue::Int(4));
    assert!(
        changed(&frame(&other, at(0.4)), &a).len() > 500,
        "the seed changes nothing"
    );
    assert_clean(&inst);
}

#[test]
fn identity_before_and_at_the_start() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    set(&inst, "startFrame", ParamValue::Double(10.0));
    for t in [1.0, 9.0, 10.0] {
        assert_eq!(
            inst.is_identity(t, (1.0, 1.0), rect(0, 0, W, H)).unwrap(),
            Some(("Source".into(), t)),
            "frame {t}"
        );
        assert!(
            frame(&inst, t).same_pixels(&plate()),
            "frame {t} is not the plate"
        );
    }
    assert_eq!(
        inst.is_identity(11.0, (1.0, 1.0), rect(0, 0, W, H))
            .unwrap(),
        None
    );
    // A window away from the building is identity even mid-collapse.
    assert_eq!(
        inst.is_identity(20.0, (1.0, 1.0), rect(0, 0, 40, H))
            .unwrap(),
        Some(("Source".into(), 20.0))
    );
    assert_clean(&inst);
}

#[test]
fn nothing_changes_outside_the_affected_area() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    let source = plate();
    for p in [0.05, 0.3, 0.6, 1.0, 1.5] {
        let img = frame(&inst, at(p));
        let stray: Vec<_> = changed(&img, &source)
            .into_iter()
            .filter(|(x, y)| !affected(*x, *y))
            .collect();
        assert!(
            stray.is_empty(),
            "progress {p}: {} pixels changed outside the affected area, e.g. {:?}",
            stray.len(),
            &stray[..stray.len().min(5)]
        );
        for y in 0..H {
            for x in 0..W {
                let v = img.get(x, y);
                assert!(
                    v.iter().all(|c| c.is_finite()),
                    "progress {p}: non-finite pixel at {x},{y}: {v:?}"
                );
            }
        }
    }
    assert_clean(&inst);
}

#[test]
fn the_building_falls_and_is_gone_by_the_end() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    fragments_only(&inst);
    let standing = facade_pixels(&plate()).len() as f64;
    // The roof line: the 95th percentile height of the facade's pixels.
    let roof = |p: f64| {
        let mut ys: Vec<i32> = facade_pixels(&frame(&inst, at(p)))
            .iter()
            .map(|(_, y)| *y)
            .collect();
        ys.sort_unstable();
        let roof = ys.get(ys.len() * 95 / 100).copied().unwrap_or(0);
        (ys.len() as f64 / standing, roof)
    };
    let (n0, r0) = roof(0.02);
    let (_, r1) = roof(0.25);
    let (_, r2) = roof(0.35);
    let (n_end, _) = roof(1.4);
    eprintln!("facade left / roof line: {n0:.2}/{r0} -> {r1} -> {r2} -> {n_end:.4}");
    assert!(
        n0 > 0.9,
        "the building should still stand right after the start ({n0})"
    );
    assert!(
        r1 < r0 && r2 < r1 - 5,
        "the upper mass does not come down: roof {r0} -> {r1} -> {r2}"
    );
    // (With debris off, also the pieces that came to rest high on the heap go.)
    assert!(
        n_end < 0.002,
        "{:.1}% of the facade is still visible after the collapse",
        n_end * 100.0
    );
    assert_clean(&inst);
}

/// Beside the building, after the fall, with the dust off: the element's pixels that are
/// solid (alpha over 0.9) and those half there (0.2 to 0.8). (Not within 4 pixels of it:
/// the clean plate covers the hole's margin too.)
fn debris_beside(inst: &Instance, amount: f64) -> (usize, usize) {
    set(inst, "debris", ParamValue::Double(amount));
    let img = frame(inst, at(1.6));
    let (bx, _, bw, _) = BUILDING;
    let (mut solid, mut half) = (0, 0);
    for y in 0..H {
        for x in (0..W).filter(|&x| (x as f64) < bx - 4.0 || (x as f64) > bx + bw + 4.0) {
            let a = img.get(x, y)[3];
            solid += usize::from(a > 0.9);
            half += usize::from(a > 0.2 && a < 0.8);
        }
    }
    (solid, half)
}

#[test]
fn less_debris_keeps_fewer_pieces_each_whole() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    set(&inst, "dustAmount", ParamValue::Double(0.0));
    with_output(&inst, 1); // element
    let (full, full_half) = debris_beside(&inst, 1.0);
    let (some, some_half) = debris_beside(&inst, 0.5);
    let (none, _) = debris_beside(&inst, 0.0);
    eprintln!("debris beside the building, solid/half pixels: 1: {full}/{full_half}, 0.5: {some}/{some_half}, 0: {none}");
    assert!(
        full > 300,
        "few landed pieces beside the building ({full} pixels)"
    );
    assert!(
        none * 20 < full,
        "debris 0 leaves {none} solid pixels ({full} at 1)"
    );
    // About half the pieces, each whole: not all of them half transparent.
    assert!(
        some * 5 > full && some * 5 < full * 4,
        "debris 0.5 keeps {some} solid pixels ({full} at 1)"
    );
    assert!(
        some_half * 2 < some,
        "debris 0.5 leaves ghosts: {some_half} half-transparent pixels beside {some} solid ones"
    );
    assert_clean(&inst);
}

/// How high the settled pieces lie: the height over the building's foot that 2% of the
/// element's solid pixels (dust off) stand above, leaving out the revealed sky (the test
/// plate's pieces and rubble are warm, its sky blue).
fn pile_top(inst: &Instance, amount: f64) -> f64 {
    set(inst, "debris", ParamValue::Double(amount));
    let img = frame(inst, at(1.6));
    let mut ys: Vec<f64> = (0..H)
        .flat_map(|y| (0..W).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = img.get(x, y);
            p[3] > 0.9 && p[0] > p[2]
        })
        .map(|(_, y)| y as f64 + 0.5 - BUILDING.1)
        .collect();
    ys.sort_by(f64::total_cmp);
    ys.get(ys.len() * 98 / 100).copied().unwrap_or(0.0)
}

#[test]
fn with_less_debris_the_kept_pieces_lie_lower() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    set(&inst, "dustAmount", ParamValue::Double(0.0));
    with_output(&inst, 1); // element
    let (full, some) = (pile_top(&inst, 1.0), pile_top(&inst, 0.4));
    eprintln!("pile top over the foot, debris 1: {full:.1} px, 0.4: {some:.1} px");
    assert!(
        full > 10.0,
        "the pieces at debris 1 lie flat ({full:.1} px high)"
    );
    // What held a kept piece up is mostly gone too: it may not stay where it lay.
    assert!(
        some < 0.75 * full,
        "at debris 0.4 the kept pieces still lie as high as at 1: {some:.1} px against {full:.1} px"
    );
    assert_clean(&inst);
}

#[test]
fn the_fall_is_continuous_in_time() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    fragments_only(&inst);
    // Two seconds at 24 fps: no frame may lose a fifth of the facade at once.
    set(&inst, "duration", ParamValue::Double(48.0));
    let standing = facade_pixels(&plate()).len() as f64;
    let visible: Vec<f64> = (1..=30)
        .map(|t| facade_pixels(&frame(&inst, t as f64)).len() as f64 / standing)
        .collect();
    eprintln!("facade visible per frame: {:.2?}", visible);
    for (t, pair) in visible.windows(2).enumerate() {
        let drop = pair[0] - pair[1];
        assert!(
            drop < 0.2,
            "between frames {} and {} {:.0}% of the facade vanishes at once",
            t + 1,
            t + 2,
            drop * 100.0
        );
    }
}

#[test]
fn dust_rises_hides_then_thins() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    with_output(&inst, 2); // matte
                           // Beside the building, where only dust and debris can be.
    let beside = [60..118, 202..260];
    let coverage = |p: f64| mean_alpha(&frame(&inst, at(p)), &beside, 30..110);
    let (early, mid, late) = (coverage(0.05), coverage(0.55), coverage(1.6));
    eprintln!("dust beside the building: {early:.3} -> {mid:.3} -> {late:.3}");
    assert!(
        mid > early + 0.2,
        "the plume does not rise ({early} -> {mid})"
    );
    assert!(
        late < mid * 0.5,
        "the dust does not thin out ({mid} -> {late})"
    );
    assert_clean(&inst);
}

#[test]
fn output_modes_composite_element_and_matte_agree() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    let t = at(0.5);
    let composite = frame(&inst, t);
    with_output(&inst, 1);
    let element = frame(&inst, t);
    with_output(&inst, 2);
    let matte = frame(&inst, t);
    let source = plate();
    for y in 0..H {
        for x in 0..W {
            let (e, m, c, s) = (
                element.get(x, y),
                matte.get(x, y),
                composite.get(x, y),
                source.get(x, y),
            );
            assert!(
                (m[0] - e[3]).abs() < 1e-6 && (m[3] - e[3]).abs() < 1e-6,
                "matte is not the element's alpha at {x},{y}"
            );
            for k in 0..3 {
                // Premultiplied: colour vanishes with alpha (lit dust may be brighter than the plate).
                assert!(
                    e[k] <= e[3] * 1.5 + 1e-4,
                    "element not premultiplied at {x},{y}: {e:?}"
                );
                let over = e[k] + (1.0 - e[3]) * s[k];
                assert!(
                    (over - c[k]).abs() < 1e-4,
                    "composite != element over plate at {x},{y}"
                );
            }
            if !affected(x, y) {
                assert_eq!(e, [0.0; 4], "element outside the affected area at {x},{y}");
            }
        }
    }
    assert_clean(&inst);
}

#[test]
fn a_clean_plate_shows_where_the_building_stood() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    green_behind(&inst);
    let img = frame(&inst, at(1.6));
    let (bx, by, bw, bh) = BUILDING;
    let (mut greenish, mut n) = (0, 0);
    for y in (by + bh * 0.5) as i32..(by + bh) as i32 {
        for x in bx as i32..(bx + bw) as i32 {
            let p = img.get(x, y);
            n += 1;
            if p[1] > p[0] + 0.3 && p[1] > p[2] + 0.3 {
                greenish += 1;
            }
        }
    }
    assert!(
        greenish as f64 > 0.8 * n as f64,
        "only {greenish} of {n} pixels of the upper building show the clean plate"
    );
    assert_clean(&inst);
}

/// A photograph's building has an anti-aliased edge and a sharpening halo just
/// outside its matte: here a white line one pixel outside a Mask that is exactly the
/// building. Once it is down the clean plate shows there too, not a ghost of its outline.
#[test]
fn no_ghost_of_the_outline_stays() {
    let plugin = load(config());
    let (bx, by, bw, bh) = BUILDING;
    let (x0, x1, y0, y1) = (bx as i32, (bx + bw) as i32, by as i32, (by + bh) as i32);
    let halo = |x: i32, y: i32| {
        ((x == x0 - 1 || x == x1) && (y0..=y1).contains(&y))
            || (y == y1 && (x0 - 1..=x1).contains(&x))
    };
    let base = plate();
    let inst = painted(&plugin, |x, y| {
        let inside = (x0..x1).contains(&x) && (y0..y1).contains(&y);
        (if halo(x, y) { [1.0; 4] } else { base.get(x, y) }, inside)
    });
    green_behind(&inst);
    fragments_only(&inst);
    let white = |img: &Image| {
        (0..H)
            .flat_map(|y| (0..W).map(move |x| (x, y)))
            .filter(|&(x, y)| halo(x, y) && img.get(x, y)[..3].iter().all(|&c| c > 0.9))
            .count()
    };
    let all = white(&frame(&inst, at(-0.1)));
    let (early, late) = (white(&frame(&inst, at(0.1))), white(&frame(&inst, at(1.6))));
    eprintln!("white halo pixels: before {all}, at 0.1 {early}, settled {late}");
    assert!(all > 300, "the halo is not in the plate ({all} pixels)");
    // (Falling pieces may pass in front of a little of it.)
    assert!(
        early * 10 > all * 9,
        "{early} of {all} pixels of the halo left while the building still stands"
    );
    assert!(
        late * 20 < all,
        "{late} of {all} pixels of the outline's halo stay after the fall"
    );
    assert_clean(&inst);
}

/// A domed building sinks a few pixels as its lower floors fail: what it leaves above
/// its curved top is against the sky (here a green Background), not a dark band the shape
/// of its outline (the interior shows in the cracks inside the facade only). (Before
/// session 14 the renderer looked only straight up for the sky: 55 of 685 were dark.)
#[test]
fn a_sinking_dome_leaves_no_dark_band_above_it() {
    let plugin = load(config());
    let (bx, by, bw, bh) = BUILDING;
    // The region's upper part: a dome of radius 30 on the body, sky beside it.
    let (cx, r) = (bx + bw / 2.0, 30.0);
    let spring = by + bh - r;
    let dome = |x: i32, y: i32| {
        let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - spring);
        dy >= 0.0 && dx * dx + dy * dy < r * r
    };
    let body = |x: i32, y: i32| in_building(x, y) && (y as f64 + 0.5) < spring;
    let base = plate();
    let inst = painted(&plugin, |x, y| {
        let building = dome(x, y) || body(x, y);
        let colour = if dome(x, y) {
            FACADE
        } else if in_building(x, y) && !building {
            sky(y)
        } else {
            base.get(x, y)
        };
        (colour, building)
    });
    green_behind(&inst);
    set(&inst, "dustAmount", ParamValue::Double(0.0));
    // The dome's pixels that no longer show the facade: dark (the interior) or green.
    let (mut dark, mut open) = (0, 0);
    for p in [0.15, 0.2, 0.25] {
        let img = frame(&inst, at(p));
        for y in 0..H {
            for x in (0..W).filter(|&x| dome(x, y)) {
                let c = img.get(x, y);
                if is_facade(c) {
                    continue;
                }
                open += 1;
                dark += usize::from(c[..3].iter().all(|&v| v < 0.3));
            }
        }
    }
    eprintln!("dome pixels opened: {open}, of them dark: {dark}");
    assert!(open > 100, "the dome does not move ({open} pixels opened)");
    assert!(
        dark * 20 < open,
        "{dark} of the {open} pixels the dome left are dark"
    );
    assert_clean(&inst);
}

#[test]
fn half_precision_is_close_to_float() {
    let plugin = load(config());
    let full = instance(&plugin, Context::General, plate());
    let half = instance(&plugin, Context::General, plate());
    set(&half, "halfPrecision", ParamValue::Bool(true));
    let (a, b) = (frame(&full, at(0.5)), frame(&half, at(0.5)));
    let mut sum = 0.0f64;
    for y in 0..H {
        for x in 0..W {
            sum += (0..4)
                .map(|c| (a.get(x, y)[c] - b.get(x, y)[c]).abs() as f64)
                .sum::<f64>();
        }
    }
    let mean = sum / (W * H * 4) as f64;
    assert!(mean < 0.005, "fp16 differs from fp32 by {mean} on average");
    assert_clean(&half);
}

#[test]
fn gpu_request_without_a_gpu_falls_back_to_the_cpu_with_a_warning() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    set(&inst, "device", ParamValue::Choice(2));
    let img = frame(&inst, at(0.5));
    assert!(changed(&img, &plate()).len() > 2000, "no collapse rendered");
    let has_cuda = std::path::Path::new("/dev/nvidia0").exists();
    if has_cuda {
        eprintln!(
            "this machine has an NVIDIA device: see the ignored `gpu_renders_match_the_cpu` test"
        );
        return;
    }
    let warned = inst
        .messages()
        .iter()
        .any(|m| m.text.contains("GPU") && m.text.contains("CPU"));
    assert!(
        warned,
        "no warning that the GPU was not available: {:?}",
        inst.messages()
    );
}

/// Needs an NVIDIA GPU and the GPU build of ONNX Runtime: `.ci/run` runs it when
/// the machine has one (`ORT_FLAVOR=gpu tools/setup.sh`, then
/// `ORT_FLAVOR=gpu cargo test --release --test collapse_model -- --ignored`).
#[test]
#[ignore = "needs an NVIDIA GPU: .ci/run runs it with ORT_FLAVOR=gpu where /dev/nvidia0 exists"]
fn gpu_renders_match_the_cpu() {
    let plugin = load(config());
    let cpu = instance(&plugin, Context::General, plate());
    set(&cpu, "device", ParamValue::Choice(1));
    let gpu = instance(&plugin, Context::General, plate());
    set(&gpu, "device", ParamValue::Choice(2));
    let time = |inst: &Instance| {
        frame(inst, at(0.5)); // first frame: session creation
        let start = std::time::Instant::now();
        let img = frame(inst, at(0.5));
        (img, start.elapsed().as_secs_f64() * 1000.0)
    };
    let ((a, cpu_ms), (b, gpu_ms)) = (time(&cpu), time(&gpu));
    eprintln!(
        "320x240 frame: CPU {cpu_ms:.1} ms, GPU {gpu_ms:.1} ms; messages: {:?}",
        gpu.messages()
    );
    assert!(
        gpu.messages()
            .iter()
            .all(|m| !m.text.contains("rendering on the CPU")),
        "the GPU was not used: {:?}",
        gpu.messages()
    );
    assert!(
        a.max_difference(&b) < 0.02,
        "GPU and CPU differ by {}",
        a.max_difference(&b)
    );
}

#[test]
fn the_clean_plate_output_is_the_same_at_every_frame_and_hides_the_building() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    with_output(&inst, 3);
    let before = frame(&inst, -5.0);
    let later = frame(&inst, at(0.7));
    assert!(
        changed(&before, &later).is_empty(),
        "the clean plate changed with time"
    );
    // Outside the region (grown by a few pixels) the plate, bit for bit.
    let (bx, by, bw, bh) = BUILDING;
    let p = plate();
    let near = |x: i32, y: i32| {
        (x as f64) > bx - 5.0
            && (x as f64) < bx + bw + 5.0
            && (y as f64) > by - 5.0
            && (y as f64) < by + bh + 5.0
    };
    let outside: Vec<_> = changed(&p, &before)
        .into_iter()
        .filter(|&(x, y)| !near(x, y))
        .collect();
    assert!(
        outside.is_empty(),
        "the clean plate changed {} pixels outside the region",
        outside.len()
    );
    // Where the building stood, no facade: sky above the ground (without a Mask the
    // plugin estimates the building, windows included).
    let facade = facade_pixels(&before);
    assert!(
        facade.len() < 20,
        "{} facade pixels remain in the clean plate",
        facade.len()
    );
    // It is the same in tiles and close at a half-resolution proxy.
    let tiled = inst
        .render_tiled(at(0.7), (1.0, 1.0), Some((64, 48)), 3)
        .unwrap();
    assert!(
        changed(&before, &tiled).is_empty(),
        "tiles differ from the whole frame"
    );
    let half = inst.render_frame(at(0.7), (0.5, 0.5)).unwrap();
    let mean = mean_difference(&half, &before.scaled((0.5, 0.5)));
    assert!(
        mean < 0.02,
        "the 0.5 proxy's clean plate differs by {mean} on average"
    );
    // With a Background connected, that is what shows.
    green_behind(&inst);
    let given = frame(&inst, 3.0);
    let g = given.get((bx + bw / 2.0) as i32, (by + bh / 2.0) as i32);
    assert!(
        g[1] > 0.7 && g[0] < 0.2,
        "the connected Background does not show: {g:?}"
    );
    assert_clean(&inst);
}

/// The plate with film grain that differs at every frame `t`: a plate sequence.
fn grainy(t: f64) -> Image {
    let p = plate();
    let mut px = Vec::with_capacity((W * H * 4) as usize);
    for y in 0..H {
        for x in 0..W {
            let mut c = p.get(x, y);
            let h = ((x as u64) << 40 ^ (y as u64) << 20 ^ t as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29)
                .wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let grain = ((h >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.06;
            for v in &mut c[..3] {
                *v += grain;
            }
            px.extend_from_slice(&c);
        }
    }
    Image::from_f32_rgba(rect(0, 0, W, H), &px)
}

#[test]
fn a_plate_sequence_gets_one_clean_plate() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    inst.connect(
        "Source",
        collapse_ofx::host::ClipSource::frames((1.0, 48.0), |t| Some(grainy(t))),
    )
    .unwrap();
    with_output(&inst, 3);
    // It asks the host for the Source at the start frame too.
    let needed = inst.frames_needed(10.0).unwrap();
    assert_eq!(needed["Source"], vec![(10.0, 10.0), (1.0, 1.0)]);
    assert_eq!(needed["Background"], vec![(10.0, 10.0)]);
    let (a, b) = (frame(&inst, 10.0), frame(&inst, 30.0));
    let (bx, by, bw, bh) = BUILDING;
    let inside = |&(x, y): &(i32, i32)| {
        let (x, y) = (x as f64, y as f64);
        x > bx + 4.0 && x < bx + bw - 4.0 && y > by + 4.0 && y < by + bh - 4.0
    };
    let (within, outside): (Vec<_>, Vec<_>) = changed(&a, &b).into_iter().partition(inside);
    assert!(
        outside.len() > (W * H / 2) as usize,
        "the plate sequence's grain does not show ({} pixels differ)",
        outside.len()
    );
    // The fill is synthesized once, from the start frame's plate: it does not boil
    // with the grain from frame to frame.
    assert!(
        within.is_empty(),
        "the synthesized clean plate differs between frames 10 and 30 at {} pixels where the building stood",
        within.len()
    );
    assert_clean(&inst);
}

#[test]
fn hard_cases_degrade_gracefully() {
    use collapse_ofx::host::{BitDepth, ClipSource, Components};
    let plugin = load(config());
    let finite = |img: &Image| {
        let b = img.bounds();
        (b.y1..b.y2).all(|y| (b.x1..b.x2).all(|x| img.get(x, y).iter().all(|v| v.is_finite())))
    };
    // Non-finite only where the plate itself is, and left untouched there.
    let finite_over = |img: &Image, plate: &Image| {
        let b = img.bounds();
        (b.y1..b.y2).all(|y| {
            (b.x1..b.x2).all(|x| {
                let (o, p) = (img.get(x, y), plate.get(x, y));
                o.iter().all(|v| v.is_finite())
                    || o.iter().zip(&p).all(|(a, b)| a.to_bits() == b.to_bits())
            })
        })
    };
    // Regions touching the frame's edges, and one larger than the context around it.
    for (x, y, w, h) in [
        (0.0, 30.0, 90.0, 170.0),
        (W as f64 - 80.0, 30.0, 80.0, 170.0),
        (120.0, 0.0, 80.0, 240.0),
        (4.0, 4.0, W as f64 - 8.0, H as f64 - 8.0),
    ] {
        let inst = instance(&plugin, Context::General, plate());
        set(&inst, "bottomLeft", ParamValue::Double2D(x, y));
        set(&inst, "size", ParamValue::Double2D(w, h));
        for t in [at(0.4), at(1.5)] {
            assert!(
                finite(&frame(&inst, t)),
                "region {x},{y} {w}x{h} at {t}: non-finite pixels"
            );
        }
        assert_clean(&inst);
    }
    // No sky at all, 8-bit and half plates, NaN and negative pixels.
    let mut wall = Vec::new();
    for y in 0..H {
        for x in 0..W {
            let v = 0.3 + 0.2 * (((x / 7) ^ (y / 5)) & 1) as f32;
            wall.extend_from_slice(&[v, v * 0.9, v * 0.8, 1.0]);
        }
    }
    let wall = Image::from_f32_rgba(rect(0, 0, W, H), &wall);
    let mut hostile = Vec::new();
    for y in 0..H {
        for x in 0..W {
            let p = plate().get(x, y);
            hostile.extend_from_slice(&match (x + 3 * y) % 11 {
                0 => [f32::NAN, p[1], p[2], 1.0],
                1 => [-0.5, -1.0, p[2], 1.0],
                2 => [f32::INFINITY, p[1], p[2], 1.0],
                _ => p,
            });
        }
    }
    let hostile = Image::from_f32_rgba(rect(0, 0, W, H), &hostile);
    for (what, img) in [
        ("no sky", wall),
        ("8-bit", plate().converted(BitDepth::Byte, Components::Rgba)),
        ("half", plate().converted(BitDepth::Half, Components::Rgba)),
        ("NaN and negative pixels", hostile),
    ] {
        let inst = instance(&plugin, Context::General, img.clone());
        for t in [at(0.4), at(1.5)] {
            let out = frame(&inst, t);
            assert!(
                finite_over(&out, &img),
                "{what} at {t}: non-finite pixels the plate did not have"
            );
        }
        with_output(&inst, 3);
        assert!(
            finite_over(&frame(&inst, at(1.5)), &img),
            "{what}: non-finite clean plate"
        );
        assert_clean(&inst);
    }
    // A Mask that covers the whole region, and one that covers nothing of it.
    for alpha in [1.0, 0.0] {
        let inst = instance(&plugin, Context::General, plate());
        let mask = Image::filled(
            BitDepth::Float,
            Components::Rgba,
            rect(0, 0, W, H),
            [alpha; 4],
        );
        inst.connect("Mask", ClipSource::still(mask)).unwrap();
        let settled = frame(&inst, at(1.5));
        assert!(finite(&settled), "mask {alpha}: non-finite pixels");
        if alpha == 0.0 {
            // Nothing to collapse: the building stands.
            assert!(
                facade_pixels(&settled).len() > 1000,
                "with an empty Mask the building vanished"
            );
        }
        assert_clean(&inst);
    }
}

/// Needs an NVIDIA GPU (run by `.ci/run` with the GPU tests): a GPU that runs out
/// of memory mid-shot (its arena capped very low) renders those frames on the CPU
/// with a warning, and the next frames try the GPU again.
#[test]
#[ignore = "needs an NVIDIA GPU: .ci/run runs it with ORT_FLAVOR=gpu where /dev/nvidia0 exists"]
fn a_gpu_out_of_memory_falls_back_to_the_cpu_for_that_frame() {
    let dir = repo().join("target/test-gpu-oom");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    save_plate_png(&dir.join("plate.png"));
    let (x, y, w, h) = BUILDING;
    let render = |device: &str, cap: Option<&str>, out: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_collapse-render"));
        cmd.arg("--bundle")
            .arg(bundle_dir())
            .arg("--plate")
            .arg(dir.join("plate.png"));
        cmd.arg("--out")
            .arg(dir.join(out))
            .args(["--frames", "10-12", "--quiet"]);
        for s in [
            format!("bottomLeft={x},{y}"),
            format!("size={w},{h}"),
            "startFrame=1".into(),
            "duration=24".into(),
            format!("device={device}"),
        ] {
            cmd.args(["--set", &s]);
        }
        if let Some(mb) = cap {
            cmd.env("COLLAPSE_GPU_MEMORY_LIMIT_MB", mb);
        }
        let o = cmd.output().expect("collapse-render");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, text) = render("GPU", Some("2"), "oom.####.png");
    eprintln!("{text}");
    assert_eq!(code, Some(0), "the capped GPU render failed: {text}");
    assert!(
        text.contains("ran out of memory at frame") && text.contains("rendered on the CPU"),
        "no fallback warning: {text}"
    );
    let (code, text) = render("CPU", None, "cpu.####.png");
    assert_eq!(code, Some(0), "{text}");
    for f in 10..=12 {
        let a = image::open(dir.join(format!("oom.{f:04}.png")))
            .unwrap()
            .to_rgba8();
        let b = image::open(dir.join(format!("cpu.{f:04}.png")))
            .unwrap()
            .to_rgba8();
        let worst = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(p, q)| p.abs_diff(*q))
            .max()
            .unwrap_or(0);
        assert!(
            worst <= 2,
            "frame {f}: the fallback frame differs from the CPU render by up to {worst}/255"
        );
    }
}

/// Once a piece moves it carries the building's own colours: not the bright halo a
/// photograph keeps along the outline (read a few pixels inward instead), nor what the
/// matte took for the building but stands behind it (a pocket of the clean plate's
/// colour inside the Mask: it stays where it was). (Before session 15 both went with
/// the pieces.)
#[test]
fn a_moving_piece_leaves_the_halo_and_what_stood_behind() {
    use collapse_ofx::host::ClipSource;
    let plugin = load(config());
    let (bx, by, bw, bh) = BUILDING;
    let (x0, x1, top) = (bx as i32, (bx + bw) as i32, (by + bh) as i32 - 1);
    // A white line along the building's top row, inside the Mask; a pocket painted as
    // the Background is there, 16 pixels square, well inside.
    let pocket = |x: i32, y: i32| (150..166).contains(&x) && (150..166).contains(&y);
    let (blue, green) = ([0.2, 0.3, 0.9, 1.0], [0.1, 0.8, 0.2, 1.0]);
    let base = plate();
    let inst = painted(&plugin, |x, y| {
        let colour = if pocket(x, y) {
            green
        } else if y == top && (x0..x1).contains(&x) {
            [1.0; 4]
        } else {
            base.get(x, y)
        };
        (colour, in_building(x, y))
    });
    let behind: Vec<f32> = (0..H)
        .flat_map(|y| (0..W).flat_map(move |x| if pocket(x, y) { green } else { blue }))
        .collect();
    inst.connect(
        "Background",
        ClipSource::still(Image::from_f32_rgba(rect(0, 0, W, H), &behind)),
    )
    .unwrap();
    fragments_only(&inst);
    let count = |img: &Image, what: &dyn Fn(i32, i32, [f32; 4]) -> bool| {
        (0..H)
            .flat_map(|y| (0..W).map(move |x| (x, y)))
            .filter(|&(x, y)| what(x, y, img.get(x, y)))
            .count()
    };
    let white = |_: i32, _: i32, p: [f32; 4]| p[..3].iter().all(|&c| c > 0.9);
    let near = |c: f32, d: f32| (c - d).abs() < 0.1;
    let carried = |x: i32, y: i32, p: [f32; 4]| {
        !(147..169).contains(&x) || !(147..169).contains(&y)
    } && (0..3).all(|k| near(p[k], green[k]));
    let before = frame(&inst, at(-0.1));
    let (w0, g0) = (count(&before, &white), count(&before, &carried));
    eprintln!("before: {w0} white, {g0} green away from the pocket");
    assert!(w0 >= 80 && g0 == 0, "the test plate is not as painted");
    for progress in [0.4, 0.7] {
        let img = frame(&inst, at(progress));
        let (w, g) = (count(&img, &white), count(&img, &carried));
        eprintln!("at {progress}: {w} white, {g} green away from the pocket");
        assert!(
            w * 10 < w0,
            "{w} of {w0} white halo pixels went with the pieces at {progress}"
        );
        assert!(
            g < 20,
            "{g} pixels of the pocket went with the pieces at {progress}"
        );
    }
    assert_clean(&inst);
}

#[test]
fn pieces_beside_a_pedestal_go_on_down_and_on_the_ground_they_stay() {
    let plugin = load(config());
    let (bx, by, bw, _) = BUILDING;
    let under = |x: i32| (x as f64) >= bx && (x as f64) < bx + bw;
    let beside = |x: i32| (x as f64) + 0.5 < bx - 4.0 || (x as f64) + 0.5 > bx + bw + 4.0;
    let base = plate();
    // The element's opaque pixels beside the building, from a little below its bottom
    // line to 40 pixels above it, once everything has landed (dust off: pieces and heap).
    let resting = |sky_below: bool| {
        let inst = painted(&plugin, |x, y| {
            let pedestal = !sky_below || under(x);
            let c = if (y as f64) < by && !pedestal {
                sky(y)
            } else {
                base.get(x, y)
            };
            (c, in_building(x, y))
        });
        set(&inst, "dustAmount", ParamValue::Double(0.0));
        with_output(&inst, 2);
        let img = frame(&inst, at(1.5));
        assert_clean(&inst);
        (0..H)
            .flat_map(|y| (0..W).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let y = y as f64;
                beside(x) && y >= by - 12.0 && y < by + 40.0 && img.get(x, y as i32)[3] > 0.5
            })
            .count()
    };
    // On the ground (the plate's ground under the whole line) the pieces and the heap
    // rest beside the building; on a pedestal no wider than it, with sky under the line
    // beside it, they go on down into the dust and no heap builds there.
    let (ground, air) = (resting(false), resting(true));
    eprintln!(
        "opaque beside the building at rest: {ground} on the ground, {air} beside a pedestal"
    );
    assert!(
        ground > 200,
        "only {ground} pixels of pieces and heap rest beside the building on the ground"
    );
    assert!(
        air * 20 < ground,
        "{air} pixels of pieces and heap rest in the air beside the pedestal ({ground} on the ground)"
    );
}
