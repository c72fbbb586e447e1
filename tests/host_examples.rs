//! The Rust host drives the official OpenFX example plugins (shipped in the
//! `openfx-sys` crate, built here with g++) through the C ABI like a real host,
//! and the pixels come out right. This proves the host before our own plugin
//! uses it. Without g++ these tests fail loudly.

mod host_util;

use collapse_ofx::host::{
    BitDepth, Bundle, Components, Context, HostConfig, Image, ParamValue, Plugin, RowOrder,
};
use host_util::{build_bundle, openfx_source, pattern, pattern_image, rect, PluginBuild};

fn example(name: &str, dir: &str, file: &str) -> std::path::PathBuf {
    let src = openfx_source();
    build_bundle(&PluginBuild {
        name,
        sources: vec![src.join("Examples").join(dir).join(file)],
        includes: vec![src.join("include"), src.join("Examples").join("include")],
        defines: vec![],
        flags: vec![],
        cxx: true,
    })
}

fn invert() -> Plugin {
    let bundle =
        Bundle::open(&example("invert", "Invert", "invert.cpp")).expect("open the Invert bundle");
    assert_eq!(bundle.plugin_ids(), ["uk.co.thefoundry.OfxInvertExample"]);
    bundle
        .load_plugin("uk.co.thefoundry.OfxInvertExample", HostConfig::default())
        .expect("load Invert")
}

fn basic(config: HostConfig) -> Plugin {
    let bundle =
        Bundle::open(&example("basic", "Basic", "basic.cpp")).expect("open the Basic bundle");
    bundle
        .load_plugin("uk.co.thefoundry.BasicGainPlugin", config)
        .expect("load Basic")
}

#[test]
fn invert_example_describes_and_inverts_bytes() {
    let plugin = invert();
    assert_eq!(plugin.label(), "OFX Invert Example");
    assert_eq!(plugin.grouping(), "OFX Example");
    assert_eq!(plugin.supported_contexts(), [Context::Filter]);
    assert_eq!(plugin.supported_depths(), [BitDepth::Byte]);

    let desc = plugin
        .describe_in_context(Context::Filter)
        .expect("describe in filter context");
    let names: Vec<&str> = desc.clips.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Output", "Source"]);
    assert_eq!(
        desc.clip("Source").unwrap().supported_components(),
        [Components::Rgba]
    );
    assert!(
        plugin.describe_in_context(Context::General).is_err(),
        "Invert has no general context"
    );

    let instance = plugin
        .create_instance(Context::Filter)
        .expect("create instance");
    let bounds = rect(-8, 4, 56, 40);
    let source = pattern_image(BitDepth::Byte, Components::Rgba, bounds);
    instance
        .connect(
            "Source",
            collapse_ofx::host::ClipSource::still(source.clone()),
        )
        .unwrap();
    let prefs = instance.clip_preferences().unwrap();
    assert_eq!(prefs.output().depth, Some(BitDepth::Byte));

    let rod = instance.region_of_definition(1.0, (1.0, 1.0)).unwrap();
    assert_eq!((rod.x1, rod.y1, rod.x2, rod.y2), (-8.0, 4.0, 56.0, 40.0));
    let out = instance.render_frame(1.0, (1.0, 1.0)).expect("render");
    assert_eq!(
        (
            out.bounds().x1,
            out.bounds().y1,
            out.bounds().x2,
            out.bounds().y2
        ),
        (-8, 4, 56, 40)
    );
    for y in bounds.y1..bounds.y2 {
        for x in bounds.x1..bounds.x2 {
            let (s, o) = (source.get(x, y), out.get(x, y));
            for c in 0..4 {
                assert!(
                    (o[c] - (1.0 - s[c])).abs() < 1e-6,
                    "pixel ({x}, {y}) channel {c}: {} vs 1 - {}",
                    o[c],
                    s[c]
                );
            }
        }
    }
    // The official example shadows its output image variable and so never
    // releases it: exactly what a strict host must catch.
    let violations = instance.violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert!(
        violations[0].contains("image of clip 'Output'")
            && violations[0].contains("never released"),
        "{violations:#?}"
    );
}

