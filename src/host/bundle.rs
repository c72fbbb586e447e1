//! Finding and loading the binary of an `.ofx.bundle` and listing its plugins.

use std::ffi::{c_int, CStr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libloading::os::unix::{Library as UnixLibrary, RTLD_LOCAL, RTLD_NOW};

use super::config::HostConfig;
use super::error::HostError;
use super::plugin::{self, Loadable, Plugin};
use super::strings::name;
use crate::ffi::{self as f, OfxPlugin};

/// Keep the code mapped after the last close (glibc's `RTLD_NODELETE`), as
/// hosts do: unloading Rust or C++ code with live thread-local destructors
/// crashes at thread exit.
const RTLD_NODELETE: c_int = 0x1000;

/// The binary's architecture folder in a bundle.
pub const ARCH: &str = "Linux-x86-64";

/// What `OfxGetPlugin` says about one plugin.
#[derive(Clone, Debug)]
pub struct PluginInfo {
    pub id: String,
    pub api: String,
    pub api_version: i32,
    pub version: (u32, u32),
    raw: usize,
}

/// A loaded plugin binary.
pub struct Bundle {
    bundle: Option<PathBuf>,
    binary: PathBuf,
    library: Arc<libloading::Library>,
    plugins: Vec<PluginInfo>,
}

impl Bundle {
    /// Opens `<Name>.ofx.bundle`, loading `Contents/Linux-x86-64/<Name>.ofx`.
    pub fn open(bundle: &Path) -> Result<Bundle, HostError> {
        let err = |reason: String| HostError::Bundle {
            path: bundle.to_path_buf(),
            reason,
        };
        let file_name = bundle
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let stem = file_name
            .strip_suffix(".ofx.bundle")
            .ok_or_else(|| err("the directory name must end in .ofx.bundle".into()))?;
        let binary = bundle
            .join("Contents")
            .join(ARCH)
            .join(format!("{stem}.ofx"));
        if !binary.is_file() {
            let found: Vec<String> = std::fs::read_dir(bundle.join("Contents").join(ARCH))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            return Err(err(format!(
                "{} is missing (found {found:?})",
                binary.display()
            )));
        }
        let mut opened = Bundle::open_binary(&binary)?;
        opened.bundle = Some(bundle.to_path_buf());
        Ok(opened)
    }

    /// Loads a plugin binary directly.
    pub fn open_binary(binary: &Path) -> Result<Bundle, HostError> {
        check_elf(binary).map_err(|reason| HostError::Load {
            path: binary.to_path_buf(),
            reason,
        })?;
        // SAFETY: loading a plugin runs its initialisers; that is what a host does.
        let library =
            unsafe { UnixLibrary::open(Some(binary), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) }
                .map_err(|e| HostError::Load {
                    path: binary.to_path_buf(),
                    reason: e.to_string(),
                })?;
        let library = libloading::Library::from(library);
        let missing = |symbol| HostError::MissingSymbol {
            path: binary.to_path_buf(),
            symbol,
        };
        // SAFETY: the OFX entry points have these C signatures.
        let plugins = unsafe {
            let count = library
                .get::<unsafe extern "C" fn() -> c_int>(b"OfxGetNumberOfPlugins\0")
                .map_err(|_| missing("OfxGetNumberOfPlugins"))?;
            let get = library
                .get::<unsafe extern "C" fn(c_int) -> *mut OfxPlugin>(b"OfxGetPlugin\0")
                .map_err(|_| missing("OfxGetPlugin"))?;
            (0..count()).filter_map(|i| describe(get(i))).collect()
        };
        Ok(Bundle {
            bundle: None,
            binary: binary.to_path_buf(),
            library: Arc::new(library),
            plugins,
        })
    }

    pub fn binary_path(&self) -> &Path {
        &self.binary
    }

    pub fn plugins(&self) -> &[PluginInfo] {
        &self.plugins
    }

    pub fn plugin_ids(&self) -> Vec<String> {
        self.plugins.iter().map(|p| p.id.clone()).collect()
    }

    /// setHost, load and describe plugin `id` as a host configured by `config`.
    pub fn load_plugin(&self, id: &str, config: HostConfig) -> Result<Plugin, HostError> {
        let info = self
            .plugins
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| HostError::NoSuchPlugin(id.into()))?;
        if info.api != name(f::kOfxImageEffectPluginApi) || info.api_version != 1 {
            return Err(HostError::UnsupportedApi {
                plugin: id.into(),
                api: info.api.clone(),
                version: info.api_version,
            });
        }
        // SAFETY: `raw` came from OfxGetPlugin and the library stays loaded.
        let raw = unsafe { &*(info.raw as *const OfxPlugin) };
        let (Some(set_host), Some(entry)) = (raw.setHost, raw.mainEntry) else {
            return Err(HostError::Invalid(format!(
                "plugin {id} has no setHost or mainEntry"
            )));
        };
        let path = self.bundle.as_deref().unwrap_or(&self.binary);
        let loadable = Loadable {
            id: info.id.clone(),
            version: info.version,
            raw_plugin: info.raw,
            set_host,
            entry,
            file_path: path.to_string_lossy().into_owned(),
            library: self.library.clone(),
        };
        plugin::load_shared(&self.binary, loadable, config)
    }
}

/// Reads an `OfxPlugin` struct; `None` for NULL or unreadable strings.
///
/// # Safety
/// `p` is NULL or points to a valid `OfxPlugin`.
unsafe fn describe(p: *mut OfxPlugin) -> Option<PluginInfo> {
    let plugin = p.as_ref()?;
    let text = |s: *const std::ffi::c_char| {
        (!s.is_null()).then(|| CStr::from_ptr(s).to_string_lossy().into_owned())
    };
    Some(PluginInfo {
        id: text(plugin.pluginIdentifier)?,
        api: text(plugin.pluginApi)?,
        api_version: plugin.apiVersion,
        version: (plugin.pluginVersionMajor, plugin.pluginVersionMinor),
        raw: p as usize,
    })
}

/// Refuses files the system loader would crash on (a truncated ELF kills the
/// process with SIGBUS inside dlopen): checks the header, the program headers
/// and that every loadable segment lies inside the file.
fn check_elf(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
    };
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let truncated = || "truncated ELF file".to_string();
    let (phoff, phentsize, phnum) = (
        u64_at(0x20).ok_or_else(truncated)?,
        u16_at(0x36).ok_or_else(truncated)?,
        u16_at(0x38).ok_or_else(truncated)?,
    );
    if phentsize < 56
        || phoff
            .checked_add(phentsize * phnum)
            .is_none_or(|end| end > bytes.len())
    {
        return Err("program headers lie outside the file".into());
    }
    for i in 0..phnum {
        let h = phoff + i * phentsize;
        const PT_LOAD: u32 = 1;
        if u32_at(h) == Some(PT_LOAD) {
            let (offset, size) = (
                u64_at(h + 8).ok_or_else(truncated)?,
                u64_at(h + 32).ok_or_else(truncated)?,
            );
            if offset.checked_add(size).is_none_or(|end| end > bytes.len()) {
                return Err(format!(
                    "loadable segment {i} lies outside the file (truncated?)"
                ));
            }
        }
    }
    Ok(())
}
