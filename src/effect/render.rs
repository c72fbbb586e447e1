//! Render orchestration: fetch the images, build the model's tensors over the
//! source window (with the clean plate: the Background clip's, or synthesized),
//! run the model over the affected part of the render window, and write
//! composite / element / matte / clean plate.

use super::describe::{BACKGROUND, MASK, OUTPUT_CLIP, SOURCE};
use super::element_cache::{self, Kind, MAX_PIXELS};
use super::geometry::{region, Geometry, MAX_SOURCE_PIXELS};
use super::params::{OutputMode, Settings};
use crate::inference::{
    self, clean_plate, matte, scene, ExecutionDevice, Fingerprint, FrameInputs, LoadedModel,
    ModelRequest, OutputGrid, SCENE_LEN,
};
use crate::ofx;
use crate::ofx::{Image, Instance, MessageLevel, OfxError, OfxResult, RectI, RenderArgs};
use ndarray::Array4;
use std::sync::Arc;

/// What `settings` ask to run: model file, device and precision.
pub fn model_request(settings: &Settings) -> OfxResult<ModelRequest> {
    let path = if settings.model.trim().is_empty() {
        ofx::resources_dir()
            .map(|r| r.join(super::params::BUNDLED_MODEL_FILES[settings.bundled_model]))
            .ok_or_else(|| {
                OfxError::failed("cannot locate the plugin bundle to find its default model")
            })?
    } else {
        settings.model.trim().into()
    };
    Ok(ModelRequest {
        path,
        device: settings.device,
        half: settings.half_precision,
        tensorrt: settings.use_tensorrt,
    })
}

/// The model for the current settings, or an error the artist can act on.
pub fn model_for(settings: &Settings) -> OfxResult<Arc<LoadedModel>> {
    inference::load_model(&model_request(settings)?).map_err(|e| OfxError::failed(e.message))
}

/// The frame whose plate the per-shot stages read (the matte estimate, the synthesized
/// clean plate): the collapse's start frame, where the building still stands and no
/// dust hides it, within the Source's frame range. So they are the same at every frame
/// of a plate sequence: a fill that does not boil with the plate's grain, computed once.
pub fn reference_frame(settings: &Settings, source: &ofx::Clip) -> f64 {
    let t = settings.start_frame.round();
    match source.frame_range() {
        Some((first, last)) if first <= last => t.clamp(first, last),
        _ => t,
    }
}

/// The Source over `source_px` at the reference frame, when that is not `time`; `None`:
/// this frame's own plate (also when the host gives no image there, which is logged).
fn reference_plate(
    source: &ofx::Clip,
    settings: &Settings,
    time: f64,
    geo: &Geometry,
    source_px: RectI,
) -> Option<Array4<f32>> {
    let reference = reference_frame(settings, source);
    if reference == time {
        return None;
    }
    match source.image(reference, Some(geo.to_canonical(source_px))) {
        Ok(img) => Some(planar_rgba(&img, source_px)),
        Err(e) => {
            log::warn!("Collapse: no Source image at the reference frame {reference} ({e}); the clean plate and matte come from frame {time}");
            None
        }
    }
}

/// The collapse at `time`: its model and geometry, or `None` while it leaves the
/// plate untouched (no region, or before the start frame unless the output is
/// the clean plate, which is the same at every frame).
pub fn collapse_at(
    settings: &Settings,
    time: f64,
    scale: (f64, f64),
    pixel_aspect: f64,
) -> OfxResult<Option<(Arc<LoadedModel>, Geometry)>> {
    let rect = region(settings.bottom_left, settings.size);
    let before_start = settings.progress(time) <= 0.0 && settings.output != OutputMode::CleanPlate;
    if rect.is_empty() || before_start {
        return Ok(None);
    }
    let model = model_for(settings)?;
    let contract = &model.contract;
    let geo = Geometry::new(
        rect,
        &contract.reach,
        &contract.context,
        scale,
        pixel_aspect,
    );
    Ok(Some((model, geo)))
}

