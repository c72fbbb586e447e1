//! Command-line arguments (clap). Everything a shot file says can also be given as
//! a flag; flags win over the shot file.

use crate::sequence::FrameRange;
use crate::shot::{self, Value};
use clap::Parser;
use std::path::{Path, PathBuf};

const AFTER_HELP: &str = "\
Examples:
  collapse-render --plate plates/shot.####.exr --out renders/collapse.####.exr \\
      --frames 25-48 --set bottomLeft=663,141 --set size=498,900 --set seed=7
  collapse-render --shot shot.toml --first 25 --last 48

Environment:
  COLLAPSE_BUNDLE          Default for --bundle.
  COLLAPSE_ORT_LIBRARY     ONNX Runtime library to use instead of the bundle's.
  COLLAPSE_TENSORRT_CACHE  Folder for TensorRT engines (device=GPU, useTensorRT=1).
  COLLAPSE_LOG             Plugin log level: error, warn, info (default), debug.

Exit codes:
  0 every frame rendered; 2 bad input (arguments, files, parameters, bundle);
  3 a render failed (the plugin's message is printed); 130 interrupted.";

/// Render a building collapse with the Collapse OpenFX plugin, headless.
///
/// It loads the plugin bundle through the OpenFX C ABI (the same host code as the
/// project's tests), reads a plate sequence, renders a frame range or a farm chunk
/// and writes an image sequence.
#[derive(Parser, Debug)]
#[command(name = "collapse-render", version, after_help = AFTER_HELP)]
struct Cli {
    /// Shot file (TOML: settings and a [params] table). Paths in it are relative to
    /// its folder. Flags override it.
    #[arg(long, value_name = "FILE", help_heading = "Inputs and outputs")]
    shot: Option<PathBuf>,
    /// Source plate: a sequence (plate.####.exr, plate.%04d.png) or a still used for
    /// every frame. EXR (half/float), PNG (8/16-bit), JPEG.
    #[arg(long, value_name = "PATTERN", help_heading = "Inputs and outputs")]
    plate: Option<String>,
    /// Optional matte of the building (its alpha, or luminance of RGB files).
    #[arg(long, value_name = "PATTERN", help_heading = "Inputs and outputs")]
    mask: Option<String>,
    /// Optional clean plate of what stands behind the building.
    #[arg(long, value_name = "PATTERN", help_heading = "Inputs and outputs")]
    background: Option<String>,
    /// Output sequence (.exr, .png or .jpg). Written atomically: a failed frame never
    /// leaves a partial file.
    #[arg(long, value_name = "PATTERN", help_heading = "Inputs and outputs")]
    out: Option<String>,
    /// Output file depth: 8, 16 (PNG), half, float (EXR). Default: 8 for PNG/JPEG,
    /// half for EXR.
    #[arg(long, value_name = "D", help_heading = "Inputs and outputs")]
    depth: Option<String>,

    /// 12, 1-96 or 1-96x2 (every second frame).
    #[arg(long, value_name = "RANGE", value_parser = FrameRange::parse, help_heading = "Frames")]
    frames: Option<FrameRange>,
    /// First frame of the range (a farm chunk: --first 25 --last 48).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        requires = "last",
        help_heading = "Frames"
    )]
    first: Option<i64>,
    /// Last frame of the range.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        requires = "first",
        help_heading = "Frames"
    )]
    last: Option<i64>,
    /// Render every Nth frame of the range.
    #[arg(long, value_name = "N", help_heading = "Frames")]
    step: Option<i64>,

    /// Set a plugin parameter by its script name, e.g. --set seed=7
    /// --set bottomLeft=663,141 --set output=Matte --set device=GPU. Choices take
    /// their label or index; colours take r,g,b.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set, help_heading = "Parameters")]
    set: Vec<(String, Value)>,
    /// Print every parameter with its type and default, then exit.
    #[arg(long, help_heading = "Parameters")]
    list_params: bool,

    /// Collapse.ofx.bundle to load. Default: $COLLAPSE_BUNDLE, then target/ofx next
    /// to this program, then $OFX_PLUGIN_PATH, /usr/OFX/Plugins.
    #[arg(long, value_name = "DIR", help_heading = "Rendering")]
    bundle: Option<PathBuf>,
    /// Render scale (0.5 = half-resolution proxy). Default 1.
    #[arg(long, value_name = "S", value_parser = parse_scale, help_heading = "Rendering")]
    scale: Option<f64>,
    /// Render each frame in tiles of WxH pixels (as a host would).
    #[arg(long, value_name = "WxH", value_parser = parse_tile, help_heading = "Rendering")]
    tile: Option<(i32, i32)>,
    /// Render tiles from N threads at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..), help_heading = "Rendering")]
    threads: u16,
    /// The OFX context to create the effect in.
    #[arg(long, value_name = "C", default_value = "general", ignore_case = true,
          value_parser = ["general", "filter"], help_heading = "Rendering")]
    context: String,

    /// Append one line per rendered frame to FILE: the frame number, the SHA-256 of
    /// its pixels (float RGBA, top row first, as rendered, before the file's own
    /// encoding) and the file written. Compare these across farm nodes.
    #[arg(long, value_name = "FILE", help_heading = "Inputs and outputs")]
    checksums: Option<PathBuf>,

    /// Write a PNG contact sheet of 8 frames of the render.
    #[arg(long, value_name = "FILE", help_heading = "Previews")]
    contact_sheet: Option<PathBuf>,
    /// Write an animated GIF of the render.
    #[arg(long, value_name = "FILE", help_heading = "Previews")]
    preview: Option<PathBuf>,
    /// Write an MP4 of the render when ffmpeg is installed.
    #[arg(long, value_name = "FILE", help_heading = "Previews")]
    mp4: Option<PathBuf>,
    /// Frame rate of the previews (default 24, or the shot's fps).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=240), help_heading = "Previews")]
    fps: Option<u32>,

    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

