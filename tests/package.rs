//! Contract-2 model packages through the bundle: a package renders, tiles equal the
//! whole frame, renders are deterministic and seeded, and broken packages are
//! refused with a message naming the stage and the tensor.
//!
//! The package is `COLLAPSE_TEST_PACKAGE`, else target/learned-mini/learned.collapse
//! (`make test` makes it; see `package()` for the commands).

mod plugin_util;

use collapse_ofx::host::{Context, HostError, Image, Instance, ParamValue, Plugin};
use plugin_util::*;
use std::path::{Path, PathBuf};

/// The package under test; fails loudly when it was not made.
fn package() -> PathBuf {
    let path = std::env::var_os("COLLAPSE_TEST_PACKAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/learned-mini/learned.collapse"));
    if !path.join("package.toml").is_file() {
        cannot_run(&format!(
            "no model package at {} (set COLLAPSE_TEST_PACKAGE, or make it with\n  \
             target/venv/bin/python -m model.learned.train --mini --out target/learned-mini && \
             target/venv/bin/python -m model.learned.package --model target/learned-mini --out target/learned-mini/learned.collapse)",
            path.display()
        ));
    }
    path
}

/// Time at a given collapse progress (start 1, duration 24).
fn at(progress: f64) -> f64 {
    1.0 + 24.0 * progress
}

fn with_model(plugin: &Plugin, model: &Path) -> Instance {
    let inst = instance(plugin, Context::General, plate());
    set(
        &inst,
        "model",
        ParamValue::String(model.display().to_string()),
    );
    inst
}

