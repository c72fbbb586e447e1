//! Generates the raw OpenFX bindings from our own headers in `ofx-headers/` and
//! compiles the host's variadic parameter shims (C is the only portable way to
//! define a variadic function; the host side of `paramGetValue` etc. needs one).

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=ofx-headers");
    println!("cargo:rerun-if-changed=src/host/variadic.c");

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let bindings_path = out_dir.join("ofx_bindings.rs");

    let libclang = match find_libclang() {
        Ok(found) => found,
        Err(why) => {
            // One clear line, not a panic with a backtrace.
            eprintln!(
                "error: bindgen needs libclang to read ofx-headers/ and {why}: run `tools/setup.sh` \
                 (installs libclang-dev as root, else fetches the libclang wheel from PyPI), \
                 `apt-get install -y libclang-dev`, or set LIBCLANG_PATH to the folder holding libclang.so"
            );
            std::process::exit(1);
        }
    };
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
    let mut builtin_includes = Vec::new();
    if let Libclang::Private(dir) = &libclang {
        // clang-sys loads the library it finds in LIBCLANG_PATH.
        env::set_var("LIBCLANG_PATH", dir);
        // The wheel ships the library without clang's own headers (stddef.h,
        // stdbool.h): borrow the C compiler's.
        if let Some(dir) = c_compiler_include_dir() {
            builtin_includes.push(format!("-isystem{}", dir.display()));
        }
    }

    let bindings = bindgen::Builder::default()
        .header("ofx-headers/ofx.h")
        .clang_arg("-Iofx-headers")
        .clang_args(&builtin_includes)
        .allowlist_type("Ofx.*")
        .allowlist_var("kOfx.*")
        .allowlist_function("Ofx.*")
        .default_macro_constant_type(bindgen::MacroTypeVariation::Signed)
        .layout_tests(false)
        .derive_default(true)
        .derive_debug(true)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect("bindgen could not parse ofx-headers/ofx.h");
    bindings
        .write_to_file(&bindings_path)
        .expect("could not write the OpenFX bindings");
    // Lets the ABI test enumerate every declaration we generated.
    println!(
        "cargo:rustc-env=COLLAPSE_OFX_BINDINGS={}",
        bindings_path.display()
    );

    cc::Build::new()
        .file("src/host/variadic.c")
        .include("ofx-headers")
        .warnings(true)
        .compile("collapse_host_variadic");
}

enum Libclang {
    /// On the system's library path, or where LIBCLANG_PATH points.
    System,
    /// Fetched by tools/setup.sh into target/deps/libclang (the PyPI wheel).
    Private(PathBuf),
}

/// True when `dir` holds a file clang-sys would load: `libclang.so`,
/// `libclang.so.N`, `libclang-N.so*`; never `libclang-cpp.so*`, another library.
fn holds_libclang(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        let versioned = name.strip_prefix("libclang-").is_some_and(|rest| {
            rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains(".so")
        });
        name == "libclang.so" || name.starts_with("libclang.so.") || versioned
    })
}

/// bindgen loads libclang at run time; look for it first so that a missing
/// library is one clear message instead of a long panic from deep inside bindgen.
fn find_libclang() -> Result<Libclang, String> {
    if let Ok(dir) = env::var("LIBCLANG_PATH") {
        return if holds_libclang(Path::new(&dir)) {
            Ok(Libclang::System)
        } else {
            Err(format!("LIBCLANG_PATH={dir} holds no libclang.so"))
        };
    }
    let mut dirs: Vec<PathBuf> = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/usr/local/lib",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        let mut llvm: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("llvm"))
            .map(|e| e.path().join("lib"))
            .collect();
        llvm.sort();
        dirs.extend(llvm);
    }
    if dirs.iter().any(|d| holds_libclang(d)) {
        return Ok(Libclang::System);
    }
    let private = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("target/deps/libclang");
    if holds_libclang(&private) {
        return Ok(Libclang::Private(private));
    }
    Err("none was found (no libclang.so under /usr/lib, /usr/lib64, /usr/local/lib, /usr/lib/llvm-*/lib or target/deps/libclang)".into())
}

/// The folder of the C compiler's own headers (`cc -print-file-name=include`).
fn c_compiler_include_dir() -> Option<PathBuf> {
    let out = std::process::Command::new(env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg("-print-file-name=include")
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.join("stddef.h").exists().then_some(dir)
}