/// What the renderer does: the command line and the shot file, resolved.
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
    pub checksums: Option<PathBuf>,
    pub contact_sheet: Option<PathBuf>,
    pub preview: Option<PathBuf>,
    pub mp4: Option<PathBuf>,
    pub fps: u32,
    pub quiet: bool,
    pub list_params: bool,
}

/// Why parsing stopped without a run.
pub enum Stop {
    /// --help or --version: print it and exit 0.
    Info(clap::Error),
    /// Bad arguments or a bad shot file (exit 2).
    Bad(String),
}

/// Parses the command line (with the program name first).
pub fn parse<I, T>(argv: I) -> Result<Args, Stop>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(argv).map_err(|e| match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            Stop::Info(e)
        }
        _ => Stop::Bad(e.render().to_string().trim_end().to_string()),
    })?;
    resolve(cli).map_err(Stop::Bad)
}

fn resolve(cli: Cli) -> Result<Args, String> {
    let mut a = Args {
        plate: cli.plate,
        mask: cli.mask,
        background: cli.background,
        out: cli.out,
        frames: cli.frames,
        depth: cli.depth,
        params: Vec::new(),
        bundle: cli.bundle,
        scale: cli.scale.unwrap_or(1.0),
        tile: cli.tile,
        threads: cli.threads as usize,
        context: cli.context.to_ascii_lowercase(),
        checksums: cli.checksums,
        contact_sheet: cli.contact_sheet,
        preview: cli.preview,
        mp4: cli.mp4,
        fps: cli.fps.unwrap_or(0),
        quiet: cli.quiet,
        list_params: cli.list_params,
    };
    if let Some(path) = &cli.shot {
        apply_shot(&mut a, path, cli.scale.is_some())?;
    }
    a.params.extend(cli.set);
    let step = cli.step.unwrap_or(1);
    match (cli.first, cli.last) {
        (Some(f), Some(l)) => a.frames = Some(FrameRange::new(f, l, step)?),
        _ if step != 1 => {
            let r = a.frames.ok_or("--step needs a frame range")?;
            a.frames = Some(FrameRange::new(r.first, r.last, step)?);
        }
        _ => {}
    }
    if a.fps == 0 {
        a.fps = 24;
    }
    Ok(a)
}

fn parse_scale(v: &str) -> Result<f64, String> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= 1.0)
        .ok_or_else(|| "must be a number in (0, 1]".to_string())
}

fn parse_tile(v: &str) -> Result<(i32, i32), String> {
    let (w, h) = v
        .split_once('x')
        .ok_or_else(|| format!("takes WxH, not '{v}'"))?;
    let size = |s: &str| {
        s.trim()
            .parse::<i32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("sizes must be positive whole numbers, not '{s}'"))
    };
    Ok((size(w)?, size(h)?))
}

