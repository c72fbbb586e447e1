//! The Collapse bundle as an OpenFX plugin, driven through the C ABI by the
//! strict Rust host: what it declares, and that it renders every depth and
//! layout, in tiles, at proxy scale and from many threads.

mod plugin_util;

use collapse_ofx::host::{
    BitDepth, ClipSource, Components, Context, HostConfig, Image, Instance, ParamKind, ParamValue,
    RowOrder,
};
use plugin_util::*;

#[test]
fn describes_itself_as_an_image_effect() {
    let plugin = load(config());
    assert_eq!(plugin.label(), "Collapse");
    assert!(plugin.grouping().starts_with("Filter"));
    let contexts = plugin.supported_contexts();
    assert!(
        contexts.contains(&Context::Filter) && contexts.contains(&Context::General),
        "{contexts:?}"
    );
    let depths = plugin.supported_depths();
    for d in [
        BitDepth::Float,
        BitDepth::Half,
        BitDepth::Short,
        BitDepth::Byte,
    ] {
        assert!(depths.contains(&d), "{d:?} missing from {depths:?}");
    }
    assert!(plugin.supports_tiles() && plugin.supports_multi_resolution());
    assert_eq!(
        plugin.render_thread_safety(),
        "OfxImageEffectRenderFullySafe"
    );

    for context in [Context::Filter, Context::General] {
        let d = plugin.describe_in_context(context).unwrap();
        let clip = |n: &str| {
            d.clip(n)
                .unwrap_or_else(|| panic!("no clip {n} in {context:?}"))
        };
        assert!(!clip("Source").optional());
        assert!(clip("Mask").optional() && clip("Mask").is_mask());
        assert!(clip("Background").optional() && !clip("Background").is_mask());
        assert!(clip("Output")
            .supported_components()
            .contains(&Components::Rgba));

        // Parameter names are a public interface: saved comps store them.
        let expect = [
            ("bottomLeft", ParamKind::Double2D),
            ("size", ParamKind::Double2D),
            ("startFrame", ParamKind::Double),
            ("duration", ParamKind::Double),
            ("seed", ParamKind::Integer),
            ("output", ParamKind::Choice),
            ("model", ParamKind::String),
            ("bundledModel", ParamKind::Choice),
            ("device", ParamKind::Choice),
            ("direction", ParamKind::Double),
            ("fragmentSize", ParamKind::Double),
            ("gravity", ParamKind::Double),
            ("dustAmount", ParamKind::Double),
            ("dustColor", ParamKind::Rgb),
            ("dustTint", ParamKind::Double),
            ("dustSpread", ParamKind::Double),
            ("debris", ParamKind::Double),
            ("halfPrecision", ParamKind::Boolean),
            ("useTensorRT", ParamKind::Boolean),
        ];
        for (name, kind) in expect {
            let p = d
                .param(name)
                .unwrap_or_else(|| panic!("no parameter {name}"));
            assert_eq!(p.kind, kind, "{name}");
            assert!(
                !p.label().is_empty() && !p.hint().is_empty(),
                "{name} needs a label and a hint"
            );
        }
        let p = |n: &str| d.param(n).unwrap();
        assert_eq!(
            p("output").options(),
            ["Composite", "Collapse element only", "Matte", "Clean plate"]
        );
        assert_eq!(p("device").options(), ["Auto", "CPU", "GPU"]);
        assert_eq!(
            p("model").default_value(),
            Some(ParamValue::String(String::new()))
        );
        assert_eq!(
            p("startFrame").default_value(),
            Some(ParamValue::Double(1.0))
        );
        let pages: Vec<_> = d
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::Page)
            .collect();
        assert_eq!(pages.len(), 3, "Collapse, Look and Model pages");
        let on_pages: usize = pages.iter().map(|p| p.page_children().len()).sum();
        assert_eq!(on_pages, expect.len(), "every parameter sits on a page");
    }
    let v = plugin.violations();
    assert!(
        v.is_empty(),
        "describe broke the protocol:\n{}",
        v.join("\n")
    );
}