fn said(inst: &Instance) -> String {
    inst.messages()
        .into_iter()
        .map(|m| m.text)
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn a_package_renders_deterministically_in_tiles_and_by_seed() {
    let plugin = load(config());
    let inst = with_model(&plugin, &package());
    let a = frame(&inst, at(0.5));
    assert!(
        changed(&a, &plate()).len() > 200,
        "the package changed only {} pixels mid-collapse",
        changed(&a, &plate()).len()
    );
    let b = frame(&inst, at(0.5));
    assert!(a.same_pixels(&b), "two renders of one frame differ");
    // Full-width strips, quarters, and small odd tiles on 4 threads: a package's tile
    // stage runs on each host tile's own pixels, down to slivers of the affected area.
    for (tile, threads) in [((320, 120), 1), ((160, 120), 1), ((33, 57), 4)] {
        let tiled = inst
            .render_tiled(at(0.5), (1.0, 1.0), Some(tile), threads)
            .unwrap_or_else(|e| {
                panic!(
                    "{tile:?} host tiles on {threads} threads failed: {e}; the plugin said: {}",
                    said(&inst)
                )
            });
        let worst = a.max_difference(&tiled);
        assert!(
            worst <= 1e-6,
            "{tile:?} host tiles on {threads} threads differ from the whole frame by {worst}"
        );
    }
    // Another instance (its own caches), the same bits.
    let other = with_model(&plugin, &package());
    assert!(
        frame(&other, at(0.5)).same_pixels(&a),
        "another instance differs"
    );
    set(&other, "seed", ParamValue::Int(4));
    assert!(
        !changed(&frame(&other, at(0.5)), &a).is_empty(),
        "the seed changes nothing"
    );
    // The package's own page of the contract: nothing before the start.
    assert!(frame(&inst, 0.0).same_pixels(&plate()));
    assert_clean(&inst);
    assert_clean(&other);
}

#[test]
fn the_package_folder_or_its_package_toml_may_be_chosen() {
    let plugin = load(config());
    let by_folder = frame(&with_model(&plugin, &package()), at(0.3));
    let by_file = with_model(&plugin, &package().join("package.toml"));
    assert!(frame(&by_file, at(0.3)).same_pixels(&by_folder));
    assert_clean(&by_file);
}

/// A copy of the package with its package.toml edited by `edit`.
fn broken(name: &str, edit: impl FnOnce(&mut toml::Table)) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("packages")
        .join(format!("{name}.collapse"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(package()).unwrap().flatten() {
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(dir.join("package.toml")).unwrap();
    let mut table: toml::Table = text.parse().expect("the package's package.toml");
    edit(&mut table);
    std::fs::write(dir.join("package.toml"), toml::to_string(&table).unwrap()).unwrap();
    dir
}

fn stages(t: &mut toml::Table) -> &mut Vec<toml::Value> {
    t["stages"].as_array_mut().expect("[[stages]]")
}

fn field<'a>(stage: &'a mut toml::Value, key: &str) -> &'a mut toml::Value {
    &mut stage.as_table_mut().unwrap()[key]
}

fn names(v: &toml::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The package's per-frame stage and its first output (read from package.toml).
fn frame_stage() -> (usize, String, String) {
    let text = std::fs::read_to_string(package().join("package.toml")).unwrap();
    let mut t: toml::Table = text.parse().unwrap();
    let s = stages(&mut t);
    let i = s
        .iter()
        .position(|s| s["runs"].as_str() == Some("frame"))
        .expect("the package has a per-frame stage");
    let name = s[i]["name"].as_str().unwrap().to_string();
    (i, name, names(&s[i]["outputs"])[0].clone())
}

fn assert_refused(plugin: &Plugin, dir: &Path, expect: &[&str]) {
    let inst = with_model(plugin, dir);
    let result = inst.render_frame(at(0.5), (1.0, 1.0));
    let text = said(&inst);
    assert!(
        matches!(result, Err(HostError::Action { .. })),
        "{} rendered ({result:?}); it should have been refused. Messages: {text}",
        dir.display()
    );
    for e in expect {
        assert!(
            text.contains(e),
            "the message for {} should mention {e:?}; it says: {text}",
            dir.display()
        );
    }
    assert!(
        text.contains(&dir.display().to_string()),
        "the message does not name the package: {text}"
    );
    assert!(inst.violations().is_empty(), "{:?}", inst.violations());
}

#[test]
fn broken_packages_are_refused_naming_the_stage_and_the_tensor() {
    let plugin = load(config());
    let (fi, stage, tensor) = frame_stage();
    let stage_is = format!("stage '{stage}'");
    let tensor_is = format!("tensor '{tensor}'");

    let dir = broken("missing-file", |t| {
        *field(&mut stages(t)[fi], "file") = "gone.onnx".into();
    });
    assert_refused(
        &plugin,
        &dir,
        &[&stage_is, "gone.onnx", "cannot read the model file"],
    );

    let dir = broken("other-shape", |t| {
        let shape = t["tensors"][tensor.as_str()]["shape"]
            .as_array_mut()
            .unwrap();
        let last = shape.len() - 1;
        shape[last] = (shape[last].as_integer().unwrap_or(1) + 1).into();
    });
    assert_refused(&plugin, &dir, &[&stage_is, &tensor_is, "shape"]);

    let dir = broken("other-dtype", |t| {
        t["tensors"][tensor.as_str()]["dtype"] = "float16".into();
    });
    assert_refused(&plugin, &dir, &[&stage_is, &tensor_is, "float16"]);

    // An output renamed in package.toml (and where it is read): the file disagrees.
    let renamed = format!("{tensor}_renamed");
    let dir = broken("output-renamed", |t| {
        let spec = t["tensors"]
            .as_table_mut()
            .unwrap()
            .remove(&tensor)
            .unwrap();
        t["tensors"]
            .as_table_mut()
            .unwrap()
            .insert(renamed.clone(), spec);
        for s in stages(t) {
            for key in ["inputs", "outputs"] {
                for n in field(s, key).as_array_mut().unwrap() {
                    if n.as_str() == Some(tensor.as_str()) {
                        *n = renamed.as_str().into();
                    }
                }
            }
        }
    });
    assert_refused(
        &plugin,
        &dir,
        &[
            &stage_is,
            &format!("tensor '{renamed}'"),
            "no output of that name",
        ],
    );

    // A stage input renamed: the stage that reads the tensor reads one nobody gives.
    let dir = broken("input-renamed", |t| {
        let reader = stages(t)
            .iter_mut()
            .find(|s| names(&s["inputs"]).contains(&tensor))
            .expect("a stage reads the frame stage's output");
        for n in field(reader, "inputs").as_array_mut().unwrap() {
            if n.as_str() == Some(tensor.as_str()) {
                *n = renamed.as_str().into();
            }
        }
    });
    assert_refused(
        &plugin,
        &dir,
        &[
            &format!("tensor '{renamed}'"),
            "neither given by the plugin",
        ],
    );

    // A stage reading a later stage's output: the first stage reads the tile stage's element.
    let dir = broken("reads-later", |t| {
        let s = stages(t);
        field(&mut s[0], "inputs")
            .as_array_mut()
            .unwrap()
            .push("element".into());
    });
    let first = {
        let text = std::fs::read_to_string(package().join("package.toml")).unwrap();
        let mut t: toml::Table = text.parse().unwrap();
        stages(&mut t)[0]["name"].as_str().unwrap().to_string()
    };
    assert_refused(
        &plugin,
        &dir,
        &[
            &format!("stage '{first}'"),
            "tensor 'element'",
            "does not run before it",
        ],
    );

    let dir = broken("no-tile-stage", |t| {
        stages(t).pop();
    });
    assert_refused(&plugin, &dir, &["0 tile stages"]);

    let dir = broken("contract-1", |t| {
        t.insert("contract".into(), 1.into());
    });
    assert_refused(&plugin, &dir, &["contract = 1"]);
}

#[test]
fn a_plain_onnx_model_still_renders_beside_a_package() {
    let plugin = load(config());
    let contract1 = instance(&plugin, Context::General, plate());
    let before = frame(&contract1, at(0.5));
    let package = with_model(&plugin, &package());
    frame(&package, at(0.5));
    let after: Image = frame(&contract1, at(0.5));
    assert!(before.same_pixels(&after));
    assert!(changed(&before, &plate()).len() > 500);
    assert_clean(&contract1);
}

/// The bundle ships the learned package as its default (`bundledModel` = 1, run while
/// `model` is empty), it keeps the contract's proxy consistency, and `bundledModel` = 0
/// runs the procedural model.
#[test]
fn the_bundled_learned_package_renders_and_keeps_proxy_consistency() {
    let plugin = load(config());
    let inst = instance(&plugin, Context::General, plate());
    let learned = frame(&inst, at(0.5));
    set(&inst, "bundledModel", ParamValue::Choice(1));
    assert!(
        frame(&inst, at(0.5)).same_pixels(&learned),
        "the default is not the learned package"
    );
    set(&inst, "bundledModel", ParamValue::Choice(0));
    let procedural = frame(&inst, at(0.5));
    set(&inst, "bundledModel", ParamValue::Choice(1));
    assert!(
        changed(&learned, &plate()).len() > 200,
        "the bundled learned package changed only {} pixels mid-collapse",
        changed(&learned, &plate()).len()
    );
    assert!(
        !changed(&learned, &procedural).is_empty(),
        "bundledModel = 0 renders what the learned package renders"
    );
    let half = inst.render_frame(at(0.5), (0.5, 0.5)).unwrap();
    let mean = mean_difference(&half, &learned.scaled((0.5, 0.5)));
    assert!(
        mean < 0.03,
        "the learned package's 0.5 proxy differs from the full frame downsampled by {mean} on average"
    );
    assert_clean(&inst);
}