/// `--set NAME=VALUE`: a list `1,2`, else a TOML value (number, true/false,
/// "quoted text"), else the text as typed (a choice label, a path).
fn parse_set(v: &str) -> Result<(String, Value), String> {
    let (name, val) = v
        .split_once('=')
        .ok_or_else(|| format!("takes NAME=VALUE, not '{v}'"))?;
    let (name, val) = (name.trim(), val.trim());
    if name.is_empty() {
        return Err(format!("takes NAME=VALUE, not '{v}'"));
    }
    let value = if val.contains(',') && !val.starts_with(['"', '[']) {
        let nums: Option<Vec<f64>> = val.split(',').map(|s| s.trim().parse().ok()).collect();
        nums.map(Value::List)
    } else {
        shot::parse_value(val).ok()
    };
    Ok((
        name.to_string(),
        value.unwrap_or_else(|| Value::Text(val.to_string())),
    ))
}

fn apply_shot(a: &mut Args, path: &Path, scale_given: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read shot file {}: {e}", path.display()))?;
    let shot = shot::parse(&text).map_err(|e| format!("shot file {}: {e}", path.display()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ".".into());
    let rel = |p: String| {
        if Path::new(&p).is_absolute() {
            p
        } else {
            dir.join(p).display().to_string()
        }
    };
    a.plate = a.plate.take().or(shot.plate.map(rel));
    a.mask = a.mask.take().or(shot.mask.map(rel));
    a.background = a.background.take().or(shot.background.map(rel));
    a.out = a.out.take().or(shot.output.map(rel));
    a.depth = a.depth.take().or(shot.depth);
    if a.frames.is_none() {
        if let Some(f) = &shot.frames {
            a.frames = Some(
                FrameRange::parse(f)
                    .map_err(|e| format!("shot file {}: frames: {e}", path.display()))?,
            );
        }
    }
    if let (Some(s), false) = (shot.scale, scale_given) {
        a.scale = parse_scale(&s.to_string())
            .map_err(|e| format!("shot file {}: scale {e}", path.display()))?;
    }
    if let (Some(f), 0) = (shot.fps, a.fps) {
        a.fps = (f.round() as u32).clamp(1, 240);
    }
    a.params.extend(shot.params);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> Result<Args, String> {
        let argv = std::iter::once("collapse-render").chain(line.iter().copied());
        parse(argv).map_err(|stop| match stop {
            Stop::Info(e) => format!("info: {e}"),
            Stop::Bad(e) => e,
        })
    }

    #[test]
    fn every_flag_of_the_old_command_line_still_means_the_same() {
        let a = args(&[
            "--plate",
            "p.####.exr",
            "--mask",
            "m.png",
            "--background",
            "b.png",
            "--out",
            "o.####.png",
            "--depth",
            "16",
            "--first",
            "25",
            "--last",
            "48",
            "--step",
            "2",
            "--set",
            "seed=7",
            "--set",
            "bottomLeft=663,141",
            "--set",
            "output=Matte",
            "--set",
            "halfPrecision=true",
            "--set",
            "model=\"/a b.onnx\"",
            "--bundle",
            "/x/Collapse.ofx.bundle",
            "--scale",
            "0.5",
            "--tile",
            "256x128",
            "--threads",
            "4",
            "--context",
            "Filter",
            "--contact-sheet",
            "s.png",
            "--preview",
            "p.gif",
            "--mp4",
            "p.mp4",
            "--fps",
            "25",
            "--quiet",
            "--list-params",
        ])
        .unwrap();
        assert_eq!(a.plate.as_deref(), Some("p.####.exr"));
        assert_eq!(a.mask.as_deref(), Some("m.png"));
        assert_eq!(a.background.as_deref(), Some("b.png"));
        assert_eq!(a.out.as_deref(), Some("o.####.png"));
        assert_eq!(a.depth.as_deref(), Some("16"));
        assert_eq!(a.frames, Some(FrameRange::new(25, 48, 2).unwrap()));
        assert_eq!(
            a.params,
            vec![
                ("seed".into(), Value::Number(7.0)),
                ("bottomLeft".into(), Value::List(vec![663.0, 141.0])),
                ("output".into(), Value::Text("Matte".into())),
                ("halfPrecision".into(), Value::Bool(true)),
                ("model".into(), Value::Text("/a b.onnx".into())),
            ]
        );
        assert_eq!(a.bundle, Some(PathBuf::from("/x/Collapse.ofx.bundle")));
        assert_eq!((a.scale, a.tile, a.threads), (0.5, Some((256, 128)), 4));
        assert_eq!(a.context, "filter");
        assert_eq!(a.contact_sheet, Some(PathBuf::from("s.png")));
        assert_eq!(a.preview, Some(PathBuf::from("p.gif")));
        assert_eq!(a.mp4, Some(PathBuf::from("p.mp4")));
        assert_eq!(a.fps, 25);
        assert!(a.quiet && a.list_params);
        let a = args(&["--frames", "1-96x4"]).unwrap();
        assert_eq!(a.frames, Some(FrameRange::new(1, 96, 4).unwrap()));
        assert_eq!(
            (a.scale, a.threads, a.fps, a.context.as_str()),
            (1.0, 1, 24, "general")
        );
        let a = args(&["--frames", "1-96", "--step", "3"]).unwrap();
        assert_eq!(a.frames, Some(FrameRange::new(1, 96, 3).unwrap()));
        let a = args(&["--first", "-5", "--last", "-1"]).unwrap();
        assert_eq!(a.frames, Some(FrameRange::new(-5, -1, 1).unwrap()));
    }

    #[test]
    fn bad_arguments_are_refused_with_the_flag_named() {
        for (line, says) in [
            (&["--bogus"][..], "--bogus"),
            (&["--scale", "2"], "--scale"),
            (&["--scale", "0"], "--scale"),
            (&["--tile", "0x5"], "--tile"),
            (&["--tile", "64"], "--tile"),
            (&["--threads", "0"], "--threads"),
            (&["--context", "paint"], "--context"),
            (&["--set", "seed"], "--set"),
            (&["--frames", "a-b"], "--frames"),
            (&["--first", "3"], "--last"),
            (&["--step", "2"], "--step"),
            (&["--fps", "0"], "--fps"),
            (&["--plate"], "--plate"),
        ] {
            let e = args(line).expect_err(&format!("{line:?} should be refused"));
            assert!(e.contains(says), "{line:?}: {e}");
        }
    }

    #[test]
    fn help_and_version_are_generated() {
        let help = args(&["--help"]).unwrap_err();
        for flag in [
            "--shot",
            "--plate",
            "--frames",
            "--set",
            "--tile",
            "--mp4",
            "Exit codes",
        ] {
            assert!(help.contains(flag), "--help lacks {flag}: {help}");
        }
        assert!(args(&["--version"])
            .unwrap_err()
            .contains(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn a_shot_file_fills_what_the_flags_leave() {
        let dir = std::env::temp_dir().join(format!("collapse-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shot = dir.join("shot.toml");
        std::fs::write(
            &shot,
            "plate = \"plate.png\"\noutput = \"frames/c.####.png\"\nframes = \"1-9\"\nfps = 30\nscale = 0.5\n\
             [params]\nseed = 3\nsize = [1, 2]\n",
        )
        .unwrap();
        let s = shot.to_str().unwrap();
        let a = args(&[
            "--shot", s, "--set", "seed=4", "--first", "2", "--last", "3",
        ])
        .unwrap();
        assert_eq!(a.plate, Some(dir.join("plate.png").display().to_string()));
        assert_eq!(
            a.out,
            Some(dir.join("frames/c.####.png").display().to_string())
        );
        assert_eq!(a.frames, Some(FrameRange::new(2, 3, 1).unwrap()));
        assert_eq!((a.fps, a.scale), (30, 0.5));
        // Flags come after the shot's parameters, so they win when applied in order.
        assert_eq!(
            a.params.last(),
            Some(&("seed".to_string(), Value::Number(4.0)))
        );
        let a = args(&["--shot", s, "--scale", "1", "--fps", "12"]).unwrap();
        assert_eq!(
            (a.fps, a.scale, a.frames),
            (12, 1.0, Some(FrameRange::new(1, 9, 1).unwrap()))
        );
        std::fs::write(&shot, "plate = \"p.png\"\nscale = 3\n").unwrap();
        let e = args(&["--shot", s]).unwrap_err();
        assert!(e.contains("scale"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
