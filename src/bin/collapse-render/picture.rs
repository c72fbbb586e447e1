//! Reading and writing image files as float RGBA pictures.
//!
//! PNG and JPEG (8 or 16 bit) are read as they are stored (display-referred
//! values scaled to 0..1); OpenEXR (half or float) keeps its linear values.
//! Files are written to a temporary name and renamed, so a failed frame never
//! leaves a half-written file behind.

use std::path::{Path, PathBuf};

/// RGBA, top row first, 4 floats a pixel.
#[derive(Clone, Debug)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
    /// True for scene-linear data (EXR): previews apply the sRGB curve.
    pub linear: bool,
}

/// How to store samples in files that offer a choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileDepth {
    Eight,
    Sixteen,
    Half,
    Float,
}

fn is_exr(path: &Path) -> bool {
    path.extension()
        .map(|e| e.eq_ignore_ascii_case("exr"))
        .unwrap_or(false)
}

pub fn read(path: &Path) -> Result<Picture, String> {
    if !path.is_file() {
        return Err(format!(
            "{} does not exist or is not a file",
            path.display()
        ));
    }
    if is_exr(path) {
        read_exr(path)
    } else {
        let img = image::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let rgba = img.to_rgba32f();
        Ok(Picture {
            width: rgba.width() as usize,
            height: rgba.height() as usize,
            data: rgba.into_raw(),
            linear: false,
        })
    }
}

fn read_exr(path: &Path) -> Result<Picture, String> {
    use exr::prelude::*;
    let image = read_first_rgba_layer_from_file(
        path,
        |resolution, _| {
            (
                resolution.width(),
                resolution.height(),
                vec![0.0f32; resolution.width() * resolution.height() * 4],
            )
        },
        |(w, _h, data), position, (r, g, b, a): (f32, f32, f32, f32)| {
            let i = (position.y() * *w + position.x()) * 4;
            data[i..i + 4].copy_from_slice(&[r, g, b, a]);
        },
    )
    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (width, height, data) = image.layer_data.channel_data.pixels;
    Ok(Picture {
        width,
        height,
        data,
        linear: true,
    })
}

/// Writes atomically: `name.tmp` then rename.
pub fn write(path: &Path, pic: &Picture, depth: FileDepth) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = temp_name(path);
    let result = write_to(&tmp, path, pic, depth).and_then(|_| {
        std::fs::rename(&tmp, path)
            .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_to(tmp: &Path, path: &Path, pic: &Picture, depth: FileDepth) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (w, h) = (pic.width, pic.height);
    match ext.as_str() {
        "exr" => {
            use exr::prelude::*;
            let get = |x: usize, y: usize| {
                let i = (y * w + x) * 4;
                (
                    pic.data[i],
                    pic.data[i + 1],
                    pic.data[i + 2],
                    pic.data[i + 3],
                )
            };
            if depth == FileDepth::Half {
                write_rgba_file(tmp, w, h, |x, y| {
                    let (r, g, b, a) = get(x, y);
                    (
                        f16::from_f32(r),
                        f16::from_f32(g),
                        f16::from_f32(b),
                        f16::from_f32(a),
                    )
                })
                .map_err(|e| err(&e))
            } else {
                write_rgba_file(tmp, w, h, get).map_err(|e| err(&e))
            }
        }
        "png" | "jpg" | "jpeg" => {
            let fmt = if ext == "png" {
                image::ImageFormat::Png
            } else {
                image::ImageFormat::Jpeg
            };
            let data: Vec<f32> = if pic.linear {
                pic.data
                    .chunks(4)
                    .flat_map(|p| [srgb(p[0]), srgb(p[1]), srgb(p[2]), p[3]])
                    .collect()
            } else {
                pic.data.clone()
            };
            let q = |v: f32, max: f32| (v.clamp(0.0, 1.0) * max).round();
            if ext == "png" && depth == FileDepth::Sixteen {
                let buf: Vec<u16> = data.iter().map(|v| q(*v, 65535.0) as u16).collect();
                let img =
                    image::ImageBuffer::<image::Rgba<u16>, _>::from_raw(w as u32, h as u32, buf)
                        .ok_or_else(|| err(&"bad size"))?;
                img.save_with_format(tmp, fmt).map_err(|e| err(&e))
            } else if ext == "png" {
                let buf: Vec<u8> = data.iter().map(|v| q(*v, 255.0) as u8).collect();
                let img = image::RgbaImage::from_raw(w as u32, h as u32, buf)
                    .ok_or_else(|| err(&"bad size"))?;
                img.save_with_format(tmp, fmt).map_err(|e| err(&e))
            } else {
                let buf: Vec<u8> = data
                    .chunks(4)
                    .flat_map(|p| {
                        [
                            q(p[0], 255.0) as u8,
                            q(p[1], 255.0) as u8,
                            q(p[2], 255.0) as u8,
                        ]
                    })
                    .collect();
                let img = image::RgbImage::from_raw(w as u32, h as u32, buf)
                    .ok_or_else(|| err(&"bad size"))?;
                img.save_with_format(tmp, fmt).map_err(|e| err(&e))
            }
        }
        other => Err(format!(
            "cannot write '{other}' files ({}): use .exr, .png or .jpg",
            path.display()
        )),
    }
}

/// Linear to sRGB display encoding.
pub fn srgb(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

impl Picture {
    /// 8-bit RGBA for previews, display-encoded.
    pub fn to_display_rgba8(&self) -> image::RgbaImage {
        let enc = |v: f32| {
            (if self.linear {
                srgb(v)
            } else {
                v.clamp(0.0, 1.0)
            } * 255.0)
                .round() as u8
        };
        let buf = self
            .data
            .chunks(4)
            .flat_map(|p| [enc(p[0]), enc(p[1]), enc(p[2]), 255])
            .collect();
        image::RgbaImage::from_raw(self.width as u32, self.height as u32, buf)
            .expect("buffer matches size")
    }
}
