//! Contact sheets and animated previews of a render.

use super::picture::Picture;
use image::imageops::{self, FilterType};
use image::RgbaImage;
use std::path::Path;

/// Thumbnail width in the contact sheet and the animated preview.
const THUMB_WIDTH: u32 = 480;

fn thumbnail(pic: &Picture, width: u32) -> RgbaImage {
    let img = pic.to_display_rgba8();
    let height =
        ((img.height() as f64 * width as f64 / img.width().max(1) as f64).round() as u32).max(1);
    imageops::resize(&img, width, height, FilterType::Triangle)
}

/// Collects thumbnails while frames render.
pub struct PreviewCollector {
    frames: Vec<(i64, RgbaImage)>,
}

impl PreviewCollector {
    pub fn new() -> Self {
        PreviewCollector { frames: Vec::new() }
    }

    pub fn add(&mut self, frame: i64, pic: &Picture) {
        self.frames.push((frame, thumbnail(pic, THUMB_WIDTH)));
    }

    /// A grid of up to `count` evenly spaced frames, four across.
    pub fn write_contact_sheet(&self, path: &Path, count: usize) -> Result<(), String> {
        if self.frames.is_empty() {
            return Err("no frames to put on a contact sheet".into());
        }
        let n = count.min(self.frames.len()).max(1);
        let picks: Vec<&RgbaImage> = (0..n)
            .map(|i| &self.frames[i * (self.frames.len() - 1) / (n - 1).max(1)].1)
            .collect();
        let (tw, th) = (picks[0].width(), picks[0].height());
        let cols = n.min(4) as u32;
        let rows = n.div_ceil(cols as usize) as u32;
        let gap = 6;
        let mut sheet = RgbaImage::from_pixel(
            cols * tw + (cols + 1) * gap,
            rows * th + (rows + 1) * gap,
            image::Rgba([24, 24, 24, 255]),
        );
        for (i, thumb) in picks.iter().enumerate() {
            let (c, r) = (i as u32 % cols, i as u32 / cols);
            imageops::overlay(
                &mut sheet,
                *thumb,
                (gap + c * (tw + gap)) as i64,
                (gap + r * (th + gap)) as i64,
            );
        }
        sheet
            .save(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// An animated GIF of every collected frame at `fps`.
    pub fn write_gif(&self, path: &Path, fps: u32) -> Result<(), String> {
        use image::codecs::gif::{GifEncoder, Repeat};
        use image::{Delay, Frame};
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let mut enc = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
        enc.set_repeat(Repeat::Infinite)
            .map_err(|e| e.to_string())?;
        let delay = Delay::from_numer_denom_ms(1000, fps.max(1));
        for (_, img) in &self.frames {
            let small = imageops::resize(
                img,
                320,
                (img.height() * 320 / img.width().max(1)).max(1),
                FilterType::Triangle,
            );
            enc.encode_frame(Frame::from_parts(small, 0, 0, delay))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// Encodes an MP4 with ffmpeg when it is installed; returns false when it is not.
pub fn write_mp4(frames: &[std::path::PathBuf], path: &Path, fps: u32) -> Result<bool, String> {
    if std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_err()
    {
        return Ok(false);
    }
    let list = path.with_extension("ffconcat");
    let body: String = std::iter::once("ffconcat version 1.0\n".to_string())
        .chain(frames.iter().map(|f| {
            format!(
                "file '{}'\nduration {}\n",
                f.canonicalize().unwrap_or(f.clone()).display(),
                1.0 / fps as f64
            )
        }))
        .collect();
    std::fs::write(&list, body).map_err(|e| e.to_string())?;
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-y",
            "-loglevel",
            "error",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
        ])
        .arg(&list)
        .args([
            "-vf",
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
            "-pix_fmt",
            "yuv420p",
            "-r",
        ])
        .arg(fps.to_string())
        .arg(path)
        .status()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&list);
    if status.success() {
        Ok(true)
    } else {
        Err(format!("ffmpeg failed to write {}", path.display()))
    }
}
