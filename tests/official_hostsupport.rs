//! The Collapse bundle in the OFFICIAL OpenFX host library, HostSupport.
//!
//! HostSupport (the host layer Natron's grew from) ships inside the `openfx-sys`
//! 0.1.0 crate source, `openfx/HostSupport/` (with its bundled expat 2.0.1 and the
//! official headers in `openfx/include`). This test:
//!
//! 1. finds that source in the cargo registry (`$CARGO_HOME` or `~/.cargo`,
//!    `registry/src/*/openfx-sys-0.1.0`), and compiles HostSupport, expat and our
//!    host program `tests/official_hostsupport/collapse_host.cpp` with `g++ -O1` (expat's C
//!    files with `gcc`; `$CXX` / `$CC` override), two jobs at a time
//!    (`$HOSTSUPPORT_JOBS`), into `target/hostsupport/`. Objects are kept and
//!    rebuilt only when their source or command line changed. Nothing is needed
//!    from the system beyond g++/gcc and libdl: expat is HostSupport's bundled
//!    copy, so there is no libexpat-dev dependency.
//! 2. copies the bundle (`target/ofx/Collapse.ofx.bundle`, or `$COLLAPSE_BUNDLE`)
//!    into a per-run folder `target/hostsupport/run-<pid>/plugins/` (so a concurrent
//!    `tools/bundle.sh` or a second test run cannot swap it mid-run) and runs the
//!    host with `OFX_PLUGIN_PATH` pointing there. The host scans, loads and
//!    describes the plugin, describes it in the General and Filter contexts,
//!    creates a General instance, sets the region around a bright "building" in a
//!    synthetic 320x240 float plate (startFrame 1, duration 24, seed 7, device
//!    CPU) as user edits with instanceChanged actions, and renders frames 0 and 13
//!    through HostSupport's render path (getRegionOfDefinition,
//!    getRegionsOfInterest, isIdentity, render), then frame 13 again in four
//!    tiles and in a Filter-context instance.
//! 3. asserts the host's verdict and the numbers of its `SUMMARY` lines.
//!
//! The host also wraps HostSupport's property suite to list every property call
//! of the plugin that did not return kOfxStatOK (`PROPERTY` lines, e.g. an
//! optional property HostSupport does not know), and HostSupport is built with
//! `OFX_DEBUG_ACTIONS`, so the output (shown with `--nocapture`, and always on
//! failure) traces every action and its status. The log and the images land in
//! `target/hostsupport/out/` (host.log, source.ppm, f0.ppm, f13.ppm,
//! plugin_cache.xml).
//!
//! HostSupport limits the host program works around (details in its header
//! comment): Double2D normalised defaults are converted by our parameter
//! instances (HostSupport does not); every parameter type gets a value-holding
//! instance (hostDemo's return kOfxStatErrMissingHostFeature and it has no String
//! one); images are the requested region clipped to the RoD (HostSupport does not
//! clip regions of interest). Known HostSupport bugs the plugin happens not to
//! hit: ClipInstance::getIntPropertyN throws for a count of 1, and the message
//! suite casts any handle to an effect instance (a message posted with a
//! descriptor handle would crash it).
//!
//! This tests the bundle as assembled: it warns when `target/*/libcollapse_ofx.so`
//! or `bundle/Contents/Resources/*` are newer than the bundle. Run:
//! `tools/bundle.sh && cargo test --release --test official_hostsupport -- --nocapture`
//!
//! Without g++ (or gcc) or without a bundle the test FAILS and says why; it never
//! passes silently.

mod host_util;