/// Renders Basic (a gain) on `source` with `gain` and checks every pixel.
fn check_gain(
    instance: &collapse_ofx::host::Instance,
    source: &Image,
    gain: f64,
    scale: (f64, f64),
) -> Image {
    instance
        .set_param("scale", ParamValue::Double(gain))
        .unwrap();
    let out = instance.render_frame(3.0, scale).expect("render");
    if scale == (1.0, 1.0) {
        let b = source.bounds();
        assert_eq!((out.bounds().x1, out.bounds().y2), (b.x1, b.y2));
        let quantum = match source.depth() {
            BitDepth::Byte => 1.0 / 255.0,
            BitDepth::Short => 1.0 / 65535.0,
            _ => 1e-6,
        };
        for y in b.y1..b.y2 {
            for x in b.x1..b.x2 {
                let (s, o) = (source.get(x, y), out.get(x, y));
                for c in 0..4 {
                    let want = if source.depth() == BitDepth::Float {
                        s[c] * gain as f32
                    } else {
                        (s[c] * gain as f32).min(1.0)
                    };
                    assert!(
                        (o[c] - want).abs() <= quantum * 1.01,
                        "({x}, {y})[{c}] = {} want {want}",
                        o[c]
                    );
                }
            }
        }
    }
    out
}

#[test]
fn basic_example_gain_in_every_depth_with_threads_tiles_and_proxies() {
    let plugin = basic(HostConfig::default());
    assert_eq!(
        plugin.supported_contexts(),
        [Context::Filter, Context::General]
    );
    assert_eq!(
        plugin.supported_depths(),
        [BitDepth::Byte, BitDepth::Short, BitDepth::Float]
    );

    let desc = plugin.describe_in_context(Context::General).unwrap();
    let mask = desc.clip("Mask").expect("general context has a Mask clip");
    assert!(mask.optional());
    assert_eq!(mask.supported_components(), [Components::Alpha]);
    let scale = desc.param("scale").unwrap();
    assert_eq!(scale.default_value(), Some(ParamValue::Double(1.0)));
    assert_eq!(scale.display_max(), [100.0]);
    assert_eq!(desc.param("scaleR").unwrap().parent(), "componentScales");
    assert_eq!(desc.param("Main").unwrap().page_children().len(), 6);

    for depth in [BitDepth::Float, BitDepth::Byte, BitDepth::Short] {
        let instance = plugin.create_instance(Context::Filter).unwrap();
        let source = pattern_image(depth, Components::Rgba, rect(0, 0, 48, 32));
        instance
            .connect(
                "Source",
                collapse_ofx::host::ClipSource::still(source.clone()),
            )
            .unwrap();
        assert_eq!(
            instance.clip_preferences().unwrap().output().depth,
            Some(depth)
        );
        assert_eq!(instance.param("scale"), Some(ParamValue::Double(1.0)));

        // Gain 1 is an identity: the host copies the source.
        assert_eq!(
            instance
                .is_identity(1.0, (1.0, 1.0), rect(0, 0, 48, 32))
                .unwrap(),
            Some(("Source".to_string(), 1.0))
        );
        let same = instance.render_frame(1.0, (1.0, 1.0)).unwrap();
        assert!(same.same_pixels(&source));

        let whole = check_gain(&instance, &source, 0.5, (1.0, 1.0));
        let tiled = instance
            .render_tiled(3.0, (1.0, 1.0), Some((10, 7)), 4)
            .unwrap();
        assert!(
            tiled.same_pixels(&whole),
            "tiles differ from the whole frame"
        );
        let proxy = check_gain(&instance, &source, 0.5, (0.5, 0.5));
        assert_eq!((proxy.width(), proxy.height()), (24, 16));
        assert!(proxy.max_difference(&whole.scaled((0.5, 0.5))) < 0.01);
        assert!(
            instance.violations().is_empty(),
            "{:#?}",
            instance.violations()
        );
    }
}

#[test]
fn basic_example_with_odd_row_layouts_and_bounds() {
    let config = HostConfig {
        row_order: RowOrder::TopDown,
        row_padding: 12,
        output_margin: 5,
        ..HostConfig::default()
    };
    let plugin = basic(config);
    let instance = plugin.create_instance(Context::General).unwrap();
    let source = pattern_image(BitDepth::Float, Components::Rgba, rect(-5, -3, 37, 29));
    instance
        .connect(
            "Source",
            collapse_ofx::host::ClipSource::still(source.clone()),
        )
        .unwrap();
    check_gain(&instance, &source, 1.5, (1.0, 1.0));
    let tiled = instance
        .render_tiled(3.0, (1.0, 1.0), Some((16, 16)), 3)
        .unwrap();
    assert!(tiled.max_difference(&instance.render_frame(3.0, (1.0, 1.0)).unwrap()) == 0.0);
    assert!(
        instance.violations().is_empty(),
        "{:#?}",
        instance.violations()
    );
}

