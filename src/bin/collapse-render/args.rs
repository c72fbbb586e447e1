//! Command-line arguments. Everything a shot file says can also be given as a flag;
//! flags win over the shot file.

use crate::sequence::FrameRange;
use crate::shot::{self, Shot, Value};
use std::path::PathBuf;

pub const HELP: &str = "\
collapse-render: render a building collapse with the Collapse OpenFX plugin, headless.

It loads the plugin bundle through the OpenFX C ABI (the same host code as the
project's tests), reads a plate sequence, renders a frame range or a farm chunk
and writes an image sequence.

USAGE:
    collapse-render --plate PATTERN --out PATTERN --frames RANGE [OPTIONS]
    collapse-render --shot shot.toml [OPTIONS]

INPUTS AND OUTPUTS:
    --shot FILE            Shot file (key = value lines, a [params] table). Paths in it
                           are relative to its folder. Flags override it.
    --plate PATTERN        Source plate: a sequence (plate.####.exr, plate.%04d.png) or a
                           still used for every frame. EXR (half/float), PNG (8/16-bit), JPEG.
    --mask PATTERN         Optional matte of the building (its alpha, or luminance of RGB files).
    --background PATTERN   Optional clean plate of what stands behind the building.
    --out PATTERN          Output sequence (.exr, .png or .jpg). Written atomically: a failed
                           frame never leaves a partial file.
    --depth D              Output file depth: 8, 16 (PNG), half, float (EXR).
                           Default: 8 for PNG/JPEG, half for EXR.

FRAMES:
    --frames RANGE         12, 1-96 or 1-96x2 (every second frame).
    --first N --last N [--step N]
                           The same as separate numbers (a farm chunk: --first 25 --last 48).

PARAMETERS:
    --set NAME=VALUE       Set a plugin parameter by its script name, e.g.
                           --set seed=7 --set bottomLeft=663,141 --set size=498,900
                           --set startFrame=12 --set duration=72 --set output=Matte
                           --set dustAmount=1.4 --set device=GPU
                           Choices take their label or index; colours take r,g,b.
    --list-params          Print every parameter with its type and default, then exit.

RENDERING:
    --bundle DIR           Collapse.ofx.bundle to load. Default: $COLLAPSE_BUNDLE, then
                           target/ofx next to this program, then $OFX_PLUGIN_PATH, /usr/OFX/Plugins.
    --scale S              Render scale (0.5 = half-resolution proxy). Default 1.
    --tile WxH             Render each frame in tiles of WxH pixels (as a host would).
    --threads N            Render tiles from N threads at once. Default 1.
    --context C            general (default) or filter.

PREVIEWS:
    --contact-sheet FILE   Write a PNG contact sheet of 8 frames of the render.
    --preview FILE         Write an animated GIF of the render.
    --mp4 FILE             Write an MP4 of the render when ffmpeg is installed.
    --fps N                Frame rate of the previews (default 24, or the shot's fps).

OTHER:
    --quiet                No progress output.
    -h, --help             This text.
    --version              Print the version.

ENVIRONMENT:
    COLLAPSE_BUNDLE        Default for --bundle.
    COLLAPSE_ORT_LIBRARY   ONNX Runtime library to use instead of the bundle's.
    COLLAPSE_TENSORRT_CACHE  Folder for TensorRT engines (device=GPU, useTensorRT=1).
    COLLAPSE_LOG           Plugin log level: error, warn, info (default), debug.

EXIT CODES:
    0 every frame rendered; 2 bad input (arguments, files, parameters, bundle);
    3 a render failed (the plugin's message is printed); 130 interrupted.
";

#[derive(Clone, Debug, Default)]
pub struct Args {
    pub plate: Option<String>,
    pub mask: Option<String>,
    pub background: Option<String>,
    pub out: Option<String>,
    pub frames: Option<FrameRange>,
    pub depth: Option<String>,
    pub params: Vec<(String, Value)>,
    pub bundle: Option<PathBuf>,
    pub scale: f64,
    pub tile: Option<(i32, i32)>,
    pub threads: usize,
    pub context: String,
    pub contact_sheet: Option<PathBuf>,
    pub preview: Option<PathBuf>,
    pub mp4: Option<PathBuf>,
    pub fps: u32,
    pub quiet: bool,
    pub list_params: bool,
}

pub enum Parsed {
    Run(Box<Args>),
    Help,
    Version,
}

/// Parses the command line (without the program name).
pub fn parse(argv: &[String]) -> Result<Parsed, String> {
    let mut a = Args {
        scale: 1.0,
        threads: 1,
        context: "general".into(),
        fps: 0,
        ..Default::default()
    };
    let mut shot_file: Option<PathBuf> = None;
    let (mut first, mut last, mut step): (Option<i64>, Option<i64>, i64) = (None, None, 1);
    let mut flag_params = Vec::new();
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--version" => return Ok(Parsed::Version),
            "--quiet" => a.quiet = true,
            "--list-params" => a.list_params = true,
            "--shot" => shot_file = Some(value(flag)?.into()),
            "--plate" => a.plate = Some(value(flag)?),
            "--mask" => a.mask = Some(value(flag)?),
            "--background" => a.background = Some(value(flag)?),
            "--out" => a.out = Some(value(flag)?),
            "--depth" => a.depth = Some(value(flag)?),
            "--frames" => a.frames = Some(FrameRange::parse(&value(flag)?)?),
            "--first" => first = Some(int(flag, &value(flag)?)?),
            "--last" => last = Some(int(flag, &value(flag)?)?),
            "--step" => step = int(flag, &value(flag)?)?,
            "--set" => {
                let v = value(flag)?;
                let (name, val) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--set takes NAME=VALUE, not '{v}'"))?;
                flag_params.push((name.trim().to_string(), flag_value(val.trim())));
            }
            "--bundle" => a.bundle = Some(value(flag)?.into()),
            "--scale" => {
                a.scale = value(flag)?
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && *s <= 1.0)
                    .ok_or("--scale must be a number in (0, 1]")?;
            }
            "--tile" => {
                let v = value(flag)?;
                let (w, h) = v
                    .split_once('x')
                    .ok_or_else(|| format!("--tile takes WxH, not '{v}'"))?;
                let (w, h) = (int(flag, w)?, int(flag, h)?);
                if w < 1 || h < 1 {
                    return Err("--tile sizes must be positive".into());
                }
                a.tile = Some((w as i32, h as i32));
            }
            "--threads" => a.threads = int(flag, &value(flag)?)?.clamp(1, 256) as usize,
            "--context" => a.context = value(flag)?.to_ascii_lowercase(),
            "--contact-sheet" => a.contact_sheet = Some(value(flag)?.into()),
            "--preview" => a.preview = Some(value(flag)?.into()),
            "--mp4" => a.mp4 = Some(value(flag)?.into()),
            "--fps" => a.fps = int(flag, &value(flag)?)?.clamp(1, 240) as u32,
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    if let Some(path) = shot_file {
        apply_shot(&mut a, &path)?;
    }
    a.params.extend(flag_params);
    match (first, last) {
        (Some(f), Some(l)) => a.frames = Some(FrameRange::new(f, l, step)?),
        (None, None) if step != 1 => {
            let r = a.frames.ok_or("--step needs a frame range")?;
            a.frames = Some(FrameRange::new(r.first, r.last, step)?);
        }
        (None, None) => {}
        _ => return Err("--first and --last go together".into()),
    }
    if a.fps == 0 {
        a.fps = 24;
    }
    if !["general", "filter"].contains(&a.context.as_str()) {
        return Err(format!(
            "--context must be general or filter, not '{}'",
            a.context
        ));
    }
    Ok(Parsed::Run(Box::new(a)))
}

fn int(flag: &str, v: &str) -> Result<i64, String> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| format!("{flag} takes a whole number, not '{v}'"))
}

/// `--set` values: a number, a list `1,2`, true/false, else text.
fn flag_value(v: &str) -> Value {
    if v.contains(',') {
        let nums: Option<Vec<f64>> = v.split(',').map(|s| s.trim().parse::<f64>().ok()).collect();
        if let Some(nums) = nums {
            return Value::List(nums);
        }
    }
    match shot::parse_value(v) {
        Ok(Value::Text(t)) => Value::Text(t),
        Ok(other) => other,
        Err(_) => Value::Text(v.to_string()),
    }
}

fn apply_shot(a: &mut Args, path: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read shot file {}: {e}", path.display()))?;
    let shot: Shot = shot::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.to_path_buf())
        .unwrap_or_else(|| ".".into());
    let rel = |p: &str| {
        if std::path::Path::new(p).is_absolute() {
            p.to_string()
        } else {
            dir.join(p).display().to_string()
        }
    };
    for (key, value) in &shot.settings {
        let text = || match value {
            Value::Text(t) => Ok(t.clone()),
            _ => Err(format!("{}: '{key}' must be a string", path.display())),
        };
        match key.as_str() {
            "plate" => a.plate = a.plate.take().or(Some(rel(&text()?))),
            "mask" => a.mask = a.mask.take().or(Some(rel(&text()?))),
            "background" => a.background = a.background.take().or(Some(rel(&text()?))),
            "output" => a.out = a.out.take().or(Some(rel(&text()?))),
            "depth" => a.depth = a.depth.take().or(Some(text()?)),
            "frames" => {
                if a.frames.is_none() {
                    a.frames = Some(FrameRange::parse(&text()?)?);
                }
            }
            "scale" => {
                if let Value::Number(s) = value {
                    a.scale = *s;
                }
            }
            "fps" => {
                if let (Value::Number(f), 0) = (value, a.fps) {
                    a.fps = (*f as u32).clamp(1, 240);
                }
            }
            other => return Err(format!("{}: unknown setting '{other}' (plate, mask, background, output, depth, frames, scale, fps)", path.display())),
        }
    }
    a.params.extend(shot.params);
    Ok(())
}