pub fn render(inst: &Instance, args: &RenderArgs) -> OfxResult<()> {
    let settings = Settings::read(&inst.params()?, args.time)?;
    let clips = inst.clips();
    let source_clip = clips.get(SOURCE)?;
    let mut out = clips.get(OUTPUT_CLIP)?.image(args.time, None)?;
    let window = args.window.intersect(&out.bounds());
    let progress = settings.progress(args.time);
    let active = if window.is_empty() {
        None
    } else {
        collapse_at(
            &settings,
            args.time,
            args.scale,
            source_clip.pixel_aspect_ratio(),
        )?
    };
    let Some((model, geo)) = active else {
        return write_unchanged(
            &mut out,
            &source_clip.image(args.time, None).ok(),
            window,
            settings.output,
        );
    };
    if let Some(w) = &model.warning {
        inst.set_persistent_message(MessageLevel::Warning, w);
    }
    let contract = &model.contract;
    let rect = geo.region;
    let work = window.intersect(&geo.to_pixels(geo.affected));
    if work.is_empty() {
        let plate = source_clip.image(args.time, Some(geo.to_canonical(window)))?;
        return write_unchanged(&mut out, &Some(plate), window, settings.output);
    }
    // What the model reads: the source window, within the Source's region of definition
    // (outside it the plate is transparent black anyway). Both are fixed for the frame.
    let source_rod = geo.to_pixels(source_clip.region_of_definition(args.time)?);
    let source_px = geo.to_pixels(geo.source).intersect(&source_rod);
    if source_px.width() as i64 * source_px.height() as i64 > MAX_SOURCE_PIXELS {
        return Err(OfxError::failed(format!(
            "the region is too large: its source window would be {}x{} pixels",
            source_px.width(),
            source_px.height()
        )));
    }
    if source_px.is_empty() {
        let plate = source_clip.image(args.time, Some(geo.to_canonical(window)))?;
        return write_unchanged(&mut out, &Some(plate), window, settings.output);
    }
    let fetch = geo.to_canonical(source_px).union(&geo.to_canonical(window));
    let clock = std::time::Instant::now();
    let plate_img = source_clip.image(args.time, Some(fetch))?;
    let fetched = clock.elapsed();

    // Optional inputs. Some hosts report a clip as connected and then give no
    // image for it: render as if it were not connected, and say so.
    let optional = |name: &str| {
        let clip = clips.get(name).ok().filter(|c| c.is_connected())?;
        match clip.image(args.time, Some(geo.to_canonical(source_px))) {
            Ok(img) => Some(img),
            Err(e) => {
                let text = format!(
                    "Collapse: the {name} input is connected but gave no image at frame {} ({e}); rendered without it",
                    args.time
                );
                log::warn!("{text}");
                inst.set_persistent_message(MessageLevel::Warning, &text);
                None
            }
        }
    };
    let background_img = optional(BACKGROUND);
    let mask_img = optional(MASK);

    let plate_t = planar_rgba(&plate_img, source_px);
    // The reference frame's plate, for the plugin's per-shot stages (with both a Mask
    // and a Background they read no plate) and a package's.
    let reference = (mask_img.is_none() || background_img.is_none() || model.is_package())
        .then(|| reference_plate(&source_clip, &settings, args.time, &geo, source_px))
        .flatten();
    let stages = Stages::of(
        inst,
        reference.as_ref().unwrap_or(&plate_t),
        coverage(&geo, mask_img.as_ref(), source_px),
        mask_img.is_some(),
        background_img
            .as_ref()
            .map(|img| planar_rgba(img, source_px)),
        &geo,
        settings.seed,
    )?;
    let (mask_t, hole, background_t) = (stages.mask(), stages.hole(), stages.background());
    if settings.output == OutputMode::CleanPlate {
        write_unchanged(&mut out, &Some(plate_img), window, OutputMode::Composite)?;
        write_clean_plate(&mut out, (&plate_t, &background_t, hole), source_px, window);
        return Ok(());
    }

    let mut scene_v = [0.0f32; SCENE_LEN];
    scene_v[scene::PROGRESS] = progress as f32;
    scene_v[scene::FRAMES] = (args.time - settings.start_frame) as f32;
    scene_v[scene::DURATION] = settings.duration as f32;
    scene_v[scene::SEED] = settings.seed as f32;
    scene_v[scene::SCALE_X] = geo.sx as f32;
    scene_v[scene::SCALE_Y] = geo.sy as f32;
    scene_v[scene::SOURCE_LEFT] = (source_px.x1 as f64 / geo.sx) as f32;
    scene_v[scene::SOURCE_TOP] = (source_px.y2 as f64 / geo.sy) as f32;
    scene_v[scene::REGION_LEFT] = rect.x1 as f32;
    scene_v[scene::REGION_BOTTOM] = rect.y1 as f32;
    scene_v[scene::REGION_WIDTH] = (rect.x2 - rect.x1) as f32;
    scene_v[scene::REGION_HEIGHT] = (rect.y2 - rect.y1) as f32;
    // A clean plate is always given: the Background clip's, or the synthesized one.
    scene_v[scene::HAS_BACKGROUND] = 1.0;
    // A matte is always given: the Mask clip's, or the plugin's estimate.
    scene_v[scene::HAS_MASK] = 1.0;
    scene_v[scene::MASK_ESTIMATED] = mask_img.is_none() as i32 as f32;
    scene_v[scene::BACKGROUND_SYNTHESIZED] = background_img.is_none() as i32 as f32;

    let inputs = FrameInputs {
        plate: plate_t,
        shot_plate: reference,
        background: background_t,
        mask: mask_t,
        scene: scene_v,
        controls: contract.control_values(&settings.controls),
    };
    let built = clock.elapsed();
    let run = |over: RectI| {
        let grid = OutputGrid {
            left: (over.x1 as f64 + 0.5) / geo.sx,
            top: (over.y2 as f64 - 0.5) / geo.sy,
            step_x: 1.0 / geo.sx,
            step_y: 1.0 / geo.sy,
            width: over.width() as usize,
            height: over.height() as usize,
        };
        let failed = |e: inference::InferenceError| match e.kind {
            inference::ErrorKind::Aborted => OfxError::aborted(),
            _ => OfxError::failed(e.message),
        };
        match model.run(&inputs, &grid, &|| inst.aborted()) {
            // A GPU that runs out of memory mid-shot: this frame on the CPU, with a
            // warning; the next frame tries the GPU again.
            Err(e)
                if e.kind == inference::ErrorKind::OutOfMemory
                    && model.device != ExecutionDevice::Cpu =>
            {
                let text = format!(
                    "Collapse: the {} ran out of memory at frame {}; this frame rendered on the CPU ({})",
                    model.device.label(),
                    args.time,
                    e.message
                );
                log::warn!("{text}");
                inst.set_persistent_message(MessageLevel::Warning, &text);
                let cpu = model_for(&Settings {
                    device: inference::DeviceRequest::Cpu,
                    ..settings.clone()
                })?;
                cpu.run(&inputs, &grid, &|| inst.aborted()).map_err(failed)
            }
            result => result.map_err(failed),
        }
    };
    // A host tile: the element of the whole frame's work, computed once for all
    // its tiles; a whole frame (or a frame too large to keep): just this work. A
    // package keeps its per-frame stages itself, so its tiles run only their pixels.
    let frame_work = geo.to_pixels(geo.affected).intersect(&source_rod);
    let tiled = work != frame_work && work.intersect(&frame_work) == work && !model.is_package();
    let (element, element_rect) =
        if tiled && frame_work.width() as i64 * frame_work.height() as i64 <= MAX_PIXELS {
            let key = fingerprint(&model, frame_work, stages.key, &inputs);
            let element =
                element_cache::get_or_compute(inst.id(), Kind::Element, key, || run(frame_work))?;
            (element, frame_work)
        } else {
            (Arc::new(run(work)?), work)
        };
    let ran = clock.elapsed();
    drop(inputs);
    write_result(
        &mut out,
        &plate_img,
        window,
        work,
        (&element, element_rect),
        settings.output,
    );
    log::debug!(
        "render {}x{} at {}: fetch {:.1} ms, tensors {:.1} ms, model {:.1} ms, write {:.1} ms",
        window.width(),
        window.height(),
        args.time,
        fetched.as_secs_f64() * 1e3,
        (built - fetched).as_secs_f64() * 1e3,
        (ran - built).as_secs_f64() * 1e3,
        (clock.elapsed() - ran).as_secs_f64() * 1e3
    );
    Ok(())
}

