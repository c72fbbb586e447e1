//! The fault matrix: bad models, a bad ONNX Runtime library, hostile input
//! values, aborts. Each row must end in a failed render (or a safe fallback)
//! with a clear message, and the host process alive.

mod plugin_util;

use collapse_ofx::host::{
    BitDepth, ClipSource, Components, Context, HostError, Image, Instance, ParamValue,
};
use plugin_util::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("faults")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Renders mid-collapse with `model`; returns the error and what the plugin told the artist.
fn render_with_model(model: &Path) -> (Result<Image, HostError>, String) {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    set(
        &inst,
        "model",
        ParamValue::String(model.display().to_string()),
    );
    let result = inst.render_frame(12.0, (1.0, 1.0));
    let said = inst
        .messages()
        .into_iter()
        .map(|m| m.text)
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(inst.violations().is_empty(), "{:?}", inst.violations());
    (result, said)
}

fn assert_refused(model: &Path, expect: &str) {
    let (result, said) = render_with_model(model);
    assert!(
        result.is_err(),
        "{} rendered; it should have been refused",
        model.display()
    );
    assert!(
        said.contains(expect),
        "the message for {} should mention '{expect}', it says: {said}",
        model.display()
    );
}

#[test]
fn missing_unreadable_or_folder_models_are_refused_clearly() {
    let dir = scratch("paths");
    assert_refused(
        &dir.join("no such model.onnx"),
        "cannot read the model file",
    );
    assert_refused(&dir, "is a folder");
    let garbage = dir.join("random.onnx");
    std::fs::write(
        &garbage,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_refused(&garbage, "ONNX Runtime cannot load the model");
    let default = bundle_dir().join("Contents/Resources/collapse_default.onnx");
    let bytes = std::fs::read(&default).unwrap();
    let truncated = dir.join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    assert_refused(&truncated, "ONNX Runtime cannot load the model");
    // A pipe would block a plain open() until a writer comes; a device never ends.
    let pipe = dir.join("pipe.onnx");
    let c_path = std::ffi::CString::new(pipe.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    assert_refused(&pipe, "not a regular file");
    assert_refused(Path::new("/dev/zero"), "not a regular file");
    // Larger than the 2 GiB limit (a sparse file): refused before a byte is read.
    let huge = dir.join("huge.onnx");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len((2048 << 20) + 1)
        .unwrap();
    assert_refused(
        &huge,
        "larger than the 2048 MiB the plugin reads (raise COLLAPSE_MODEL_MAX_MB)",
    );
    std::fs::remove_file(&huge).unwrap();
    // No read permission (root reads anything, so this row only bites as a user).
    let locked = dir.join("locked.onnx");
    std::fs::copy(&default, &locked).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_ok() {
        eprintln!(
            "NOTE: running as root, which reads files without read permission: the \
             unreadable-model row was checked as a pipe and a device only"
        );
    } else {
        assert_refused(&locked, "cannot open the model file");
    }
}

#[test]
fn a_model_path_with_spaces_and_accents_works() {
    let dir = scratch("names").join("modèles d'effondrement");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("mon modèle.onnx");
    std::fs::copy(
        bundle_dir().join("Contents/Resources/collapse_default.onnx"),
        &model,
    )
    .unwrap();
    let (result, said) = render_with_model(&model);
    let img = result.unwrap_or_else(|e| panic!("{e}: {said}"));
    assert!(changed(&img, &plate()).len() > 2000);
}

#[test]
fn models_that_break_the_contract_are_refused_naming_what_is_wrong() {
    let data = repo().join("tests/data");
    let (ok, said) = render_with_model(&data.join("valid_noop.onnx"));
    assert!(
        ok.is_ok(),
        "the contract-abiding do-nothing model must run: {said}"
    );
    assert!(
        ok.unwrap().same_pixels(&plate()),
        "a model whose element is zero must leave the plate untouched"
    );
    assert_refused(&data.join("wrong_inputs.onnx"), "no input named 'plate'");
    assert_refused(&data.join("wrong_dtype.onnx"), "must be float32 or float16");
    assert_refused(&data.join("no_metadata.onnx"), "collapse.contract");
    assert_refused(&data.join("unknown_control.onnx"), "warp_speed");
    assert_refused(
        &data.join("wrong_controls_shape.onnx"),
        "'controls' has shape",
    );
}

#[test]
fn hostile_models_are_refused() {
    let data = repo().join("tests/data/hostile");
    // External data must stay inside the model's folder (ONNX Runtime 1.31 enforces it,
    // resolving symbolic links too); custom-op libraries are never loaded.
    assert_refused(
        &data.join("escape_external_data.onnx"),
        "escapes model directory",
    );
    assert_refused(&data.join("custom_op.onnx"), "com.example.custom");
}

fn plugin_instance() -> (collapse_ofx::host::Plugin, Instance) {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    (plugin, inst)
}

#[test]
fn degenerate_regions_leave_the_plate_untouched() {
    let (_plugin, inst) = plugin_instance();
    for (bl, size) in [
        ((120.0, 30.0), (0.0, 100.0)),
        ((120.0, 30.0), (-50.0, 100.0)),
        ((5000.0, 5000.0), (80.0, 170.0)),
        ((-9000.0, 30.0), (80.0, 170.0)),
    ] {
        set(&inst, "bottomLeft", ParamValue::Double2D(bl.0, bl.1));
        set(&inst, "size", ParamValue::Double2D(size.0, size.1));
        let img = frame(&inst, 12.0);
        assert!(
            img.same_pixels(&plate()),
            "region {bl:?} {size:?} changed the plate"
        );
    }
    assert_clean(&inst);
}

#[test]
fn an_enormous_region_reads_no_more_than_the_plate() {
    let (_plugin, inst) = plugin_instance();
    set(&inst, "bottomLeft", ParamValue::Double2D(-1.0e7, -1.0e7));
    set(&inst, "size", ParamValue::Double2D(3.0e7, 3.0e7));
    // The model reads the source window within the plate, so memory follows the plate.
    let img = frame(&inst, 12.0);
    for y in 0..H {
        for x in 0..W {
            assert!(
                img.get(x, y).iter().all(|c| c.is_finite()),
                "non-finite pixel at {x},{y}"
            );
        }
    }
    assert_clean(&inst);
}

#[test]
fn nan_and_inf_in_the_plate_stay_where_they_are() {
    let (_plugin, inst) = plugin_instance();
    let mut bad = plate();
    let poisoned = [(150, 100), (160, 60), (10, 10), (300, 220)];
    for (i, (x, y)) in poisoned.iter().enumerate() {
        let v = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::NAN][i];
        bad.set(*x, *y, [v, v, v, 1.0]);
    }
    inst.connect("Source", ClipSource::still(bad)).unwrap();
    for t in [6.0, 12.0, 20.0] {
        let img = frame(&inst, t);
        for y in 0..H {
            for x in 0..W {
                if !poisoned.contains(&(x, y)) {
                    assert!(
                        img.get(x, y).iter().all(|c| c.is_finite()),
                        "frame {t}: non-finite value spread to {x},{y}"
                    );
                }
            }
        }
    }
    assert_clean(&inst);
}

#[test]
fn inputs_of_other_sizes_depths_and_components_are_accepted() {
    let (_plugin, inst) = plugin_instance();
    let mask = Image::filled(
        BitDepth::Byte,
        Components::Alpha,
        rect(100, 20, 230, 150),
        [0.0, 0.0, 0.0, 1.0],
    );
    let background = Image::filled(
        BitDepth::Short,
        Components::Rgb,
        rect(-50, -50, 500, 400),
        [0.2, 0.7, 0.3, 1.0],
    );
    inst.connect("Mask", ClipSource::still(mask)).unwrap();
    inst.connect("Background", ClipSource::still(background))
        .unwrap();
    let img = frame(&inst, 20.0);
    assert!(changed(&img, &plate()).len() > 1000);
    assert_clean(&inst);
}

/// A host (openfx-runner does it) that reports an optional clip as connected but
/// gives no image for it: the frame renders as without that clip, with a warning.
#[test]
fn an_optional_clip_connected_without_an_image_is_rendered_without() {
    let (_plugin, inst) = plugin_instance();
    let reference = frame(&inst, 20.0);
    for clip in ["Mask", "Background"] {
        inst.connect(clip, ClipSource::unavailable()).unwrap();
        let img = frame(&inst, 20.0);
        assert!(
            changed(&img, &reference).is_empty(),
            "with {clip} unavailable the frame differs"
        );
        let warned = inst.messages().iter().any(|m| {
            m.text
                .contains(&format!("the {clip} input is connected but gave no image"))
        });
        assert!(warned, "no warning about {clip}: {:?}", inst.messages());
        inst.disconnect(clip).unwrap();
    }
    assert_clean(&inst);
}

#[test]
fn an_abort_stops_the_render() {
    let (_plugin, inst) = plugin_instance();
    inst.set_abort(true);
    let result = inst.render_frame(12.0, (1.0, 1.0));
    assert!(matches!(result, Err(HostError::Aborted)), "{result:?}");
    inst.set_abort(false);
    frame(&inst, 12.0);
    assert!(inst
        .messages()
        .iter()
        .all(|m| !m.text.contains("internal error")));
}

#[test]
fn an_abort_mid_render_stops_at_the_next_strip() {
    // A region of ~4.4M pixels: the plugin renders it in three or more strips
    // of at most 2M pixels and asks the host about abort before each.
    let plugin = load(config());
    let big = Image::filled(
        BitDepth::Float,
        Components::Rgba,
        rect(0, 0, 2048, 2304),
        [0.5, 0.6, 0.8, 1.0],
    );
    let inst = instance(&plugin, Context::General, big);
    set(&inst, "bottomLeft", ParamValue::Double2D(24.0, 50.0));
    set(&inst, "size", ParamValue::Double2D(2000.0, 2200.0));
    inst.abort_at_query(0);
    frame(&inst, 12.0);
    let queries = inst.abort_queries();
    assert!(
        queries >= 3,
        "the whole render asked about abort only {queries} times: not enough strips to abort between"
    );
    // The artist presses Esc while the last-but-one strip renders.
    let stop_at = queries - 1;
    inst.abort_at_query(stop_at);
    let result = inst.render_frame(12.0, (1.0, 1.0));
    assert!(matches!(result, Err(HostError::Aborted)), "{result:?}");
    assert_eq!(
        inst.abort_queries(),
        stop_at,
        "after abort() said yes the plugin kept asking, so kept rendering"
    );
    inst.set_abort(false);
    assert_clean(&inst);
}

// ---- The ONNX Runtime library: one process per case (it loads once per process). ----

fn renderer(extra_env: &[(&str, &Path)], args: &[&str]) -> (i32, String) {
    let dir = scratch(&format!(
        "render-{}",
        extra_env
            .first()
            .map(|e| e.1.file_name().unwrap().to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let plate_png = dir.join("plate.png");
    save_plate_png(&plate_png);
    let out = dir.join("out.####.png");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_collapse-render"));
    cmd.arg("--bundle")
        .arg(bundle_dir())
        .arg("--plate")
        .arg(&plate_png)
        .arg("--out")
        .arg(&out);
    cmd.args([
        "--frames",
        "12",
        "--set",
        "bottomLeft=120,30",
        "--set",
        "size=80,170",
        "--set",
        "startFrame=1",
        "--set",
        "duration=24",
        "--quiet",
    ]);
    cmd.args(args);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run collapse-render");
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("collapse-render died from a signal: {:?}", output.status));
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    if code != 0 {
        assert!(
            !dir.join("out.0012.png").exists(),
            "a failed frame left a file behind"
        );
    }
    (code, text)
}

#[test]
fn the_renderer_renders_and_reports_bad_libraries_without_dying() {
    let (code, text) = renderer(&[], &[]);
    assert_eq!(code, 0, "a plain render failed: {text}");

    let dir = scratch("libs");
    let missing = dir.join("missing.so");
    let (code, text) = renderer(&[("COLLAPSE_ORT_LIBRARY", &missing)], &[]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("not a usable ONNX Runtime library"), "{text}");

    let real = bundle_dir().join("Contents/Linux-x86-64/lib/libonnxruntime.so.1");
    let bytes = std::fs::read(&real).unwrap();
    let truncated = dir.join("truncated.so");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let (code, text) = renderer(&[("COLLAPSE_ORT_LIBRARY", &truncated)], &[]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("truncated"), "{text}");

    let text_file = dir.join("text.so");
    std::fs::write(&text_file, "not a library").unwrap();
    let (code, text) = renderer(&[("COLLAPSE_ORT_LIBRARY", &text_file)], &[]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("no ELF header"), "{text}");

    // A real shared library that is not ONNX Runtime.
    let other = bundle_dir().join("Contents/Linux-x86-64/Collapse.ofx");
    let (code, text) = renderer(&[("COLLAPSE_ORT_LIBRARY", &other)], &[]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("cannot load ONNX Runtime"), "{text}");
}

/// The checksum file a farm compares across nodes: the same frame rendered whole
/// or in tiles from several threads gives the same line.
#[test]
fn the_renderer_writes_the_same_checksums_whatever_the_tiles() {
    let dir = scratch("checksums");
    let (whole, tiled) = (dir.join("whole.txt"), dir.join("tiled.txt"));
    let (code, text) = renderer(&[], &["--checksums", whole.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = renderer(
        &[],
        &[
            "--checksums",
            tiled.to_str().unwrap(),
            "--tile",
            "48x40",
            "--threads",
            "3",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let line = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        let fields: Vec<String> = text.split_whitespace().map(String::from).collect();
        assert_eq!(fields.len(), 3, "one line of frame, digest, path: {text}");
        (fields[0].clone(), fields[1].clone())
    };
    let (a, b) = (line(&whole), line(&tiled));
    assert_eq!(a.0, "12");
    assert_eq!(a.1.len(), 64, "a SHA-256 in hex");
    assert_eq!(a, b, "tiles changed the frame's checksum");
}

#[test]
fn the_renderer_tells_bad_input_from_render_failure() {
    let (code, text) = renderer(&[], &["--set", "noSuchParam=1"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("noSuchParam"), "{text}");
    let (code, text) = renderer(&[], &["--set", "model=/nonexistent/model.onnx"]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("cannot read the model file"), "{text}");
}

/// A model whose run never ends (a Loop of 10^15 iterations) is stopped by the
/// run-time limit's watchdog: the render fails naming the model, the host lives.
#[test]
fn a_model_run_that_never_ends_is_stopped_at_the_time_limit() {
    let endless = repo().join("tests/data/hostile/endless.onnx");
    let model = format!("model={}", endless.display());
    let started = std::time::Instant::now();
    let (code, text) = renderer(
        &[("COLLAPSE_RUN_TIME_LIMIT_S", Path::new("1.5"))],
        &["--set", &model],
    );
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("ran for more than 1.5 s and was stopped (raise COLLAPSE_RUN_TIME_LIMIT_S"),
        "{text}"
    );
    // Stopped, not finished: far below what 10^15 iterations would take.
    assert!(
        started.elapsed().as_secs() < 60,
        "the run was not stopped: {:?}",
        started.elapsed()
    );
}

#[test]
fn an_onnx_runtime_older_than_supported_is_refused_by_version() {
    let version = option_env!("OLD_ORT_VERSION").unwrap_or("1.22.0");
    let old = repo()
        .join("target/deps")
        .join(format!("onnxruntime-cpu-{version}"))
        .join("libonnxruntime.so.1");
    if !old.is_file() {
        cannot_run(&format!(
            "no ONNX Runtime {version} at {}; fetch it with \
             `ORT_VERSION={version} tools/setup.sh` (`make test` does)",
            old.display()
        ));
    }
    let (code, text) = renderer(&[("COLLAPSE_ORT_LIBRARY", &old)], &[]);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains(&format!("'{version}', too old: the plugin needs 1.")),
        "the message should name the old version and the one needed: {text}"
    );
}

#[test]
fn a_model_asking_for_more_memory_than_the_cap_fails_its_render_only() {
    let greedy = repo().join("tests/data/hostile/greedy.onnx");
    let model = format!("model={}", greedy.display());
    let (code, text) = renderer(
        &[("COLLAPSE_MEMORY_LIMIT_MB", Path::new("64"))],
        &["--set", &model],
    );
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("more memory than ONNX Runtime may use here (64 MiB")
            && text.contains("COLLAPSE_MEMORY_LIMIT_MB"),
        "the message should name the cap: {text}"
    );
}
