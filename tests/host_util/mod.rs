//! Shared by the `host_*` tests: building OFX plugins from C/C++ sources into
//! bundles, and test images.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use collapse_ofx::host::{BitDepth, Components, Image, OfxRectI};

/// Fails the test with a loud banner (never skips).
pub fn cannot_run(why: &str) -> ! {
    let bar = "=".repeat(78);
    panic!("\n{bar}\nHOST TEST COULD NOT RUN: {why}\n{bar}\n");
}

/// `openfx-sys-0.1.0/openfx` in the cargo registry (the official headers and
/// example plugins).
pub fn openfx_source() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| {
            cannot_run("neither CARGO_HOME nor HOME is set: cannot find the cargo registry")
        });
    let src = cargo_home.join("registry").join("src");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&src)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path().join("openfx-sys-0.1.0").join("openfx"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| {
        p.join("Examples/Invert/invert.cpp").is_file()
            && p.join("HostSupport/src/ofxhImageEffect.cpp").is_file()
            && p.join("include/ofxCore.h").is_file()
    });
    found.sort();
    found.pop().unwrap_or_else(|| {
        cannot_run(&format!(
            "openfx-sys 0.1.0's sources are not under {}/*/ (it is a dev-dependency: `cargo fetch` puts them there)",
            src.display()
        ))
    })
}

/// The repository's own OFX headers.
pub fn our_headers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ofx-headers")
}

/// The C (`CC`, gcc) or C++ (`CXX`, g++) compiler, checked to run.
pub fn compiler(cxx: bool) -> String {
    let (var, default) = if cxx { ("CXX", "g++") } else { ("CC", "gcc") };
    let tool = std::env::var(var).unwrap_or_else(|_| default.into());
    match Command::new(&tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(s) if s.success() => tool,
        _ => cannot_run(&format!(
            "the compiler '{tool}' (${var}) is missing; the host tests build OFX plugins and hosts from source. \
             Install it (Debian/Ubuntu: apt-get install -y g++) and run again"
        )),
    }
}

/// When the file was last modified, if it exists.
pub fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// A plugin to build into `<name>.ofx.bundle`.
pub struct PluginBuild<'a> {
    pub name: &'a str,
    pub sources: Vec<PathBuf>,
    pub includes: Vec<PathBuf>,
    pub defines: Vec<&'a str>,
    /// Extra compiler flags.
    pub flags: Vec<&'a str>,
    pub cxx: bool,
}

/// Compiles (when out of date) and returns the bundle directory, under the
/// test target's temporary directory.
pub fn build_bundle(build: &PluginBuild) -> PathBuf {
    static LOCKS: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(done) = built.get(build.name) {
        return done.clone();
    }
    let bundle = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("host-plugins")
        .join(format!("{}.ofx.bundle", build.name));
    let arch = bundle.join("Contents").join("Linux-x86-64");
    let binary = arch.join(format!("{}.ofx", build.name));
    let newest = build
        .sources
        .iter()
        .chain(&build.includes)
        .filter_map(|p| mtime(p))
        .max();
    let fresh = matches!((mtime(&binary), newest), (Some(b), Some(n)) if b >= n);
    if !fresh {
        std::fs::create_dir_all(&arch).expect("create the bundle folders");
        let tmp = arch.join(format!(".{}.{}.tmp", build.name, std::process::id()));
        let mut cmd = Command::new(compiler(build.cxx));
        cmd.args([
            "-O1",
            "-g",
            "-shared",
            "-fPIC",
            "-fvisibility=hidden",
            "-Wall",
        ]);
        for inc in &build.includes {
            cmd.arg("-I").arg(inc);
        }
        for def in &build.defines {
            cmd.arg(format!("-D{def}"));
        }
        cmd.args(&build.flags);
        cmd.args(&build.sources)
            .arg("-o")
            .arg(&tmp)
            .arg("-lpthread");
        eprintln!("host test: building {} ({cmd:?})", build.name);
        let out = cmd
            .output()
            .unwrap_or_else(|e| cannot_run(&format!("cannot run the compiler: {e}")));
        if !out.status.success() {
            cannot_run(&format!(
                "building plugin {} failed:\n{}",
                build.name,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::rename(&tmp, &binary).expect("move the plugin binary into its bundle");
    }
    built.insert(build.name.to_owned(), bundle.clone());
    bundle
}

/// A deterministic RGBA test pattern in [0, 1] (alpha varies too).
pub fn pattern(x: i32, y: i32) -> [f32; 4] {
    let f = |v: i32, m: i32| ((v.rem_euclid(m)) as f32) / (m - 1) as f32;
    [
        f(x * 7 + y, 256),
        f(y * 5 + 3 * x, 256),
        f(x ^ y, 256),
        0.25 + 0.75 * f(x + 2 * y, 256),
    ]
}

/// `pattern` over `bounds` in the given format.
pub fn pattern_image(depth: BitDepth, components: Components, bounds: OfxRectI) -> Image {
    let mut image = Image::new(depth, components, bounds);
    for y in bounds.y1..bounds.y2 {
        for x in bounds.x1..bounds.x2 {
            image.set(x, y, pattern(x, y));
        }
    }
    image
}

pub fn rect(x1: i32, y1: i32, x2: i32, y2: i32) -> OfxRectI {
    OfxRectI { x1, y1, x2, y2 }
}