#[test]
fn normalised_defaults_place_the_region_in_the_frame() {
    let plugin = load(config());
    let inst = plugin.create_instance(Context::General).unwrap();
    // Defaults are declared as fractions of the project; the host turns them into canonical values.
    assert_eq!(
        inst.param("bottomLeft"),
        Some(ParamValue::Double2D(0.35 * W as f64, 0.12 * H as f64))
    );
    assert_eq!(
        inst.param("size"),
        Some(ParamValue::Double2D(0.3 * W as f64, 0.7 * H as f64))
    );
}

#[test]
fn before_the_start_the_output_is_the_plate_bit_for_bit() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    set(&inst, "startFrame", ParamValue::Double(10.0));
    let window = rect(0, 0, W, H);
    assert_eq!(
        inst.is_identity(5.0, (1.0, 1.0), window).unwrap(),
        Some(("Source".to_string(), 5.0))
    );
    // A host may render anyway: the pixels must still be the plate's.
    let mut out = inst.new_output_image(window);
    inst.render(5.0, (1.0, 1.0), window, &mut out).unwrap();
    assert!(
        out.same_pixels(&plate()),
        "render before the start changed pixels"
    );
    assert_clean(&inst);
}

/// Columns the collapse can never reach (outside the region grown by the model's reach).
fn far_columns() -> impl Iterator<Item = i32> {
    (0..50).chain(270..W)
}

#[test]
fn renders_every_depth_and_component_layout_whole_and_in_tiles() {
    let plugin = load(config());
    for depth in [
        BitDepth::Float,
        BitDepth::Half,
        BitDepth::Short,
        BitDepth::Byte,
    ] {
        for comps in [Components::Rgba, Components::Rgb, Components::Alpha] {
            let source = plate().converted(depth, comps);
            let inst = instance(&plugin, Context::General, source.clone());
            let whole = frame(&inst, 9.0);
            assert_eq!(
                (whole.depth(), whole.components()),
                (depth, comps),
                "output layout follows the Source"
            );
            for y in 0..H {
                for x in far_columns() {
                    assert_eq!(
                        whole.get(x, y),
                        source.get(x, y),
                        "{depth:?} {comps:?}: pixel {x},{y} far from the region changed"
                    );
                }
            }
            if comps != Components::Alpha {
                assert!(
                    changed(&whole, &source).len() > 2000,
                    "{depth:?} {comps:?}: the collapse changed almost nothing"
                );
            }
            let tiled = inst
                .render_tiled(9.0, (1.0, 1.0), Some((64, 48)), 3)
                .unwrap();
            assert!(
                tiled.same_pixels(&whole),
                "{depth:?} {comps:?}: tiles differ from the whole frame"
            );
            assert_clean(&inst);
        }
    }
}

#[test]
fn the_plugins_own_tiling_does_not_change_the_frame() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    let whole = frame(&inst, 12.0);
    // Tiling never changes results, so other tests running meanwhile are unaffected.
    std::env::set_var("COLLAPSE_TILE_PIXELS", "2000");
    let small_tiles = frame(&inst, 12.0);
    std::env::remove_var("COLLAPSE_TILE_PIXELS");
    assert!(
        small_tiles.same_pixels(&whole),
        "max difference {}",
        small_tiles.max_difference(&whole)
    );
}

#[test]
fn negative_row_bytes_and_row_padding_give_the_same_frame() {
    let reference = {
        let plugin = load(config());
        let inst = instance(&plugin, Context::General, plate());
        frame(&inst, 12.0)
    };
    let mut c = config();
    c.row_order = RowOrder::TopDown;
    c.row_padding = 12;
    c.output_margin = 3;
    let plugin = load(c);
    let inst = instance(&plugin, Context::General, plate());
    let top_down = inst
        .render_tiled(12.0, (1.0, 1.0), Some((100, 70)), 2)
        .unwrap();
    assert!(
        top_down.same_pixels(&reference),
        "max difference {}",
        top_down.max_difference(&reference)
    );
    assert_clean(&inst);
}

#[test]
fn proxy_render_matches_the_full_render_scaled_down() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    for t in [6.0, 12.0, 20.0] {
        let full = frame(&inst, t).scaled((0.5, 0.5));
        let half = inst.render_frame(t, (0.5, 0.5)).unwrap();
        assert_eq!(
            format!("{:?}", half.bounds()),
            format!("{:?}", full.bounds())
        );
        let mean = mean_difference(&half, &full);
        assert!(
            mean < 0.02,
            "frame {t}: the 0.5 proxy differs from the downscaled full render by {mean} on average"
        );
    }
    assert_clean(&inst);
}