/// Output where the collapse changes nothing: the plate (composite) or transparent black.
fn write_unchanged(
    out: &mut Image,
    source: &Option<Image>,
    window: RectI,
    mode: OutputMode,
) -> OfxResult<()> {
    let zeros = vec![0.0f32; window.width() as usize * 4];
    let mut scratch = Vec::new();
    for y in window.y1..window.y2 {
        match (mode, source) {
            (OutputMode::Composite | OutputMode::CleanPlate, Some(src)) => {
                out.copy_row_from(src, y, window.x1, window.x2, &mut scratch)
            }
            _ => out.write_rgba(y, window.x1, window.x2, &zeros),
        }
    }
    Ok(())
}

/// What a cached element depends on: the model, the rectangle it covers, and
/// every value the model reads: its image inputs through the stages'
/// fingerprint (which read the plate and give the mask and background), then
/// the scene and controls.
fn fingerprint(model: &LoadedModel, over: RectI, images: u64, inputs: &FrameInputs) -> u64 {
    let mut f = Fingerprint::new();
    f.bytes(model.path.to_string_lossy().as_bytes());
    f.bytes(model.device.label().as_bytes());
    f.word(model.contract.precision as u64);
    for v in [over.x1, over.y1, over.x2, over.y2] {
        f.word(v as u64);
    }
    f.word(images);
    f.floats(&inputs.scene);
    f.floats(&inputs.controls);
    f.finish()
}

