//! `collapse-render`: the headless renderer. Hosts the Collapse bundle through
//! the OpenFX C ABI with the project's Rust host (`collapse_ofx::host`).

mod args;
mod picture;
mod preview;
mod progress;
mod sequence;
mod shot;

use args::{Args, Stop};
use collapse_ofx::host::{
    Bundle, ClipSource, Context, HostConfig, HostError, Image, Instance, OfxRectI, ParamValue,
    Project,
};
use picture::{FileDepth, Picture};
use sequence::Sequence;
use shot::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const PLUGIN_ID: &str = collapse_ofx::PLUGIN_ID;

/// Why the renderer stopped: bad input (exit 2) or a failed render (exit 3).
enum Failure {
    Input(String),
    Render(String),
}

fn main() -> ExitCode {
    let args = match args::parse(std::env::args_os()) {
        Ok(a) => a,
        Err(Stop::Info(shown)) => {
            let _ = shown.print();
            return ExitCode::SUCCESS;
        }
        Err(Stop::Bad(e)) => {
            eprintln!("collapse-render: {}", e.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(e)) => {
            eprintln!("collapse-render: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Render(e)) => {
            eprintln!("collapse-render: render failed: {e}");
            ExitCode::from(3)
        }
    }
}

fn run(a: &Args) -> Result<(), Failure> {
    let input = Failure::Input;
    let bundle_dir = find_bundle(a.bundle.as_deref()).map_err(input)?;
    let bundle = Bundle::open(&bundle_dir).map_err(|e| Failure::Input(e.to_string()))?;

    if a.list_params {
        return list_params(&bundle, a);
    }
    let plate_seq = Sequence::new(
        a.plate
            .as_deref()
            .ok_or_else(|| Failure::Input("no plate: give --plate or a shot file".into()))?,
    );
    let frames = a
        .frames
        .ok_or_else(|| Failure::Input("no frame range: give --frames or --first/--last".into()))?;
    let first_plate = picture::read(&plate_seq.path(frames.first)).map_err(Failure::Input)?;
    let (width, height, linear) = (first_plate.width, first_plate.height, first_plate.linear);

    let project = Project {
        frame_rate: a.fps as f64,
        ..Project::frames(
            width as f64,
            height as f64,
            (frames.first as f64, frames.last as f64),
        )
    };
    let config = HostConfig {
        name: "org.collapseofx.render".into(),
        label: "collapse-render".into(),
        ..HostConfig::production(project)
    };
    let plugin = bundle
        .load_plugin(PLUGIN_ID, config)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let context = if a.context == "filter" {
        Context::Filter
    } else {
        Context::General
    };
    let instance = plugin
        .create_instance(context)
        .map_err(|e| Failure::Render(e.to_string()))?;

    let out_pattern = a
        .out
        .as_deref()
        .ok_or_else(|| Failure::Input("no output: give --out or a shot file".into()))?;
    let out_seq = Sequence::new(out_pattern);
    if out_seq.is_still() && frames.len() > 1 {
        return Err(Failure::Input(format!("--out {out_pattern} has no frame number (use #### or %04d) but {} frames are asked for", frames.len())));
    }
    let depth = file_depth(a.depth.as_deref(), out_pattern).map_err(input)?;
    if let Some(file) = &a.checksums {
        // Made and opened before any frame, so a bad path is bad input, not a failed render.
        file.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(file)
            })
            .map_err(|e| {
                Failure::Input(format!(
                    "cannot write the checksum file {}: {e}",
                    file.display()
                ))
            })?;
    }

    // Inputs: a still is read once; a sequence is read frame by frame (the host caches recent frames).
    let (first, last) = (frames.first as f64, frames.last as f64);
    let read_errors = ReadErrors::default();
    connect(
        &instance,
        "Source",
        &plate_seq,
        (first, last),
        Some(first_plate),
        &read_errors,
    )
    .map_err(input)?;
    for (clip, pattern) in [("Mask", &a.mask), ("Background", &a.background)] {
        if let Some(p) = pattern {
            connect(
                &instance,
                clip,
                &Sequence::new(p),
                (first, last),
                None,
                &read_errors,
            )
            .map_err(input)?;
        }
    }
    for (name, value) in &a.params {
        set_param(&instance, name, value).map_err(input)?;
    }

    let mut progress = progress::Progress::new(frames.len(), a.quiet);
    let mut previews =
        (a.contact_sheet.is_some() || a.preview.is_some()).then(preview::PreviewCollector::new);
    let mut written = Vec::new();
    instance
        .begin_sequence((first, last), frames.step as f64, (a.scale, a.scale))
        .map_err(|e| Failure::Render(explain(&instance, e)))?;
    for frame in frames.frames() {
        let rendered = instance.render_tiled(frame as f64, (a.scale, a.scale), a.tile, a.threads);
        if let Some(e) = read_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .first()
        {
            return Err(Failure::Input(format!(
                "frame {frame}: cannot read an input: {e}"
            )));
        }
        let image = rendered
            .map_err(|e| Failure::Render(format!("frame {frame}: {}", explain(&instance, e))))?;
        let pic = to_picture(&image, linear);
        let path = out_seq.path(frame);
        picture::write(&path, &pic, depth).map_err(Failure::Render)?;
        if let Some(file) = &a.checksums {
            append_checksum(file, frame, &pic, &path).map_err(Failure::Render)?;
        }
        if let Some(p) = previews.as_mut() {
            p.add(frame, &pic);
        }
        progress.frame_done(frame, &path);
        written.push(path);
    }
    instance
        .end_sequence((first, last), frames.step as f64, (a.scale, a.scale))
        .map_err(|e| Failure::Render(explain(&instance, e)))?;

    if let Some(p) = &previews {
        if let Some(sheet) = &a.contact_sheet {
            p.write_contact_sheet(sheet, 8).map_err(Failure::Render)?;
            eprintln!("contact sheet: {}", sheet.display());
        }
        if let Some(gif) = &a.preview {
            p.write_gif(gif, a.fps).map_err(Failure::Render)?;
            eprintln!("preview: {}", gif.display());
        }
    }
    if let Some(mp4) = &a.mp4 {
        match preview::write_mp4(&written, mp4, a.fps) {
            Ok(true) => eprintln!("movie: {}", mp4.display()),
            Ok(false) => eprintln!("no ffmpeg on this machine: skipped {}", mp4.display()),
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    Ok(())
}

/// Appends `frame sha256 path` for one rendered frame to the checksum file.
fn append_checksum(file: &Path, frame: i64, pic: &Picture, path: &Path) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    let mut hasher = Sha256::new();
    for v in &pic.data {
        hasher.update(v.to_le_bytes());
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| writeln!(f, "{frame} {digest} {}", path.display()))
        .map_err(|e| format!("cannot write the checksum file {}: {e}", file.display()))
}

/// A host error with the messages the plugin posted (they say why).
fn explain(instance: &Instance, e: HostError) -> String {
    let said: Vec<String> = instance.messages().into_iter().map(|m| m.text).collect();
    if said.is_empty() {
        e.to_string()
    } else {
        format!("{e}: {}", said.join("; "))
    }
}

fn find_bundle(given: Option<&Path>) -> Result<PathBuf, String> {
    const NAME: &str = "Collapse.ofx.bundle";
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = given {
        candidates.push(p.to_path_buf());
    } else {
        if let Some(p) = std::env::var_os("COLLAPSE_BUNDLE") {
            candidates.push(PathBuf::from(p));
        }
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            candidates.push(dir.join("../ofx").join(NAME));
        }
        for dir in std::env::var("OFX_PLUGIN_PATH")
            .unwrap_or_default()
            .split(':')
            .filter(|d| !d.is_empty())
        {
            candidates.push(Path::new(dir).join(NAME));
        }
        candidates.push(Path::new("/usr/OFX/Plugins").join(NAME));
    }
    candidates
        .iter()
        .find(|c| c.join("Contents").is_dir())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no {NAME} found (looked at {}); build it with `make bundle` or pass --bundle",
                candidates
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn file_depth(given: Option<&str>, out: &str) -> Result<FileDepth, String> {
    let exr = out.to_ascii_lowercase().ends_with(".exr");
    Ok(match given {
        None if exr => FileDepth::Half,
        None => FileDepth::Eight,
        Some("8") => FileDepth::Eight,
        Some("16") => FileDepth::Sixteen,
        Some("half") => FileDepth::Half,
        Some("float") | Some("32") => FileDepth::Float,
        Some(d) => return Err(format!("--depth must be 8, 16, half or float, not '{d}'")),
    })
}

/// A picture (top row first) as a host image (row y1 = bottom first).
/// For the Mask clip, an opaque file (a black and white matte) gives its luminance as alpha.
fn to_image(pic: &Picture, clip: &str) -> Image {
    if clip == "Mask" && pic.data.chunks(4).all(|p| p[3] >= 1.0) {
        let mut matte = pic.clone();
        for p in matte.data.chunks_mut(4) {
            p[3] = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
        }
        return to_image(&matte, "");
    }
    let (w, h) = (pic.width, pic.height);
    let mut rows = Vec::with_capacity(pic.data.len());
    for y in (0..h).rev() {
        rows.extend_from_slice(&pic.data[y * w * 4..(y + 1) * w * 4]);
    }
    Image::from_f32_rgba(
        OfxRectI {
            x1: 0,
            y1: 0,
            x2: w as i32,
            y2: h as i32,
        },
        &rows,
    )
}

/// A host image as a picture, top row first; `linear` when the plate was scene-linear (EXR).
fn to_picture(image: &Image, linear: bool) -> Picture {
    let b = image.bounds();
    let (w, h) = ((b.x2 - b.x1).max(0) as usize, (b.y2 - b.y1).max(0) as usize);
    let rows = image.to_f32_rgba();
    let mut data = Vec::with_capacity(rows.len());
    for y in (0..h).rev() {
        data.extend_from_slice(&rows[y * w * 4..(y + 1) * w * 4]);
    }
    Picture {
        width: w,
        height: h,
        data,
        linear,
    }
}

/// Input frames that could not be read while rendering (a truncated or corrupt
/// file): bad input, reported with the reader's message; the frame is not written.
type ReadErrors = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

fn connect(
    instance: &Instance,
    clip: &str,
    seq: &Sequence,
    range: (f64, f64),
    first: Option<Picture>,
    errors: &ReadErrors,
) -> Result<(), String> {
    let source = if seq.is_still() {
        let pic = match first {
            Some(p) => p,
            None => picture::read(&seq.path(0))?,
        };
        ClipSource::still(to_image(&pic, clip))
    } else {
        // Check every file up front: a missing frame is bad input, not a failed render.
        let mut f = range.0 as i64;
        while f <= range.1 as i64 {
            let p = seq.path(f);
            if !p.is_file() {
                return Err(format!("{clip} frame {f} is missing: {}", p.display()));
            }
            f += 1;
        }
        let (seq, clip_name, errors) = (seq.clone(), clip.to_string(), errors.clone());
        ClipSource::frames(range, move |t| {
            match picture::read(&seq.path(t.round() as i64)) {
                Ok(p) => Some(to_image(&p, &clip_name)),
                Err(e) => {
                    errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{clip_name}: {e}"));
                    None
                }
            }
        })
    };
    instance.connect(clip, source).map_err(|e| e.to_string())
}

fn set_param(instance: &Instance, name: &str, value: &Value) -> Result<(), String> {
    let current = instance
        .param(name)
        .ok_or_else(|| format!("the plugin has no parameter '{name}' (see --list-params)"))?;
    let bad = || format!("parameter '{name}' cannot take {value:?} (it is {current:?})");
    let nums = |n: usize| match value {
        Value::List(v) if v.len() == n => Some(v.clone()),
        Value::Number(x) if n == 1 => Some(vec![*x]),
        _ => None,
    };
    let new = match &current {
        ParamValue::Double(_) => ParamValue::Double(nums(1).ok_or_else(bad)?[0]),
        ParamValue::Double2D(..) => nums(2)
            .map(|v| ParamValue::Double2D(v[0], v[1]))
            .ok_or_else(bad)?,
        ParamValue::Int(_) => ParamValue::Int(nums(1).ok_or_else(bad)?[0].round() as i32),
        ParamValue::Bool(_) => match value {
            Value::Bool(b) => ParamValue::Bool(*b),
            Value::Number(x) => ParamValue::Bool(*x != 0.0),
            _ => return Err(bad()),
        },
        ParamValue::Rgb(..) => nums(3)
            .map(|v| ParamValue::Rgb(v[0], v[1], v[2]))
            .ok_or_else(bad)?,
        ParamValue::Choice(_) => {
            ParamValue::Choice(choice_index(instance, name, value).ok_or_else(bad)?)
        }
        ParamValue::String(_) => match value {
            Value::Text(t) => ParamValue::String(t.clone()),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    instance
        .set_param(name, new)
        .map_err(|e| format!("cannot set '{name}': {e}"))
}

fn choice_index(instance: &Instance, name: &str, value: &Value) -> Option<i32> {
    let options = instance
        .param_props(name)?
        .strs("OfxParamPropChoiceOption")
        .to_vec();
    match value {
        Value::Number(x) if *x >= 0.0 && (*x as usize) < options.len() => Some(*x as i32),
        Value::Text(t) => options
            .iter()
            .position(|o| o.eq_ignore_ascii_case(t))
            .map(|i| i as i32),
        _ => None,
    }
}

/// `--list-params`: every parameter with its value (the defaults, or what the shot
/// file and `--set` give, which are checked: a bad name or value is bad input).
/// Needs no plate or frame range: a pre-flight check a farm runs once per node.
fn list_params(bundle: &Bundle, a: &Args) -> Result<(), Failure> {
    let project = Project::frames(1920.0, 1080.0, (1.0, 1.0));
    let plugin = bundle
        .load_plugin(PLUGIN_ID, HostConfig::production(project))
        .map_err(|e| Failure::Input(e.to_string()))?;
    let instance = plugin
        .create_instance(Context::General)
        .map_err(|e| Failure::Render(e.to_string()))?;
    for (name, value) in &a.params {
        set_param(&instance, name, value).map_err(Failure::Input)?;
    }
    for name in instance.param_names() {
        if let Some(v) = instance.param(&name) {
            let options = instance
                .param_props(&name)
                .map(|p| p.strs("OfxParamPropChoiceOption").to_vec())
                .unwrap_or_default();
            if options.is_empty() {
                println!("{name:16} {v:?}");
            } else {
                println!("{name:16} {v:?}  options: {}", options.join(" | "));
            }
        }
    }
    Ok(())
}
