//! Generates the raw OpenFX bindings from our own headers in `ofx-headers/` and
//! compiles the host's variadic parameter shims (C is the only portable way to
//! define a variadic function; the host side of `paramGetValue` etc. needs one).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=ofx-headers");
    println!("cargo:rerun-if-changed=src/host/variadic.c");

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let bindings_path = out_dir.join("ofx_bindings.rs");

    if let Err(why) = clang_sys_available() {
        panic!(
            "\n\nbindgen needs libclang to read ofx-headers/: {why}\n\
             Install it with `apt-get install -y libclang-dev` (or run `make setup`),\n\
             or point LIBCLANG_PATH at the folder holding libclang.so.\n\n"
        );
    }

    let bindings = bindgen::Builder::default()
        .header("ofx-headers/ofx.h")
        .clang_arg("-Iofx-headers")
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

/// bindgen loads libclang at run time; check for it first so that a missing
/// library is one clear message instead of a long panic from deep inside bindgen.
fn clang_sys_available() -> Result<(), String> {
    if let Ok(dir) = env::var("LIBCLANG_PATH") {
        return if PathBuf::from(&dir).exists() {
            Ok(())
        } else {
            Err(format!("LIBCLANG_PATH={dir} does not exist"))
        };
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    for root in [
        "/usr/lib",
        "/usr/lib64",
        "/usr/local/lib",
        "/usr/lib/x86_64-linux-gnu",
    ] {
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let p = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("llvm") {
                    candidates.push(p.join("lib"));
                } else if name.starts_with("libclang")
                    && name.contains(".so")
                    && !name.contains("cpp")
                {
                    return Ok(());
                }
            }
        }
    }
    for dir in candidates {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("libclang") && name.contains(".so") && !name.contains("cpp") {
                    return Ok(());
                }
            }
        }
    }
    Err("no libclang shared library found under /usr/lib, /usr/lib64 or /usr/local/lib".into())
}