use host_util::{cannot_run, compiler, mtime, openfx_source};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// HostSupport's sources, in link order.
const HOSTSUPPORT_SOURCES: &[&str] = &[
    "ofxhBinary",
    "ofxhClip",
    "ofxhHost",
    "ofxhImageEffect",
    "ofxhImageEffectAPI",
    "ofxhInteract",
    "ofxhMemory",
    "ofxhParam",
    "ofxhPluginAPICache",
    "ofxhPluginCache",
    "ofxhPropertySuite",
    "ofxhUtilities",
];
const EXPAT_SOURCES: &[&str] = &["xmlparse", "xmltok", "xmlrole"];
const HOST_TIMEOUT: Duration = Duration::from_secs(600);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/` (the parent of cargo's per-target temporary directory).
fn target_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir().join("target"))
}

/// One compile: source, object, and the full command line (kept next to the
/// object so that a changed flag rebuilds it).
struct Job {
    src: PathBuf,
    obj: PathBuf,
    cmd: Vec<OsString>,
}

impl Job {
    fn stamp(&self) -> PathBuf {
        self.obj.with_extension("o.cmd")
    }
    fn cmdline(&self) -> String {
        self.cmd
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn up_to_date(&self) -> bool {
        match (mtime(&self.src), mtime(&self.obj)) {
            (Some(s), Some(o)) => {
                o >= s && fs::read_to_string(self.stamp()).ok().as_deref() == Some(&self.cmdline())
            }
            _ => false,
        }
    }
    /// Compiles into a temporary file, renamed when done (safe if two test runs race).
    fn spawn(&self) -> (Child, PathBuf) {
        let tmp = self
            .obj
            .with_extension(format!("o.tmp{}", std::process::id()));
        let child = Command::new(&self.cmd[0])
            .args(&self.cmd[1..])
            .arg("-o")
            .arg(&tmp)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.cmd[0].to_string_lossy()));
        (child, tmp)
    }
}

/// Builds target/hostsupport/collapse_host, compiling only what changed.
fn build_host() -> PathBuf {
    let openfx = openfx_source();
    let hs = openfx.join("HostSupport");
    let expat = hs.join("expat-2.0.1/lib");
    let ours = manifest_dir().join("tests/official_hostsupport/collapse_host.cpp");
    let out = target_dir().join("hostsupport");
    let objdir = out.join("obj");
    fs::create_dir_all(&objdir).expect("create target/hostsupport/obj");
    let cxx = OsString::from(compiler(true));
    let cc = OsString::from(compiler(false));

    let os = |s: &str| OsString::from(s);
    let inc = |p: &Path| {
        let mut s = OsString::from("-I");
        s.push(p);
        s
    };
    // HostSupport predates C++17 (dynamic exception specifications, std::auto_ptr).
    let cxx_flags = |extra: &[&str]| {
        let mut v = vec![
            cxx.clone(),
            os("-std=gnu++14"),
            os("-O1"),
            os("-g"),
            os("-Wno-deprecated-declarations"),
            os("-Wno-deprecated"),
        ];
        v.extend(extra.iter().map(|s| os(s)));
        v.extend([
            inc(&hs.join("include")),
            inc(&openfx.join("include")),
            inc(&expat),
        ]);
        v.push(os("-c"));
        v
    };
    let mut jobs = Vec::new();
    for name in HOSTSUPPORT_SOURCES {
        let src = hs.join("src").join(format!("{name}.cpp"));
        let mut cmd = cxx_flags(&["-w", "-DOFX_DEBUG_ACTIONS"]);
        cmd.push(src.clone().into());
        jobs.push(Job {
            src,
            obj: objdir.join(format!("{name}.o")),
            cmd,
        });
    }
    for name in EXPAT_SOURCES {
        let src = expat.join(format!("{name}.c"));
        let mut cmd = vec![cc.clone(), os("-O1"), os("-w")];
        // What expat's configure would define on a little-endian Linux box.
        for d in [
            "-DXML_NS",
            "-DXML_DTD",
            "-DXML_CONTEXT_BYTES=1024",
            "-DBYTEORDER=1234",
            "-DHAVE_MEMMOVE",
        ] {
            cmd.push(os(d));
        }
        cmd.extend([inc(&expat), os("-c"), src.clone().into()]);
        jobs.push(Job {
            src,
            obj: objdir.join(format!("expat_{name}.o")),
            cmd,
        });
    }
    {
        let mut cmd = cxx_flags(&["-Wall", "-Wno-unused-variable"]);
        cmd.push(ours.clone().into());
        jobs.push(Job {
            src: ours,
            obj: objdir.join("collapse_host.o"),
            cmd,
        });
    }

    // Compile what is stale, two at a time (this machine has two cores).
    let parallel = std::env::var("HOSTSUPPORT_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2usize)
        .max(1);
    let stale: Vec<&Job> = jobs.iter().filter(|j| !j.up_to_date()).collect();
    if !stale.is_empty() {
        eprintln!(
            "[hostsupport] compiling {} of {} sources ({parallel} at a time)",
            stale.len(),
            jobs.len()
        );
    }
    let started = Instant::now();
    let mut queue = stale.into_iter();
    let mut running: Vec<(&Job, Child, PathBuf)> = Vec::new();
    let mut errors = Vec::new();
    loop {
        while running.len() < parallel {
            let Some(job) = queue.next() else { break };
            let (child, tmp) = job.spawn();
            running.push((job, child, tmp));
        }
        if running.is_empty() {
            break;
        }
        // Wait for the oldest; with two jobs this keeps both cores busy well enough.
        let (job, child, tmp) = running.remove(0);
        let output = child.wait_with_output().expect("wait for the compiler");
        let diagnostics = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.success() {
            fs::rename(&tmp, &job.obj).expect("move the object in place");
            fs::write(job.stamp(), job.cmdline()).expect("write the command stamp");
            if !diagnostics.trim().is_empty() {
                eprintln!("[hostsupport] {}:\n{diagnostics}", job.src.display());
            }
        } else {
            let _ = fs::remove_file(&tmp);
            errors.push(format!(
                "{}\n  $ {}\n{diagnostics}",
                job.src.display(),
                job.cmdline()
            ));
        }
    }
    if !errors.is_empty() {
        panic!(
            "compiling the HostSupport test host failed:\n{}",
            errors.join("\n")
        );
    }

    let exe = out.join("collapse_host");
    let newest_obj = jobs.iter().filter_map(|j| mtime(&j.obj)).max();
    if mtime(&exe).is_none() || newest_obj > mtime(&exe) {
        let tmp = out.join(format!("collapse_host.tmp{}", std::process::id()));
        // Ours first, then HostSupport, then expat.
        let mut objs: Vec<&Path> = jobs.iter().map(|j| j.obj.as_path()).collect();
        objs.rotate_right(1);
        let output = Command::new(&cxx)
            .args(objs)
            .arg("-o")
            .arg(&tmp)
            .args(["-ldl", "-lpthread"])
            .output()
            .expect("run the linker");
        if !output.status.success() {
            let _ = fs::remove_file(&tmp);
            panic!(
                "linking the HostSupport test host failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        fs::rename(&tmp, &exe).expect("move the host executable in place");
    }
    if started.elapsed() > Duration::from_millis(500) {
        eprintln!(
            "[hostsupport] host built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    exe
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in fs::read_dir(from)
        .unwrap_or_else(|e| panic!("read {}: {e}", from.display()))
        .flatten()
    {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            copy_dir(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        }
    }
}

/// A private copy of the bundle in `plugins`, a folder of its own for OFX_PLUGIN_PATH.
fn stage_bundle(plugins: &Path) -> PathBuf {
    let bundle = std::env::var_os("COLLAPSE_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("ofx/Collapse.ofx.bundle"));
    let binary = bundle.join("Contents/Linux-x86-64/Collapse.ofx");
    if !binary.is_file() {
        cannot_run(&format!(
            "no plugin bundle at {} (missing {}); build it with tools/bundle.sh (or `make bundle`)",
            bundle.display(),
            binary.display()
        ));
    }
    // This tests the bundle as assembled; say so loudly when the tree has moved on.
    let mut newer = Vec::new();
    let mut candidates = vec![target_dir().join("release/libcollapse_ofx.so")];
    if let Some(deps) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(deps.join("libcollapse_ofx.so")); // built by this cargo invocation
    }
    for lib in candidates {
        if mtime(&lib) > mtime(&binary) {
            newer.push(lib);
        }
    }
    if let Ok(rd) = fs::read_dir(manifest_dir().join("bundle/Contents/Resources")) {
        for e in rd.flatten() {
            if mtime(&e.path()) > mtime(&bundle.join("Contents/Resources").join(e.file_name())) {
                newer.push(e.path());
            }
        }
    }
    if !newer.is_empty() {
        let list: Vec<String> = newer.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "[hostsupport] WARNING: this tests the bundle at {}, which is OLDER than:\n    {}\n  run tools/bundle.sh (or `make bundle`) to test the current tree",
            bundle.display(),
            list.join("\n    ")
        );
    }
    let _ = fs::remove_dir_all(plugins);
    copy_dir(&bundle, &plugins.join("Collapse.ofx.bundle"));
    plugins.to_path_buf()
}

/// Runs the host, returning (success, stdout + stderr). Kills it after HOST_TIMEOUT.
fn run_host(exe: &Path, plugins: &Path, out: &Path) -> (bool, String) {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out).expect("create target/hostsupport/out");
    let log = out.join("host.log");
    let log_file = fs::File::create(&log).expect("create host.log");
    let mut child = Command::new(exe)
        .arg("--out")
        .arg(out)
        .env("OFX_PLUGIN_PATH", plugins)
        .env(
            "COLLAPSE_LOG",
            std::env::var("COLLAPSE_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdout(log_file.try_clone().expect("dup host.log"))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the host") {
            break Some(s);
        }
        if started.elapsed() > HOST_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(s) if s.success() => (true, text),
        Some(s) => (
            false,
            format!("{text}\n[hostsupport] the host exited with {s}"),
        ),
        None => (
            false,
            format!(
                "{text}\n[hostsupport] the host was killed after {} s",
                HOST_TIMEOUT.as_secs()
            ),
        ),
    }
}

struct Summary(HashMap<String, String>);

impl Summary {
    fn parse(text: &str) -> Self {
        Summary(
            text.lines()
                .filter_map(|l| l.strip_prefix("SUMMARY "))
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
    fn str(&self, key: &str) -> &str {
        self.0
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("the host printed no SUMMARY {key}"))
    }
    fn num(&self, key: &str) -> f64 {
        let v = self.str(key);
        v.parse()
            .unwrap_or_else(|_| panic!("SUMMARY {key}={v} is not a number"))
    }
}

#[test]
fn hostsupport_loads_describes_and_renders_the_bundle() {
    let exe = build_host();
    // A folder per run, so that two runs at once (another checkout's test, a
    // second terminal) do not trip over each other's bundle copy or log.
    let run = target_dir().join(format!("hostsupport/run-{}", std::process::id()));
    let plugins = stage_bundle(&run.join("plugins"));
    let (ok, text) = run_host(&exe, &plugins, &run.join("out"));
    let _ = fs::remove_dir_all(&plugins);
    let mut out = target_dir().join("hostsupport/out");
    let _ = fs::remove_dir_all(&out);
    if fs::rename(run.join("out"), &out).is_ok() {
        let _ = fs::remove_dir(&run);
    } else {
        out = run.join("out");
    }
    println!("{text}");
    let s = Summary::parse(&text);
    let failures: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("FAILURE "))
        .collect();
    assert!(
        ok,
        "the HostSupport host reported failures (full output above, also in {}):\n  {}",
        out.join("host.log").display(),
        failures.join("\n  ")
    );

    // Found, loaded and described.
    assert_eq!(s.str("plugin_found"), "1");
    assert_eq!(s.str("plugin_version"), "1.1");
    assert_eq!(s.str("label"), "Collapse");
    assert_eq!(
        s.str("contexts"),
        "OfxImageEffectContextFilter,OfxImageEffectContextGeneral"
    );
    assert_eq!(s.str("describe_in_context_general"), "OK");
    assert_eq!(s.str("describe_in_context_filter"), "OK");
    assert_eq!(s.str("clips_general"), "Source,Mask,Background,Output");
    assert_eq!(s.str("clips_filter"), "Source,Mask,Background,Output");
    assert!(
        s.num("params_general") >= 18.0,
        "fewer parameters than the plugin declares"
    );
    // Normalised Double2D defaults (0.35, 0.12) and (0.3, 0.7) of the 320x240 project.
    assert_eq!(
        s.str("general_bottomLeft_coordinates"),
        "OfxParamCoordinatesNormalised"
    );
    assert_eq!(s.str("general_default_bottomLeft"), "112,28.8");
    assert_eq!(s.str("general_default_size"), "96,168");

    // Instance, user edits, clip preferences.
    assert_eq!(s.str("general_create_instance"), "kOfxStatOK");
    assert_eq!(s.num("general_params_edited"), 6.0);
    assert_eq!(s.str("general_clip_preferences"), "OK");
    assert_eq!(s.str("general_output_depth"), "OfxBitDepthFloat");
    assert_eq!(s.str("general_output_components"), "OfxImageComponentRGBA");
    assert_eq!(
        s.str("general_output_premult"),
        "OfxImageAlphaPremultiplied"
    ); // kOfxImagePreMultiplied

    // Frame 0, before the start: identity, and the forced render is the plate bit for bit.
    assert_eq!(s.str("f0_rod"), "0,0,320,240");
    assert_eq!(s.str("f0_identity"), "Source@0");
    assert_eq!(s.str("f0_render"), "kOfxStatOK");
    assert_eq!(s.num("f0_changed"), 0.0, "frame 0 must equal the Source");
    assert_eq!(s.num("f0_max_diff"), 0.0);
    assert_eq!(s.num("f0_unwritten"), 0.0);

    // Frame 13, mid-collapse: rendered, changed inside the region, untouched far outside.
    assert_eq!(s.str("f13_rod"), "0,0,320,240");
    assert_eq!(s.str("f13_identity"), "none");
    assert_eq!(s.str("f13_render"), "kOfxStatOK");
    assert_eq!(s.num("f13_unwritten"), 0.0);
    assert_eq!(s.num("f13_nonfinite"), 0.0);
    let (changed_region, region_pixels) = (s.num("f13_changed_region"), s.num("f13_region_pixels"));
    assert!(
        changed_region >= 0.25 * region_pixels,
        "only {changed_region} of {region_pixels} pixels changed inside the region at frame 13"
    );
    assert!(
        s.num("f13_max_diff") > 0.05,
        "frame 13 barely differs from the Source"
    );
    assert!(s.num("f13_far_pixels") > 40000.0);
    assert_eq!(
        s.num("f13_changed_far"),
        0.0,
        "pixels far outside the region changed"
    );
    assert_eq!(s.str("f13_identity_far_left"), "Source@13");
    assert_eq!(s.str("f13_identity_far_right"), "Source@13");
    assert_eq!(s.str("f13_identity_region"), "none");

    // Tiles and the Filter context give the same picture as the full General render.
    assert!(s.num("f13_tiles_rendered") >= 1.0);
    assert!(
        s.num("f13_tiles_max_diff") <= 1e-4,
        "tiled render differs from the full frame by {}",
        s.num("f13_tiles_max_diff")
    );
    assert_eq!(s.str("filter_create_instance"), "kOfxStatOK");
    assert_eq!(s.str("filter_f13_render"), "kOfxStatOK");
    assert!(s.num("filter_f13_vs_general_max_diff") <= 1e-4);

    // Nothing went wrong on the plugin's side.
    assert_eq!(
        s.num("messages_error"),
        0.0,
        "the plugin posted error messages"
    );
    assert_eq!(s.num("persistent_messages_left"), 0.0);
    assert_eq!(s.num("failures"), 0.0);
}