/// Sixteen instances with their own seeds and frames, rendered from sixteen
/// threads at once (half in host tiles, themselves on four threads), give the
/// bits each gives alone on one thread.
#[test]
fn many_threads_and_instances_give_the_same_bits() {
    const INSTANCES: usize = 16;
    const FRAMES: [f64; 3] = [6.0, 12.0, 18.0];
    let plugin = load(config());
    let instances: Vec<_> = (0..INSTANCES)
        .map(|i| {
            let inst = instance(&plugin, Context::General, plate());
            set(&inst, "seed", ParamValue::Int(i as i32 % 5));
            inst
        })
        .collect();
    let alone: Vec<Vec<Image>> = instances
        .iter()
        .map(|inst| FRAMES.iter().map(|&t| frame(inst, t)).collect())
        .collect();
    assert!(
        !alone[0][1].same_pixels(&alone[1][1]),
        "different seeds should give different frames"
    );
    std::thread::scope(|s| {
        for (i, (inst, alone)) in instances.iter().zip(&alone).enumerate() {
            s.spawn(move || {
                for (k, &t) in FRAMES.iter().enumerate().rev() {
                    let img = if i % 2 == 0 {
                        frame(inst, t)
                    } else {
                        inst.render_tiled(t, (1.0, 1.0), Some((40, 40)), 4)
                            .unwrap()
                    };
                    assert!(
                        img.same_pixels(&alone[k]),
                        "instance {i}, frame {t}: the concurrent render differs from the render alone"
                    );
                }
            });
        }
    });
    instances.iter().for_each(assert_clean);
}

/// A production host hands inputs over in place (no copies, no checksums) and
/// takes the output buffer without canaries: the same bits as the strict host.
#[test]
fn a_production_host_without_copies_gives_the_same_bits() {
    let strict = frame(&instance(&load(config()), Context::General, plate()), 12.0);
    let plugin = load(HostConfig::production(config().project));
    let inst = instance(&plugin, Context::General, plate());
    for _ in 0..2 {
        assert!(frame(&inst, 12.0).same_pixels(&strict));
    }
    let tiled = inst
        .render_tiled(12.0, (1.0, 1.0), Some((64, 48)), 2)
        .unwrap();
    assert!(tiled.same_pixels(&strict));
    assert_clean(&inst);
}

/// Tiles come from an element the plugin keeps per frame: a changed plate or
/// parameter at the same time must give the new frame, never the kept one.
#[test]
fn tiles_follow_a_changed_plate_and_parameters() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    let tiled = |inst: &Instance| {
        inst.render_tiled(12.0, (1.0, 1.0), Some((64, 48)), 2)
            .unwrap()
    };
    let first = tiled(&inst);
    assert!(first.same_pixels(&frame(&inst, 12.0)));
    // The facade darkens a little: the model reads it, so the frame changes.
    let mut other = plate();
    for y in 30..200 {
        for x in 120..200 {
            let p = other.get(x, y);
            other.set(x, y, [p[0] * 0.9, p[1] * 0.9, p[2] * 0.9, p[3]]);
        }
    }
    inst.connect("Source", ClipSource::still(other)).unwrap();
    let changed_plate = tiled(&inst);
    assert!(changed_plate.same_pixels(&frame(&inst, 12.0)));
    assert!(
        !changed_plate.same_pixels(&first),
        "the kept element was reused for a new plate"
    );
    set(&inst, "seed", ParamValue::Int(11));
    let changed_seed = tiled(&inst);
    assert!(changed_seed.same_pixels(&frame(&inst, 12.0)));
    assert!(!changed_seed.same_pixels(&changed_plate));
    assert_clean(&inst);
}

#[test]
fn works_on_a_host_without_optional_suites() {
    let c = HostConfig {
        offer_message_v2: false,
        offer_progress: false,
        offer_multithread: false,
        offer_timeline: false,
        ..config()
    };
    let plugin = load(c);
    let inst = instance(&plugin, Context::Filter, plate());
    let img = frame(&inst, 12.0);
    assert!(changed(&img, &plate()).len() > 2000);
    assert_clean(&inst);
}