#[test]
fn basic_example_with_a_mask_and_from_many_threads() {
    let plugin = basic(HostConfig::default());
    let instance = plugin.create_instance(Context::General).unwrap();
    let bounds = rect(0, 0, 40, 30);
    let source = pattern_image(BitDepth::Float, Components::Rgba, bounds);
    instance
        .connect(
            "Source",
            collapse_ofx::host::ClipSource::still(source.clone()),
        )
        .unwrap();
    // A mask that is 1 on the left half and 0 on the right.
    let mut mask = Image::new(BitDepth::Float, Components::Alpha, bounds);
    for y in 0..30 {
        for x in 0..20 {
            mask.set(x, y, [0.0, 0.0, 0.0, 1.0]);
        }
    }
    instance
        .connect("Mask", collapse_ofx::host::ClipSource::still(mask))
        .unwrap();
    instance
        .set_param("scale", ParamValue::Double(2.0))
        .unwrap();
    let reference = instance.render_frame(2.0, (1.0, 1.0)).unwrap();
    for (x, y) in [(5, 5), (19, 29), (20, 0), (39, 17)] {
        let (s, o) = (pattern(x, y), reference.get(x, y));
        let gain = if x < 20 { 2.0 } else { 1.0 };
        assert!((o[0] - s[0] * gain).abs() < 1e-6, "({x}, {y})");
    }
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..3 {
                    assert!(instance
                        .render_frame(2.0, (1.0, 1.0))
                        .unwrap()
                        .same_pixels(&reference));
                }
            });
        }
    });
    assert!(
        instance.violations().is_empty(),
        "{:#?}",
        instance.violations()
    );
}

#[test]
fn a_host_without_multithread_suite_is_refused_by_basic() {
    // Basic requires the multi-thread suite and says so at describe time.
    let config = HostConfig {
        offer_multithread: false,
        name: "org.collapse.testhost.nomt".into(),
        ..HostConfig::default()
    };
    let bundle = Bundle::open(&example("basic", "Basic", "basic.cpp")).unwrap();
    match bundle.load_plugin("uk.co.thefoundry.BasicGainPlugin", config) {
        Err(e) => assert!(
            e.to_string().contains("OfxActionDescribe")
                && e.to_string().contains("kOfxStatErrMissingHostFeature"),
            "{e}"
        ),
        Ok(_) => panic!("Basic must refuse a host without the multi-thread suite"),
    }
}

#[test]
fn basic_example_over_a_frame_sequence() {
    let plugin = basic(HostConfig::default());
    let instance = plugin.create_instance(Context::General).unwrap();
    let frames = |t: f64| {
        let mut image = Image::new(BitDepth::Float, Components::Rgba, rect(0, 0, 16, 8));
        for y in 0..8 {
            for x in 0..16 {
                image.set(x, y, [t as f32 / 10.0, 0.5, 0.25, 1.0]);
            }
        }
        Some(image)
    };
    instance
        .connect(
            "Source",
            collapse_ofx::host::ClipSource::frames((1.0, 10.0), frames),
        )
        .unwrap();
    assert_eq!(instance.time_domain().unwrap(), (1.0, 10.0));
    let clip = instance.clip_props("Source").unwrap();
    assert_eq!(clip.doubles("OfxImageEffectPropFrameRange"), [1.0, 10.0]);
    assert_eq!(clip.int("OfxImageClipPropConnected"), Some(1));
    instance
        .set_param("scale", ParamValue::Double(2.0))
        .unwrap();
    for t in [3.0, 7.0] {
        let out = instance.render_frame(t, (1.0, 1.0)).unwrap();
        assert!((out.get(4, 4)[0] - t as f32 / 5.0).abs() < 1e-6);
    }
    // Without its source Basic cannot render: the action fails, no violation.
    instance.disconnect("Source").unwrap();
    assert_eq!(
        instance
            .clip_props("Source")
            .unwrap()
            .int("OfxImageClipPropConnected"),
        Some(0)
    );
    let failed = instance.render(
        3.0,
        (1.0, 1.0),
        rect(0, 0, 16, 8),
        &mut instance.new_output_image(rect(0, 0, 16, 8)),
    );
    assert!(failed.is_err());
    assert!(
        instance.violations().is_empty(),
        "{:#?}",
        instance.violations()
    );
}