/// Writes the window: the plate (or zeros) outside `work`, the chosen output
/// inside, from an element that covers `element_rect` (which holds `work`).
fn write_result(
    out: &mut Image,
    plate: &Image,
    window: RectI,
    work: RectI,
    (element, element_rect): (&[f32], RectI),
    mode: OutputMode,
) {
    let w = work.width() as usize;
    let (ew, eh) = (
        element_rect.width() as usize,
        element_rect.height() as usize,
    );
    let dx = (work.x1 - element_rect.x1) as usize;
    let mut scratch = Vec::new();
    let mut row = vec![0.0f32; w * 4];
    let zeros = vec![0.0f32; window.width() as usize * 4];
    for y in window.y1..window.y2 {
        match mode {
            OutputMode::Composite => {
                out.copy_row_from(plate, y, window.x1, window.x2, &mut scratch)
            }
            _ => out.write_rgba(y, window.x1, window.x2, &zeros),
        }
        if y < work.y1 || y >= work.y2 {
            continue;
        }
        let j = (element_rect.y2 - 1 - y) as usize; // element rows are top first
        if mode == OutputMode::Composite {
            plate.read_rgba(y, work.x1, work.x2, &mut row);
        }
        for i in 0..w {
            let at = j * ew + dx + i;
            let e = [
                element[at],
                element[eh * ew + at],
                element[2 * eh * ew + at],
                element[3 * eh * ew + at],
            ];
            let px = &mut row[i * 4..i * 4 + 4];
            match mode {
                OutputMode::Composite => {
                    if e == [0.0; 4] {
                        continue; // untouched: the plate, bit for bit
                    }
                    let a = e[3].clamp(0.0, 1.0);
                    for c in 0..4 {
                        let under = if px[c].is_finite() { px[c] } else { 0.0 };
                        px[c] = if a >= 1.0 {
                            e[c]
                        } else {
                            e[c] + (1.0 - a) * under
                        };
                    }
                }
                // (The clean plate is written before the model would run.)
                OutputMode::Element | OutputMode::CleanPlate => px.copy_from_slice(&e),
                OutputMode::Matte => px.fill(e[3].clamp(0.0, 1.0)),
            }
        }
        if mode == OutputMode::Composite {
            // Only the work span is rewritten; pixels left untouched above keep their bits.
            let plane = eh * ew;
            let touched = |i: usize| (0..4).any(|c| element[c * plane + j * ew + dx + i] != 0.0);
            write_changed(out, y, work.x1, &row, touched);
        } else {
            out.write_rgba(y, work.x1, work.x2, &row);
        }
    }
}

