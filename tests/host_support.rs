//! The host against a plugin built on the official C++ Support library (what
//! most open-source OFX plugins use), compiled with its property validation on:
//! in DEBUG builds the library checks every host, descriptor, clip and
//! parameter property set the host hands it and logs each mismatch. The test
//! renders with it and requires an empty violation list and a log without
//! errors. It is alone in its test binary because the log file is chosen by an
//! environment variable read when the plugin is loaded.

mod host_util;

use collapse_ofx::host::{
    BitDepth, Bundle, ClipSource, Components, Context, HostConfig, ParamValue,
};
use host_util::{build_bundle, openfx_source, pattern_image, rect, PluginBuild};

const ID: &str = "net.sf.openfx.basicPlugin";

const GL_STUBS: &str = r#"
extern "C" {
void glBegin(unsigned) {}
void glEnd() {}
void glColor3f(float, float, float) {}
void glVertex2f(float, float) {}
void glPushMatrix() {}
void glPopMatrix() {}
void glTranslated(double, double, double) {}
}
"#;

#[test]
fn support_library_gain_validates_the_host_and_renders() {
    let src = openfx_source();
    let support = src.join("Support");
    let mut sources: Vec<_> = std::fs::read_dir(support.join("Library"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cpp"))
        .collect();
    sources.sort();
    sources.push(support.join("Plugins/Basic/basic.cpp"));
    // Its overlay interact draws with OpenGL; the host never draws, so no-op
    // stand-ins keep the test free of a GL library.
    let stubs = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("host-gl-stubs.cpp");
    if std::fs::read_to_string(&stubs).ok().as_deref() != Some(GL_STUBS) {
        std::fs::write(&stubs, GL_STUBS).unwrap();
    }
    sources.push(stubs);
    let bundle = build_bundle(&PluginBuild {
        name: "support_basic",
        sources,
        includes: vec![
            src.join("include"),
            support.join("include"),
            support.join("Plugins/include"),
        ],
        // DEBUG turns the Support library's property validation on; gnu++11
        // for its dynamic exception specifications (and the `linux` macro).
        defines: vec!["DEBUG"],
        flags: vec!["-std=gnu++11", "-Wno-deprecated"],
        cxx: true,
    });
    let log =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("support_basic_validation.log");
    let _ = std::fs::remove_file(&log);
    // SAFETY (edition 2024 would ask): nothing else runs in this test binary yet.
    std::env::set_var("OFX_PLUGIN_LOGFILE", &log);

    let bundle = Bundle::open(&bundle).unwrap();
    let plugin = bundle.load_plugin(ID, HostConfig::default()).unwrap();
    assert_eq!(plugin.label(), "Gain");
    for context in [Context::Filter, Context::General] {
        let desc = plugin.describe_in_context(context).unwrap();
        assert!(desc.param("scaleR").is_some());
        for depth in [BitDepth::Float, BitDepth::Short, BitDepth::Byte] {
            let instance = plugin.create_instance(context).unwrap();
            let source = pattern_image(depth, Components::Rgba, rect(0, 0, 40, 24));
            instance
                .connect("Source", ClipSource::still(source.clone()))
                .unwrap();
            instance
                .set_param("scale", ParamValue::Double(0.5))
                .unwrap();
            let out = instance
                .render_tiled(1.0, (1.0, 1.0), Some((16, 16)), 2)
                .unwrap();
            let (s, o) = (source.get(7, 9), out.get(7, 9));
            assert!(
                (o[0] - s[0] * 0.5).abs() < 0.01,
                "{depth:?}: {o:?} vs {s:?}"
            );
            assert!(
                instance.violations().is_empty(),
                "{:#?}",
                instance.violations()
            );
        }
    }
    drop(plugin);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("STOP property validation of Host Property."),
        "no validation log at {}",
        log.display()
    );
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ERROR"))
        .filter(|l| !SUPPORT_LIBRARY_QUIRKS.iter().any(|q| l.contains(q)))
        .collect();
    assert!(
        errors.is_empty(),
        "the Support library's validation found problems:\n{}",
        errors.join("\n")
    );
}

/// Errors the Support library's validator reports against any correct 1.4
/// host: its expected defaults disagree with the OFX 1.4 headers (which say
/// render thread safety "instance safe", host frame threading 1, interact
/// minimum size 10,10, animates 1), or it checks values the plugin itself has
/// just set (instance data; field render twice, copied into each context
/// descriptor from the main one, as HostSupport does too).
const SUPPORT_LIBRARY_QUIRKS: &[&str] = &[
    "OfxImageEffectPluginRenderThreadSafety[0] = 'OfxImageEffectRenderInstanceSafe', it should be 'OfxImageEffectRenderFullySafe'",
    "OfxImageEffectPluginPropHostFrameThreading[0] = 1, it should be 0",
    "OfxParamPropInteractMinimumSize[0] = 10, it should be 0",
    "OfxParamPropInteractMinimumSize[1] = 10, it should be 1",
    "OfxParamPropAnimates[0] = 1, it should be 0",
    "OfxImageEffectPluginPropFieldRenderTwiceAlways[0] = 0, it should be 1",
    "Default value of OfxPropInstanceData[0] = 0x",
];