/// Writes composited pixels, leaving the copied plate bits wherever the element
/// is zero (`touched(i)` is false for column `i` of the row).
fn write_changed(out: &mut Image, y: i32, x1: i32, row: &[f32], touched: impl Fn(usize) -> bool) {
    let w = row.len() / 4;
    let mut i = 0;
    while i < w {
        if !touched(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < w && touched(i) {
            i += 1;
        }
        out.write_rgba(y, x1 + start as i32, x1 + i as i32, &row[start * 4..i * 4]);
    }
}

/// What the plugin's per-shot stages give the model over the source window
/// (`w` x `h`, rows top first), packed in one kept buffer: the building's matte
/// (the Mask clip's coverage, or `inference::matte`'s estimate), the hole the
/// clean plate fills (the matte grown by `HOLE_MARGIN`), and the clean plate (the
/// Background clip, or `inference::clean_plate`'s synthesis). They depend only on
/// the plate, the coverage, the Background, the seed and the render scale, so they
/// are computed once and kept for every frame and tile that shares them.
struct Stages {
    packed: Arc<Vec<f32>>,
    w: usize,
    h: usize,
    /// Fingerprint of everything the stages read (plate, coverage, Background,
    /// seed, scale), so of the model's image inputs too.
    key: u64,
}

impl Stages {
    fn of(
        inst: &Instance,
        plate: &Array4<f32>,
        coverage: Array4<f32>,
        mask_given: bool,
        background: Option<Array4<f32>>,
        geo: &Geometry,
        seed: i32,
    ) -> OfxResult<Stages> {
        let (h, w) = (plate.shape()[2], plate.shape()[3]);
        let plate_v = plate.as_slice().expect("the plate tensor is contiguous");
        let coverage_v = coverage.as_slice().expect("contiguous");
        let mut f = Fingerprint::new();
        f.word(u64::from_le_bytes(*b"stages01"));
        f.word(seed as u32 as u64);
        f.word(geo.sx.to_bits());
        f.word(mask_given as u64);
        f.floats(plate_v);
        f.floats(coverage_v);
        if let Some(bg) = &background {
            f.floats(bg.as_slice().expect("contiguous"));
        }
        let key = f.finish();
        let packed = element_cache::get_or_compute(inst.id(), Kind::Stages, key, || {
            let clock = std::time::Instant::now();
            let matte = if mask_given {
                coverage_v.to_vec()
            } else {
                matte::estimate(w, h, plate_v, coverage_v)
            };
            let hole = grow(
                &matte,
                w,
                h,
                (HOLE_MARGIN * geo.sx).ceil().max(1.0) as usize,
            );
            let clean = match &background {
                Some(bg) => bg.as_slice().expect("contiguous").to_vec(),
                None => clean_plate::synthesize(w, h, plate_v, &hole, geo.sx, seed as u32),
            };
            log::debug!(
                "per-shot stages over {w}x{h} ({}{}) in {:.0} ms",
                if mask_given { "Mask" } else { "matte estimate" },
                if background.is_some() {
                    ", Background"
                } else {
                    ", synthesized clean plate"
                },
                clock.elapsed().as_secs_f64() * 1e3
            );
            let mut packed = matte;
            packed.extend_from_slice(&hole);
            packed.extend_from_slice(&clean);
            Ok::<_, OfxError>(packed)
        })?;
        Ok(Stages { packed, w, h, key })
    }

    fn mask(&self) -> Array4<f32> {
        let n = self.w * self.h;
        Array4::from_shape_vec((1, 1, self.h, self.w), self.packed[..n].to_vec())
            .expect("the window's shape")
    }

    fn hole(&self) -> &[f32] {
        let n = self.w * self.h;
        &self.packed[n..2 * n]
    }

    fn background(&self) -> Array4<f32> {
        let n = self.w * self.h;
        Array4::from_shape_vec((1, 4, self.h, self.w), self.packed[2 * n..].to_vec())
            .expect("the window's shape")
    }
}

/// How far beyond the building's coverage the clean plate replaces the plate, in
/// canonical pixels: covers an anti-aliased or slightly loose matte's fringe.
const HOLE_MARGIN: f64 = 3.0;

/// `mask` (w x h, rows top first) grown by `r` pixels: the maximum over a square.
fn grow(mask: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut rows = vec![0.0f32; w * h];
    for j in 0..h {
        let src = &mask[j * w..][..w];
        for i in 0..w {
            let (a, b) = (i.saturating_sub(r), (i + r + 1).min(w));
            rows[j * w + i] = src[a..b].iter().fold(0.0f32, |m, &v| m.max(v));
        }
    }
    let mut out = vec![0.0f32; w * h];
    for j in 0..h {
        let (a, b) = (j.saturating_sub(r), (j + r + 1).min(h));
        for i in 0..w {
            out[j * w + i] = (a..b).fold(0.0f32, |m, jj| m.max(rows[jj * w + i]));
        }
    }
    out
}

/// The clean plate output over the part of `window` inside `rect`: the clean
/// plate where the building stands (`hole`), the plate elsewhere (bit for bit
/// where `hole` is 0), mixed by the hole's cover; all planar over `rect`.
fn write_clean_plate(
    out: &mut Image,
    (plate, clean, hole): (&Array4<f32>, &Array4<f32>, &[f32]),
    rect: RectI,
    window: RectI,
) {
    let span = window.intersect(&rect);
    if span.is_empty() {
        return;
    }
    let (w, h) = (rect.width() as usize, rect.height() as usize);
    let (p, c) = (
        plate.as_slice().expect("contiguous"),
        clean.as_slice().expect("contiguous"),
    );
    let mut row = vec![0.0f32; span.width() as usize * 4];
    for y in span.y1..span.y2 {
        let j = (rect.y2 - 1 - y) as usize;
        let x1 = (span.x1 - rect.x1) as usize;
        let cover = &hole[j * w + x1..][..span.width() as usize];
        if cover.iter().all(|k| *k <= 0.0) {
            continue; // the plate, already written
        }
        for (k, &a) in cover.iter().enumerate() {
            let i = j * w + x1 + k;
            for ch in 0..4 {
                let (under, over) = (p[ch * w * h + i], c[ch * w * h + i]);
                row[k * 4 + ch] = if a >= 1.0 {
                    over
                } else {
                    under + (over - under) * a.max(0.0)
                };
            }
        }
        write_changed(out, y, span.x1, &row, |k| cover[k] > 0.0);
    }
}

/// An image over `rect` as a `[1, 4, H, W]` tensor, top row first; non-finite values become 0.
fn planar_rgba(img: &Image, rect: RectI) -> Array4<f32> {
    let (w, h) = (rect.width() as usize, rect.height() as usize);
    let mut t = Array4::<f32>::zeros((1, 4, h, w));
    let planes = t.as_slice_mut().expect("a new array is contiguous");
    let mut row = vec![0.0f32; w * 4];
    for j in 0..h {
        img.read_rgba(rect.y2 - 1 - j as i32, rect.x1, rect.x2, &mut row);
        for c in 0..4 {
            let plane_row = &mut planes[(c * h + j) * w..][..w];
            for (out, px) in plane_row.iter_mut().zip(row.chunks_exact(4)) {
                let v = px[c];
                *out = if v.is_finite() { v } else { 0.0 };
            }
        }
    }
    t
}

/// The building's coverage over the source window: the region rectangle
/// (anti-aliased at its edges), times the Mask clip's alpha when one is connected.
fn coverage(geo: &Geometry, mask: Option<&Image>, rect: RectI) -> Array4<f32> {
    let (w, h) = (rect.width() as usize, rect.height() as usize);
    let columns: Vec<f32> = (rect.x1..rect.x2)
        .map(|x| geo.region_coverage_x(x))
        .collect();
    let mut t = Array4::<f32>::zeros((1, 1, h, w));
    let plane = t.as_slice_mut().expect("a new array is contiguous");
    let mut row = vec![0.0f32; w * 4];
    for j in 0..h {
        let y = rect.y2 - 1 - j as i32;
        let row_cov = geo.region_coverage_y(y);
        let out = &mut plane[j * w..][..w];
        if row_cov == 0.0 {
            continue;
        }
        match mask {
            Some(m) => {
                m.read_rgba(y, rect.x1, rect.x2, &mut row);
                for ((o, col), px) in out.iter_mut().zip(&columns).zip(row.chunks_exact(4)) {
                    let a = if px[3].is_finite() {
                        px[3].clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    *o = row_cov * col * a;
                }
            }
            None => out
                .iter_mut()
                .zip(&columns)
                .for_each(|(o, col)| *o = row_cov * col),
        }
    }
    t
}
