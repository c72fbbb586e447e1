//! Clean plate: exemplar-based image completion ("content-aware fill").
//!
//! Synthesizes what stands behind a masked object (the building, before it collapses)
//! from the plate's own pixels, so that the revealed area shows continued sky, clouds,
//! gradients, foliage and distant structures with real texture.
//!
//! Algorithm (after Wexler, Shechtman & Irani 2007, "Space-time completion of video",
//! Barnes, Shechtman, Finkelstein & Goldman 2009, "PatchMatch", and the texture features
//! of Newson et al. 2014):
//! - A *working grid* is chosen in canonical units, independent of the render scale
//!   (about 40k working hole pixels, at most half the canonical resolution, on a grid of
//!   `2m` canonical pixels per cell), and filled by area-averaging the render-scale input.
//!   Matching uses gamma-encoded colour (plates are linear light) plus two texture
//!   features (mean absolute gradients), so coarse levels tell smooth from textured areas.
//! - A pyramid is built on it, down to a level where the hole is ~32 px thick. The
//!   coarsest hole is filled by onion peeling (ring by ring from the border inwards, each
//!   pixel copying the best match for its already-known neighbourhood).
//! - At each level, a few EM iterations: one PatchMatch pass (propagation + random search,
//!   7x7 patches, confidence-weighted SSD, plus a cost on vertical offsets so that sky
//!   gradients continue and a coherence reward for keeping neighbours' offsets), then a
//!   vote (each hole pixel = mean of what the overlapping patches propose, weighted by
//!   confidence, which decays into the hole, and by patch similarity). Source patches
//!   (clipped by the image) lie wholly in the known area. The NNF is then upsampled to
//!   the next finer level, which starts from a vote with it.
//! - The output at render resolution is a final vote that copies *render-resolution*
//!   pixels with the working NNF's offsets (nearest pixel, no resampling), with a short
//!   spatial falloff, so that where neighbouring cells agree the fill is an exact copy of
//!   source pixels: sharp texture, no blur.
//! - The fill is levelled with its surroundings in the gradient domain (`level_fill`),
//!   on the working grid and again at render resolution near the edge: a Poisson solve
//!   with the known pixels as boundary and the fill's own differences between neighbours
//!   as guidance, less their local mean near the edge. The vote blends the fill into its
//!   surroundings only within a patch's reach; the ramp from there to the fill's own
//!   level (copied from a brighter or darker part of the plate) would outline the
//!   building as a ghost. The ramp holds over many cells, texture does not: the one goes,
//!   the other stays.
//! - Where two neighbouring cells copy from places at different levels (a darker and a
//!   lighter part of a cloudy sky), a straight step runs through the fill: `seam_levels`
//!   measures each (what the two sources hold at the same place, box means) and solves a
//!   smooth correction that cancels the small ones, zero on the known cells. A large step
//!   is the edge of another thing, kept.
//! - Then the edges are matched (`match_edges`): the colour step between the hole's
//!   surroundings and the fill along its edge, smoothed, is spread over the hole and
//!   added, so a fill copied from a brighter or darker part of the plate leaves no
//!   outline of the building.
//!
//! Properties: deterministic (counter-based hashing of seed/level/iteration/pixel; the
//! parallel work is split in fixed bands, Jacobi-style across bands, so the result does
//! not depend on the thread count); render-scale consistent (the search happens on the
//! same canonical grid at full and proxy resolution); pixels outside the hole are
//! returned bit for bit; never panics and always yields finite hole values.

use std::sync::Mutex;

type Px = [f32; 4];
/// Working-grid pixel: premultiplied RGBA, two texture features, padding.
const NC: usize = 8;
type Wp = [f32; NC];
/// Weight of the texture features (mean absolute gradients) in the patch distance.
const FEAT_W: f32 = 2.0;

/// Patch radius on the working grid (7x7 patches).
const PR: i32 = 3;
/// Target number of hole pixels on the working grid.
const WORK_HOLE_PIXELS: f64 = 40_000.0;
/// Rows per parallel band; fixed, so that results do not depend on the thread count.
const BAND: usize = 16;
/// Cost of vertical source offsets, relative to the image variance, per (dy / height)^2.
const LAMBDA_V: f32 = 4.0;
/// Cost of not continuing a neighbour's offset (per missing neighbour of 4), relative
/// to the image variance.
const BETA_COH: f32 = 0.02;
/// Spatial falloff (in working cells) of the final render-resolution vote.
const VOTE_SIGMA: f32 = 1.0;
/// Vote weight falloff with patch distance, in units of its 75th percentile.
const VOTE_DIST_SCALE: f32 = 4.0;
/// Coarsest level: hole half-thickness (distance to the border) in pixels.
const COARSE_THICKNESS: f32 = 16.0;
/// Confidence decay per pixel of distance into the hole.
const CONF_GAMMA: f32 = 1.3;
/// `level_fill`: the vote's ramp toward the surroundings lies within about two patches'
/// reach of the known area (RAMP_CELLS working cells), and holds over more cells than
/// texture does (box means RAMP_RADIUS cells out).
const RAMP_CELLS: f32 = 2.0 * (PR + 1) as f32;
const RAMP_RADIUS: usize = 2;
/// `level_fill`: a ramp steeper than about this (perceptual units per working cell) is
/// an edge between things, kept.
const RAMP_STEEP: f32 = 0.02;
/// `level_fill`: the most sweeps (it stops once the largest change is under
/// LEVEL_TOLERANCE).
const LEVEL_SWEEPS: usize = 1000;
/// `seam_levels`: a step between copies larger than about this (perceptual units) is the
/// edge of another thing, kept.
const SEAM_STEP: f32 = 0.06;
const LEVEL_TOLERANCE: f32 = 1e-5;

/// Synthesizes the clean plate over a source window.
/// `rgba`: planar premultiplied RGBA, 4 planes of `width*height` f32, rows top-first
///   (plane c at rgba[c*w*h ..]); values may be NaN, infinite or negative (sanitize in your working copy).
/// `hole`: `width*height` coverage in [0,1] (may contain NaN: treat as 0); pixels with hole > 0 are synthesized.
/// `scale`: render scale (image pixels per canonical unit: 1 for a full render, 0.5 for a half-res proxy).
/// `seed`: the artist's seed; a different seed may give another (equally good) fill.
/// Returns 4 planes like `rgba`: every pixel with hole == 0 is bit-for-bit the input
/// value; hole pixels are synthesized (finite values). Never panics, for any sizes (0x0, 1x1,
/// hole covering everything or nothing): with no known pixels at all, fill with 0.
pub fn synthesize(
    width: usize,
    height: usize,
    rgba: &[f32],
    hole: &[f32],
    scale: f64,
    seed: u32,
) -> Vec<f32> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    synthesize_threads(width, height, rgba, hole, scale, seed, threads)
}

fn synthesize_threads(
    w: usize,
    h: usize,
    rgba: &[f32],
    hole: &[f32],
    scale: f64,
    seed: u32,
    threads: usize,
) -> Vec<f32> {
    let n = match w.checked_mul(h) {
        Some(n) if n.checked_mul(4).is_some() && n < (u32::MAX as usize) / 2 => n,
        _ => return rgba.to_vec(),
    };
    let mut out = rgba.to_vec();
    out.resize(4 * n, 0.0);
    if rgba.len() != 4 * n || hole.len() != n || n == 0 {
        return out;
    }
    let mask: Vec<bool> = hole.iter().map(|&c| c > 0.0).collect();
    let n_hole = mask.iter().filter(|&&m| m).count();
    if n_hole == 0 {
        return out;
    }
    if n_hole == n {
        for v in out.iter_mut() {
            *v = 0.0;
        }
        return out;
    }
    let src: Vec<Px> = (0..n)
        .map(|i| {
            [
                sanitize(rgba[i]),
                sanitize(rgba[n + i]),
                sanitize(rgba[2 * n + i]),
                sanitize(rgba[3 * n + i]),
            ]
        })
        .collect();
    let coverage: f64 = hole
        .iter()
        .map(|&c| if c > 0.0 { (c as f64).min(1.0) } else { 0.0 })
        .sum();
    let scale = if scale.is_finite() && scale > 1e-6 {
        scale
    } else {
        1.0
    };
    let fill = complete(w, h, &src, &mask, coverage, scale, seed, threads.max(1));
    for i in 0..n {
        if mask[i] {
            for c in 0..4 {
                let v = fill[i][c];
                out[c * n + i] = if v.is_finite() { v } else { 0.0 };
            }
        }
    }
    out
}

fn sanitize(v: f32) -> f32 {
    if v.is_finite() {
        v.clamp(-1.0e6, 1.0e6)
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------
// Driver

/// Fills the hole of `src` (render resolution); returns a render-size buffer whose hole
/// pixels hold the fill.
fn complete(
    w: usize,
    h: usize,
    src: &[Px],
    mask: &[bool],
    coverage: f64,
    scale: f64,
    seed: u32,
    threads: usize,
) -> Vec<Px> {
    // Working grid: cells of `2m` canonical pixels (so that the render/working ratio is an
    // integer at scale 1 and 0.5), about WORK_HOLE_PIXELS hole cells, never finer than render.
    let area_c = (coverage / (scale * scale)).max(1.0);
    let s_ideal = (WORK_HOLE_PIXELS / area_c).sqrt();
    let m = (0.5 / s_ideal).ceil().max(1.0);
    let s_w = (0.5 / m).min(scale);
    let mut r = scale / s_w;
    if (r - r.round()).abs() < 1e-9 {
        r = r.round();
    }
    let g0 = area_downsample(w, h, src, mask, r);
    if !g0.hole.iter().any(|&x| !x) {
        // Degenerate: no fully known working cell. Smooth fill at render resolution.
        let mut img = src.to_vec();
        let known: Vec<bool> = mask.iter().map(|&x| !x).collect();
        push_pull(w, h, &mut img, &known);
        return img;
    }

    // Pyramid, down to a hole ~2*COARSE_THICKNESS across.
    let thick = hole_thickness(&g0);
    let mut grids = vec![g0];
    let mut t = thick;
    while t > COARSE_THICKNESS && grids.len() < 10 {
        let next = downsample2(grids.last().unwrap());
        if next.w < 2 * PR as usize + 2 || next.h < 2 * PR as usize + 2 {
            break;
        }
        let known = next.hole.iter().filter(|&&x| !x).count();
        if known < 4 * (2 * PR as usize + 1).pow(2) {
            break;
        }
        grids.push(next);
        t *= 0.5;
    }
    let levels: Vec<Level> = grids.iter().map(Level::new).collect();
    let nl = levels.len();

    // Coarsest level: onion-peel fill from the border inwards, random NNF elsewhere.
    let top = nl - 1;
    let mut img = grids[top].img.clone();
    let mut nnf = random_nnf(&levels[top], seed, top as u32);
    onion_peel(&levels[top], &mut img, &mut nnf, threads);
    compute_dist(&levels[top], &img, &mut nnf, threads);

    for l in (0..nl).rev() {
        let lv = &levels[l];
        if l != top {
            // Upsample NNF and image from the coarser level, then re-vote at this resolution.
            let coarse = &levels[l + 1];
            let mut fine_img = grids[l].img.clone();
            for y in 0..lv.h {
                for x in 0..lv.w {
                    let i = y * lv.w + x;
                    if lv.hole[i] {
                        let cx = (x / 2).min(coarse.w - 1);
                        let cy = (y / 2).min(coarse.h - 1);
                        fine_img[i] = img[cy * coarse.w + cx];
                    }
                }
            }
            img = fine_img;
            nnf = upsample_nnf(lv, coarse, &nnf);
            compute_dist(lv, &img, &mut nnf, threads);
            vote(lv, &mut img, &nnf, threads);
        }
        let iters = if l == top {
            14
        } else if l == 0 {
            5
        } else {
            6
        };
        for it in 0..iters {
            pm_pass(lv, &img, &mut nnf, seed, l as u32, it as u32, threads);
            vote(lv, &mut img, &nnf, threads);
        }
    }
    compute_dist(&levels[0], &img, &mut nnf, threads);
    // The fill levelled with its surroundings (`level_fill`): on the working grid, where its
    // level is set, then at render resolution near the edge, where the vote's ramp shows.
    // And the steps between copies taken out (`seam_levels`).
    let mut change = level_working(&levels[0], &img);
    for (c, s) in change.iter_mut().zip(seam_levels(&levels[0], &img, &nnf)) {
        for k in 0..3 {
            c[k] += s[k];
        }
    }
    let mut fill = render_vote(w, h, src, mask, r, &levels[0], &img, &nnf, threads);
    add_level(w, h, mask, r, &levels[0], &change, &mut fill);
    match_edges(w, h, src, mask, &mut fill, scale);
    level_near_edge(w, h, src, mask, r, &mut fill);
    fill
}

/// `level_fill` on the working grid: the change per cell, perceptual RGB (zero on known
/// cells).
fn level_working(lv: &Level, img: &[Wp]) -> Vec<[f32; 3]> {
    let values: Vec<[f32; 3]> = img.iter().map(|p| [p[0], p[1], p[2]]).collect();
    let level = level_fill(
        lv.w,
        lv.h,
        &values,
        &lv.hole,
        &lv.dist,
        RAMP_CELLS,
        RAMP_RADIUS,
        RAMP_STEEP,
    );
    level
        .iter()
        .zip(&values)
        .map(|(f, g)| std::array::from_fn(|c| f[c] - g[c]))
        .collect()
}

/// Seams between copies, levelled. The fill is made of patches copied from different
/// places, and where two neighbouring cells copy from places at different levels (a
/// darker and a lighter part of a cloudy sky, of the glow over a horizon) a straight step
/// runs through the fill. At each such pair the step is the difference between what the
/// two sources hold at the same place (box means over a patch, so that texture averages
/// out); a correction that cancels it there, smooth elsewhere and zero on the known
/// cells, is solved on the working grid (perceptual RGB, per cell; zero on known ones).
/// Only small steps are taken out: a large one is the edge of another thing (a tree
/// against the sky), which is kept.
fn seam_levels(lv: &Level, img: &[Wp], nnf: &[Match]) -> Vec<[f32; 3]> {
    let (w, h) = (lv.w, lv.h);
    let sums: Vec<Vec<f64>> = (0..4)
        .map(|c| {
            integral(w, h, |i| match (lv.hole[i], c) {
                (true, _) => 0.0,
                (false, 3) => 1.0,
                (false, c) => img[i][c] as f64,
            })
        })
        .collect();
    // The known cells' mean over a patch around (x, y), if (x, y) is a known cell.
    let mean = |x: i32, y: i32| -> Option<[f32; 3]> {
        if x < 0 || y < 0 || x >= w as i32 || y >= h as i32 || lv.hole[y as usize * w + x as usize]
        {
            return None;
        }
        let (x0, y0, x1, y1) = around(w, h, x as usize, y as usize, PR as usize);
        let n = rect_sum(&sums[3], w, x0, y0, x1, y1).max(1.0);
        Some(std::array::from_fn(|c| {
            (rect_sum(&sums[c], w, x0, y0, x1, y1) / n) as f32
        }))
    };
    // The step from p's copy to q's (q = p + (dx, dy)), seen at p and at q.
    let step = |p: usize, q: usize| -> [f32; 3] {
        let (dx, dy) = ((q % w) as i32 - (p % w) as i32, (q / w - p / w) as i32);
        let (a, b) = (nnf[p], nnf[q]);
        if !lv.hole[p] || !lv.hole[q] || (b.x - a.x, b.y - a.y) == (dx, dy) {
            return [0.0; 3];
        }
        let seen = [
            mean(b.x - dx, b.y - dy).zip(mean(a.x, a.y)),
            mean(b.x, b.y).zip(mean(a.x + dx, a.y + dy)),
        ];
        let (mut sum, mut n) = ([0f32; 3], 0.0);
        for (to, from) in seen.into_iter().flatten() {
            for c in 0..3 {
                sum[c] += to[c] - from[c];
            }
            n += 1.0;
        }
        if n == 0.0 {
            return [0.0; 3];
        }
        let size = sum.iter().fold(0f32, |m, v| m.max(v.abs())) / n;
        let keep = 1.0 / (1.0 + (size / SEAM_STEP).powi(4));
        // (A correction whose value at p less that at q is the step cancels it.)
        sum.map(|v| keep * v / n)
    };
    let (right, down) = neighbour_pairs(w, h, step);
    solve_differences(
        w,
        h,
        &vec![[0.0; 3]; w * h],
        &lv.hole,
        &lv.dist,
        &right,
        &down,
    )
}

/// `level_fill` at render resolution (`r` render pixels per working cell), on the fill's
/// pixels near the edge: the residue of the vote's ramp lies there, within half the
/// working grid's reach.
fn level_near_edge(w: usize, h: usize, src: &[Px], mask: &[bool], r: f64, fill: &mut [Px]) {
    let ramp = 0.5 * RAMP_CELLS * r as f32;
    let dist = hole_distance(w, h, mask);
    let near: Vec<bool> = (0..w * h)
        .map(|i| mask[i] && dist[i] <= 2.0 * ramp)
        .collect();
    // (On the box of those pixels and the box means' reach around it.)
    let Some((x0, y0, x1, y1)) = bounding_box(w, h, &near, RAMP_RADIUS + 1) else {
        return;
    };
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let at = |i: usize| (y0 + i / bw) * w + x0 + i % bw;
    // (Deeper in, no value is read: a free pixel's pairs and the boxes around them reach
    // two box radii and two pixels, each a diagonal at most.)
    let reach = 2.0 * ramp + 1.5 * (2 * RAMP_RADIUS + 2) as f32;
    let values: Vec<[f32; 3]> = (0..bw * bh)
        .map(|i| {
            let p = match (mask[at(i)], dist[at(i)] <= reach) {
                (false, _) => src[at(i)],
                (true, true) => fill[at(i)],
                (true, false) => return [0.0; 3],
            };
            std::array::from_fn(|c| to_percept(p[c]))
        })
        .collect();
    let free: Vec<bool> = (0..bw * bh).map(|i| near[at(i)]).collect();
    let dist: Vec<f32> = (0..bw * bh).map(|i| dist[at(i)]).collect();
    let steep = RAMP_STEEP / r as f32;
    let level = level_fill(bw, bh, &values, &free, &dist, ramp, RAMP_RADIUS, steep);
    for i in (0..bw * bh).filter(|&i| free[i]) {
        for c in 0..3 {
            fill[at(i)][c] = from_percept(level[i][c]);
        }
    }
}

/// Per pair (`d`: each pixel's difference to the one `step` on), the mean over the pairs
/// inside the hole (both ends at `dist` > 0) in a box `radius` out: of the differences
/// (three channels) and of their size (the largest channel's magnitude).
fn local_mean(
    w: usize,
    h: usize,
    d: &[[f32; 3]],
    step: usize,
    dist: &[f32],
    radius: usize,
) -> Vec<[f32; 4]> {
    let inside = |p: usize| p + step < w * h && dist[p] > 0.0 && dist[p + step] > 0.0;
    let count = integral(w, h, |i| inside(i) as u8 as f64);
    let size = |v: &[f32; 3]| v.iter().fold(0f32, |a, x| a.max(x.abs()));
    let sums: Vec<Vec<f64>> = (0..4)
        .map(|c| {
            integral(w, h, |i| match (inside(i), c) {
                (false, _) => 0.0,
                (true, 3) => size(&d[i]) as f64,
                (true, c) => d[i][c] as f64,
            })
        })
        .collect();
    (0..w * h)
        .map(|p| {
            let (x0, y0, x1, y1) = around(w, h, p % w, p / w, radius);
            let n = rect_sum(&count, w, x0, y0, x1, y1).max(1.0);
            std::array::from_fn(|c| (rect_sum(&sums[c], w, x0, y0, x1, y1) / n) as f32)
        })
        .collect()
}

/// Levels a fill with its surroundings, in the gradient domain. The vote pulls the fill
/// toward the hole's surroundings only within a patch's reach of them; past that the
/// fill keeps the level of wherever it was copied from, and the step between the two (a
/// ramp a few cells wide, the same all along the edge) outlines the building as a pale or
/// dark ghost. So the `free` cells of `values` (perceptual RGB) are solved again
/// (Poisson; the others are its boundary) to have the same differences between
/// neighbours, less, within `ramp` of the known cells (`dist`; fading out over as far
/// again), their local mean (a box `radius` cells out): the ramp is the part of the
/// differences that holds over many cells, texture the part that does not. So the ramp
/// goes, texture stays, and the fill's level follows the surroundings'. Only where the
/// differences are small (under about `steep` a cell): a smooth fill, where a ghost shows;
/// not in texture, nor at the edge of another thing the fill goes on beside. Returns the
/// values, the free ones solved.
#[allow(clippy::too_many_arguments)]
fn level_fill(
    w: usize,
    h: usize,
    values: &[[f32; 3]],
    free: &[bool],
    dist: &[f32],
    ramp: f32,
    radius: usize,
    steep: f32,
) -> Vec<[f32; 3]> {
    // The guidance: differences to the right and downward neighbours, less their local
    // mean near the edge (twice: once leaves about a third of a ramp).
    let (mut right, mut down) = neighbour_pairs(w, h, |p, q| {
        std::array::from_fn(|c| values[p][c] - values[q][c])
    });
    for _ in 0..2 {
        for (d, step) in [(&mut right, 1), (&mut down, w)] {
            let mean = local_mean(w, h, d, step, dist, radius);
            for p in (0..w * h).filter(|&p| p + step < w * h) {
                let near = (2.0 - dist[p].min(dist[p + step]) / ramp).clamp(0.0, 1.0);
                // All of a gentle ramp through smooth fill (the ghost) goes; none where the
                // differences are large, in texture (where a level hardly shows) or at the
                // edge of another thing the fill goes on beside (a wall by an arcade, say).
                let s = mean[p][3] / steep;
                let k = near / (1.0 + s * s * s * s);
                for c in 0..3 {
                    d[p][c] -= k * mean[p][c];
                }
            }
        }
    }
    solve_differences(w, h, values, free, dist, &right, &down)
}

/// The `free` cells of `values` solved (Poisson, the others its boundary) to have the
/// differences `right` (each cell less its right neighbour) and `down` (less the one
/// below).
fn solve_differences(
    w: usize,
    h: usize,
    values: &[[f32; 3]],
    free: &[bool],
    dist: &[f32],
    right: &[[f32; 3]],
    down: &[[f32; 3]],
) -> Vec<[f32; 3]> {
    let cells: Vec<usize> = (0..w * h).filter(|&i| free[i]).collect();
    // Each free cell's neighbours and the sum of the wanted differences to them.
    let mut nbrs: Vec<([usize; 4], usize)> = Vec::with_capacity(cells.len());
    let mut wanted: Vec<[f32; 3]> = Vec::with_capacity(cells.len());
    for &p in &cells {
        let (x, y) = (p % w, p / w);
        let mut list = ([p; 4], 0);
        let mut sum = [0f32; 3];
        // (The neighbour, the pair's difference as seen from p.)
        let pairs = [
            (x > 0, p.wrapping_sub(1), -1.0f32, right, p.wrapping_sub(1)),
            (x + 1 < w, p + 1, 1.0, right, p),
            (y > 0, p.wrapping_sub(w), -1.0, down, p.wrapping_sub(w)),
            (y + 1 < h, p + w, 1.0, down, p),
        ];
        for (ok, q, sign, d, at) in pairs {
            if ok {
                for c in 0..3 {
                    sum[c] += sign * d[at][c];
                }
                list.0[list.1] = q;
                list.1 += 1;
            }
        }
        nbrs.push(list);
        wanted.push(sum);
    }
    // Successive over-relaxation, red cells then black ones (each reads only the other
    // colour); over-relaxed as suits the free cells' width (twice the farthest's distance
    // to the boundary).
    let width = cells
        .iter()
        .filter(|&&p| dist[p] < f32::MAX)
        .fold(1f32, |m, &p| m.max(2.0 * dist[p]));
    let omega = 2.0 / (1.0 + (std::f32::consts::PI / width.max(2.0)).sin());
    let mut order: Vec<usize> = (0..cells.len()).filter(|&j| nbrs[j].1 > 0).collect();
    order.sort_by_key(|&j| (cells[j] % w + cells[j] / w) % 2);
    let mut f = values.to_vec();
    for _ in 0..LEVEL_SWEEPS {
        let mut largest = 0f32;
        for &j in &order {
            let (p, (list, k)) = (cells[j], nbrs[j]);
            let mut around = [0f32; 3];
            for &q in &list[..k] {
                for c in 0..3 {
                    around[c] += f[q][c];
                }
            }
            for c in 0..3 {
                let change = omega * ((around[c] + wanted[j][c]) / k as f32 - f[p][c]);
                f[p][c] += change;
                largest = largest.max(change.abs());
            }
        }
        if largest < LEVEL_TOLERANCE {
            break;
        }
    }
    f
}

/// The box of the `true` pixels, widened by `margin` (clipped to the image); `None` if
/// there are none.
fn bounding_box(
    w: usize,
    h: usize,
    set: &[bool],
    margin: usize,
) -> Option<(usize, usize, usize, usize)> {
    let mut b: Option<(usize, usize, usize, usize)> = None;
    for i in (0..w * h).filter(|&i| set[i]) {
        let (x, y) = (i % w, i / w);
        b = Some(b.map_or((x, y, x, y), |(a, c, d, e)| {
            (a.min(x), c.min(y), d.max(x), e.max(y))
        }));
    }
    b.map(|(a, c, d, e)| {
        (
            a.saturating_sub(margin),
            c.saturating_sub(margin),
            (d + margin).min(w - 1),
            (e + margin).min(h - 1),
        )
    })
}

/// Adds `level_working`'s change (on `lv`, `r` render pixels per cell) to the render-
/// resolution fill: bilinear over the hole's cells, in perceptual units.
fn add_level(
    w: usize,
    h: usize,
    mask: &[bool],
    r: f64,
    lv: &Level,
    level: &[[f32; 3]],
    fill: &mut [Px],
) {
    let (gw, gh, hole) = (lv.w, lv.h, &lv.hole);
    for i in (0..w * h).filter(|&i| mask[i]) {
        let fx = (((i % w) as f64 + 0.5) / r - 0.5).clamp(0.0, (gw - 1) as f64);
        let fy = (((i / w) as f64 + 0.5) / r - 0.5).clamp(0.0, (gh - 1) as f64);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (ax, ay) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
        let mut sum = [0f32; 3];
        let mut weight = 0f32;
        for (x, y, wt) in [
            (x0, y0, (1.0 - ax) * (1.0 - ay)),
            ((x0 + 1).min(gw - 1), y0, ax * (1.0 - ay)),
            (x0, (y0 + 1).min(gh - 1), (1.0 - ax) * ay),
            ((x0 + 1).min(gw - 1), (y0 + 1).min(gh - 1), ax * ay),
        ] {
            let q = y * gw + x;
            if hole[q] && wt > 0.0 {
                for c in 0..3 {
                    sum[c] += wt * level[q][c];
                }
                weight += wt;
            }
        }
        if weight > 0.0 {
            for c in 0..3 {
                fill[i][c] = from_percept(to_percept(fill[i][c]) + sum[c] / weight);
            }
        }
    }
}

/// Radii, in canonical pixels, of `match_edges`: the boxes whose known and filled means
/// are compared at the hole's edge, and the box along the edge that averages the steps.
const EDGE_SIDE: f64 = 6.0;
const EDGE_ALONG: f64 = 16.0;

/// Seamless edges. The fill copies pixels from elsewhere in the plate, whose overall
/// colour may differ from what surrounds the hole (a sky darker on one side of the
/// building than on the other, say), and that step would leave the building's outline as
/// a pale or dark ghost. So at each hole pixel on the edge the step between the means of
/// the known and of the filled pixels near it (boxes, so that textures average out),
/// averaged along the edge, is spread over the hole by push-pull and added to the fill:
/// the low frequencies come from the hole's surroundings, the texture from the fill.
fn match_edges(w: usize, h: usize, src: &[Px], mask: &[bool], fill: &mut [Px], scale: f64) {
    let n = w * h;
    let inside = |x: i64, y: i64| x >= 0 && y >= 0 && x < w as i64 && y < h as i64;
    let edge: Vec<bool> = (0..n)
        .map(|i| {
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            mask[i]
                && [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)]
                    .iter()
                    .any(|&(dx, dy)| {
                        inside(x + dx, y + dy) && !mask[((y + dy) as usize) * w + (x + dx) as usize]
                    })
        })
        .collect();
    if !edge.iter().any(|&e| e) {
        return;
    }
    let radius = |r: f64| ((r * scale).round() as usize).max(1);
    // Known and filled means near each edge pixel. (The known pixels below the hole's
    // lowest row are the ground the building stood on: where the fill meets it there is
    // an edge of the scene, a street or a shore with trees above it, not a level to match,
    // so it is left out, and the hole's bottom edge gets its level from its sides.)
    let ground = (0..n)
        .filter(|&i| mask[i])
        .map(|i| i / w)
        .max()
        .unwrap_or(h);
    let known = |i: usize| !mask[i] && i / w <= ground;
    let known_n = integral(w, h, |i| known(i) as u8 as f64);
    let known_s: Vec<Vec<f64>> = (0..3)
        .map(|c| integral(w, h, |i| if known(i) { src[i][c] as f64 } else { 0.0 }))
        .collect();
    let fill_s: Vec<Vec<f64>> = (0..3)
        .map(|c| integral(w, h, |i| if mask[i] { fill[i][c] as f64 } else { 0.0 }))
        .collect();
    let filled_n = integral(w, h, |i| mask[i] as u8 as f64);
    let r = radius(EDGE_SIDE);
    let mut step = vec![[0f32; 3]; n];
    let mut given = vec![false; n];
    for i in (0..n).filter(|&i| edge[i]) {
        let (x0, y0, x1, y1) = around(w, h, i % w, i / w, r);
        let kn = rect_sum(&known_n, w, x0, y0, x1, y1);
        if kn < 1.0 {
            continue;
        }
        given[i] = true;
        let kf = rect_sum(&filled_n, w, x0, y0, x1, y1);
        for c in 0..3 {
            step[i][c] = (rect_sum(&known_s[c], w, x0, y0, x1, y1) / kn
                - rect_sum(&fill_s[c], w, x0, y0, x1, y1) / kf) as f32;
        }
    }
    if !given.iter().any(|&g| g) {
        return;
    }
    // Averaged along the edge (a box over the edge pixels that have a step).
    let r = radius(EDGE_ALONG);
    let count = integral(w, h, |i| given[i] as u8 as f64);
    let sums: Vec<Vec<f64>> = (0..3)
        .map(|c| integral(w, h, |i| step[i][c] as f64))
        .collect();
    let mut smooth = vec![[0f32; 3]; n];
    for i in (0..n).filter(|&i| given[i]) {
        let (x0, y0, x1, y1) = around(w, h, i % w, i / w, r);
        let k = rect_sum(&count, w, x0, y0, x1, y1);
        for c in 0..3 {
            smooth[i][c] = (rect_sum(&sums[c], w, x0, y0, x1, y1) / k) as f32;
        }
    }
    // Spread over the hole, and added.
    push_pull(w, h, &mut smooth, &given);
    for i in (0..n).filter(|&i| mask[i]) {
        for c in 0..3 {
            fill[i][c] += smooth[i][c];
        }
    }
}

// ---------------------------------------------------------------------------------------
// Grids and levels

struct Grid {
    w: usize,
    h: usize,
    img: Vec<Wp>,
    hole: Vec<bool>,
}

/// Overlap weights of output cell i = [i*r, (i+1)*r) with input pixels [j, j+1) in [0, n).
fn box_weights(n: usize, r: f64) -> Vec<Vec<(usize, f64)>> {
    let m = ((n as f64 / r) - 1e-9).ceil().max(1.0) as usize;
    (0..m)
        .map(|i| {
            let a = i as f64 * r;
            let b = ((i + 1) as f64 * r).min(n as f64);
            let mut v = Vec::new();
            let mut j = a.floor() as usize;
            while (j as f64) < b && j < n {
                let o = (j as f64 + 1.0).min(b) - (j as f64).max(a);
                if o > 1e-9 {
                    v.push((j, o));
                }
                j += 1;
            }
            if v.is_empty() {
                v.push((n - 1, 1.0));
            }
            v
        })
        .collect()
}

/// Area-averages the render image onto the working grid (`r` render pixels per cell).
/// A cell is hole if any render pixel it overlaps is.
fn area_downsample(w: usize, h: usize, src: &[Px], mask: &[bool], r: f64) -> Grid {
    let wx = box_weights(w, r);
    let wy = box_weights(h, r);
    let (gw, gh) = (wx.len(), wy.len());
    // Horizontal pass: h x gw.
    let mut tmp = vec![[0f64; 4]; h * gw];
    let mut tmp_hole = vec![false; h * gw];
    for y in 0..h {
        for (i, ws) in wx.iter().enumerate() {
            let mut acc = [0f64; 4];
            let mut wsum = 0.0;
            let mut hl = false;
            for &(j, o) in ws {
                let p = y * w + j;
                hl |= mask[p];
                for c in 0..4 {
                    acc[c] += o * src[p][c] as f64;
                }
                wsum += o;
            }
            for c in 0..4 {
                acc[c] /= wsum;
            }
            tmp[y * gw + i] = acc;
            tmp_hole[y * gw + i] = hl;
        }
    }
    let mut img = vec![[0f32; NC]; gw * gh];
    let mut hole = vec![false; gw * gh];
    for (k, ws) in wy.iter().enumerate() {
        for i in 0..gw {
            let mut acc = [0f64; 4];
            let mut wsum = 0.0;
            let mut hl = false;
            for &(j, o) in ws {
                let p = j * gw + i;
                hl |= tmp_hole[p];
                for c in 0..4 {
                    acc[c] += o * tmp[p][c];
                }
                wsum += o;
            }
            let q = k * gw + i;
            hole[q] = hl;
            if !hl {
                for c in 0..4 {
                    let v = (acc[c] / wsum) as f32;
                    img[q][c] = if c < 3 { to_percept(v) } else { v };
                }
            }
        }
    }
    add_texture_features(gw, gh, &mut img, &hole);
    Grid {
        w: gw,
        h: gh,
        img,
        hole,
    }
}

/// Matching happens on perceptually even values (plates are usually linear light, where
/// dark textures would barely count): a gamma-like curve, odd-symmetric, fine for HDR.
fn to_percept(v: f32) -> f32 {
    v.signum() * v.abs().powf(1.0 / 2.2)
}

fn from_percept(v: f32) -> f32 {
    v.signum() * v.abs().powf(2.2)
}

/// Texture features (after Newson et al. 2014): mean absolute horizontal / vertical
/// luminance gradients over a 3x3 window, from known pairs only. Coarser levels average
/// them, so that coarse matching tells smooth areas from textured ones of the same colour.
fn add_texture_features(w: usize, h: usize, img: &mut [Wp], hole: &[bool]) {
    let lum = |p: &Wp| (p[0] + p[1] + p[2]) * (1.0 / 3.0);
    let mut gx = vec![(0f32, 0f32); w * h];
    let mut gy = vec![(0f32, 0f32); w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if hole[i] {
                continue;
            }
            if x + 1 < w && !hole[i + 1] {
                gx[i] = ((lum(&img[i + 1]) - lum(&img[i])).abs(), 1.0);
            }
            if y + 1 < h && !hole[i + w] {
                gy[i] = ((lum(&img[i + w]) - lum(&img[i])).abs(), 1.0);
            }
        }
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if hole[i] {
                continue;
            }
            let (mut sx, mut cx, mut sy, mut cy) = (0f32, 0f32, 0f32, 0f32);
            for yy in y.saturating_sub(1)..(y + 2).min(h) {
                for xx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = yy * w + xx;
                    sx += gx[j].0;
                    cx += gx[j].1;
                    sy += gy[j].0;
                    cy += gy[j].1;
                }
            }
            img[i][4] = if cx > 0.0 { FEAT_W * sx / cx } else { 0.0 };
            img[i][5] = if cy > 0.0 { FEAT_W * sy / cy } else { 0.0 };
        }
    }
}

/// 2x2 downsample; a coarse cell is hole if any child is.
fn downsample2(g: &Grid) -> Grid {
    let (cw, ch) = (g.w.div_ceil(2), g.h.div_ceil(2));
    let mut img = vec![[0f32; NC]; cw * ch];
    let mut hole = vec![false; cw * ch];
    for y in 0..ch {
        for x in 0..cw {
            let mut acc = [0f32; NC];
            let mut cnt = 0.0;
            let mut hl = false;
            for dy in 0..2 {
                for dx in 0..2 {
                    let (fx, fy) = (2 * x + dx, 2 * y + dy);
                    if fx < g.w && fy < g.h {
                        let p = fy * g.w + fx;
                        hl |= g.hole[p];
                        for c in 0..NC {
                            acc[c] += g.img[p][c];
                        }
                        cnt += 1.0;
                    }
                }
            }
            let q = y * cw + x;
            hole[q] = hl;
            if !hl {
                for c in 0..NC {
                    img[q][c] = acc[c] / cnt;
                }
            }
        }
    }
    Grid {
        w: cw,
        h: ch,
        img,
        hole,
    }
}

/// Largest (chamfer) distance from a hole cell to the nearest known cell.
fn hole_thickness(g: &Grid) -> f32 {
    hole_distance(g.w, g.h, &g.hole)
        .iter()
        .cloned()
        .filter(|v| *v < f32::MAX)
        .fold(0.0, f32::max)
}

/// Chamfer distance (1 / sqrt 2) of every cell of a w x h grid to the nearest known cell
/// (`hole` false; 0 there; f32::MAX everywhere if there is none).
fn hole_distance(w: usize, h: usize, hole: &[bool]) -> Vec<f32> {
    let mut d: Vec<f32> = hole
        .iter()
        .map(|&x| if x { f32::MAX } else { 0.0 })
        .collect();
    const D1: f32 = 1.0;
    const D2: f32 = std::f32::consts::SQRT_2;
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let mut v = d[i];
            if x > 0 {
                v = v.min(d[i - 1] + D1);
            }
            if y > 0 {
                v = v.min(d[i - w] + D1);
                if x > 0 {
                    v = v.min(d[i - w - 1] + D2);
                }
                if x + 1 < w {
                    v = v.min(d[i - w + 1] + D2);
                }
            }
            d[i] = v;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            let mut v = d[i];
            if x + 1 < w {
                v = v.min(d[i + 1] + D1);
            }
            if y + 1 < h {
                v = v.min(d[i + w] + D1);
                if x + 1 < w {
                    v = v.min(d[i + w + 1] + D2);
                }
                if x > 0 {
                    v = v.min(d[i + w - 1] + D2);
                }
            }
            d[i] = v;
        }
    }
    d
}

fn integral(w: usize, h: usize, f: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut s = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += f(y * w + x);
            s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + row;
        }
    }
    s
}

/// The box `r` cells out around (x, y), clipped to the `w` x `h` grid: (x0, y0, x1, y1).
fn around(w: usize, h: usize, x: usize, y: usize, r: usize) -> (usize, usize, usize, usize) {
    (
        x.saturating_sub(r),
        y.saturating_sub(r),
        (x + r).min(w - 1),
        (y + r).min(h - 1),
    )
}

/// Differences to the right and to the lower neighbour, per cell.
type Pairs = (Vec<[f32; 3]>, Vec<[f32; 3]>);

/// Each cell's differences to its right and lower neighbours, `pair(p, q)` (zero on the
/// last column and row): the guidance `solve_differences` reads.
fn neighbour_pairs(w: usize, h: usize, pair: impl Fn(usize, usize) -> [f32; 3]) -> Pairs {
    let right = (0..w * h)
        .map(|p| {
            if p % w + 1 < w {
                pair(p, p + 1)
            } else {
                [0.0; 3]
            }
        })
        .collect();
    let down = (0..w * h)
        .map(|p| {
            if p / w + 1 < h {
                pair(p, p + w)
            } else {
                [0.0; 3]
            }
        })
        .collect();
    (right, down)
}

/// Sum over the inclusive rectangle [x0, x1] x [y0, y1].
#[inline]
fn rect_sum(s: &[f64], w: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> f64 {
    let ww = w + 1;
    s[(y1 + 1) * ww + x1 + 1] - s[y0 * ww + x1 + 1] - s[(y1 + 1) * ww + x0] + s[y0 * ww + x0]
}

/// Per-level search context.
struct Level {
    w: usize,
    h: usize,
    hole: Vec<bool>,
    /// Valid source patch centres (patch wholly known and inside the image; relaxed to
    /// "centre known" where no such patch exists).
    valid: Vec<bool>,
    valid_list: Vec<u32>,
    /// For every cell, the index of a nearby valid centre.
    nearest: Vec<u32>,
    /// Target patch centres: patches that overlap the hole.
    target: Vec<bool>,
    /// Per-pixel confidence (Wexler et al.): 1 on known pixels, GAMMA^-distance in the
    /// hole. Weights the patch distance and the votes, so the border leads.
    conf: Vec<f32>,
    conf_int: Vec<f64>,
    /// Each cell's chamfer distance into the hole (`hole_distance`).
    dist: Vec<f32>,
    /// Variance of the known pixels: the scale of the extra cost terms.
    escale: f32,
}

impl Level {
    fn new(g: &Grid) -> Level {
        let (w, h) = (g.w, g.h);
        let pr = PR as usize;
        let hole_int = integral(w, h, |i| g.hole[i] as u8 as f64);
        // Targets: patches (clipped by the image) that overlap the hole; valid sources: the
        // others. Where every patch overlaps the hole, any known centre is a source.
        let mut target = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                let (x0, y0, x1, y1) = around(w, h, x, y, pr);
                target[y * w + x] = rect_sum(&hole_int, w, x0, y0, x1, y1) > 0.0;
            }
        }
        let mut valid: Vec<bool> = target.iter().map(|&t| !t).collect();
        if !valid.iter().any(|&v| v) {
            valid = g.hole.iter().map(|&x| !x).collect();
        }
        let valid_list: Vec<u32> = (0..w * h).filter(|&i| valid[i]).map(|i| i as u32).collect();
        let nearest = nearest_map(w, h, &valid, valid_list.first().copied().unwrap_or(0));
        let dist = hole_distance(g.w, g.h, &g.hole);
        let conf: Vec<f32> = dist
            .iter()
            .map(|&d| CONF_GAMMA.powf(-d.min(200.0)))
            .collect();
        let conf_int = integral(w, h, |i| conf[i] as f64);
        let (mut mean, mut cnt) = ([0f64; NC], 0.0);
        for i in 0..w * h {
            if !g.hole[i] {
                for c in 0..NC {
                    mean[c] += g.img[i][c] as f64;
                }
                cnt += 1.0;
            }
        }
        let mut var = 0.0;
        if cnt > 0.0 {
            for m in mean.iter_mut() {
                *m /= cnt;
            }
            for i in 0..w * h {
                if !g.hole[i] {
                    for c in 0..NC {
                        let d = g.img[i][c] as f64 - mean[c];
                        var += d * d;
                    }
                }
            }
            var /= cnt;
        }
        Level {
            w,
            h,
            hole: g.hole.clone(),
            valid,
            valid_list,
            nearest,
            target,
            conf,
            conf_int,
            dist,
            escale: (var as f32).max(1e-8),
        }
    }

    #[inline]
    fn snap(&self, x: i32, y: i32) -> (i32, i32) {
        let x = x.clamp(0, self.w as i32 - 1) as usize;
        let y = y.clamp(0, self.h as i32 - 1) as usize;
        let v = self.nearest[y * self.w + x] as usize;
        ((v % self.w) as i32, (v / self.w) as i32)
    }

    #[inline]
    fn is_valid(&self, x: i32, y: i32) -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < self.w
            && (y as usize) < self.h
            && self.valid[y as usize * self.w + x as usize]
    }
}

/// Approximate nearest valid cell for every cell (two-pass 8-neighbour propagation).
fn nearest_map(w: usize, h: usize, valid: &[bool], fallback: u32) -> Vec<u32> {
    const NONE: u32 = u32::MAX;
    let mut near: Vec<u32> = (0..w * h)
        .map(|i| if valid[i] { i as u32 } else { NONE })
        .collect();
    let d2 = |i: usize, v: u32| -> i64 {
        let (x, y) = ((i % w) as i64, (i / w) as i64);
        let (vx, vy) = ((v as usize % w) as i64, (v as usize / w) as i64);
        (x - vx) * (x - vx) + (y - vy) * (y - vy)
    };
    for pass in 0..2 {
        for k in 0..w * h {
            let i = if pass == 0 { k } else { w * h - 1 - k };
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            let s: i64 = if pass == 0 { -1 } else { 1 };
            for (dx, dy) in [(s, 0), (s, s), (0, s), (-s, s)] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                let c = near[ny as usize * w + nx as usize];
                if c != NONE && (near[i] == NONE || d2(i, c) < d2(i, near[i])) {
                    near[i] = c;
                }
            }
        }
    }
    for v in near.iter_mut() {
        if *v == NONE {
            *v = fallback;
        }
    }
    near
}

// ---------------------------------------------------------------------------------------
// Smooth fill (coarsest-level initialisation and degenerate fallback)

/// Push-pull interpolation: fills the unknown pixels of `img` smoothly from the known ones.
fn push_pull<const N: usize>(w: usize, h: usize, img: &mut [[f32; N]], known: &[bool]) {
    // Pyramid of weighted sums.
    let mut levels: Vec<(usize, usize, Vec<[f32; N]>, Vec<f32>)> = Vec::new();
    let base: Vec<[f32; N]> = (0..w * h)
        .map(|i| if known[i] { img[i] } else { [0.0; N] })
        .collect();
    let bw: Vec<f32> = known.iter().map(|&k| k as u8 as f32).collect();
    levels.push((w, h, base, bw));
    while levels.last().map_or(false, |l| l.0 > 1 || l.1 > 1) {
        let (lw, lh, ref s, ref wt) = *levels.last().unwrap();
        let (cw, ch) = (lw.div_ceil(2), lh.div_ceil(2));
        let mut cs = vec![[0f32; N]; cw * ch];
        let mut cwt = vec![0f32; cw * ch];
        for y in 0..lh {
            for x in 0..lw {
                let (p, q) = (y * lw + x, (y / 2) * cw + x / 2);
                for c in 0..N {
                    cs[q][c] += s[p][c];
                }
                cwt[q] += wt[p];
            }
        }
        levels.push((cw, ch, cs, cwt));
    }
    // Normalise the top, then pull down: values where the weight is high, interpolated
    // coarser values elsewhere.
    let mut filled: Vec<[f32; N]> = {
        let (_, _, ref s, ref wt) = *levels.last().unwrap();
        s.iter()
            .zip(wt)
            .map(|(v, &k)| if k > 0.0 { v.map(|c| c / k) } else { [0.0; N] })
            .collect()
    };
    for li in (0..levels.len() - 1).rev() {
        let (lw, lh, ref s, ref wt) = levels[li];
        let (cw, ch) = (levels[li + 1].0, levels[li + 1].1);
        let mut next = vec![[0f32; N]; lw * lh];
        for y in 0..lh {
            for x in 0..lw {
                // Bilinear sample of the coarse level at this pixel's centre.
                let fx = ((x as f32 + 0.5) * 0.5 - 0.5).clamp(0.0, (cw - 1) as f32);
                let fy = ((y as f32 + 0.5) * 0.5 - 0.5).clamp(0.0, (ch - 1) as f32);
                let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(cw - 1), (y0 + 1).min(ch - 1));
                let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
                let mut up = [0f32; N];
                for c in 0..N {
                    let a = filled[y0 * cw + x0][c] * (1.0 - ax) + filled[y0 * cw + x1][c] * ax;
                    let b = filled[y1 * cw + x0][c] * (1.0 - ax) + filled[y1 * cw + x1][c] * ax;
                    up[c] = a * (1.0 - ay) + b * ay;
                }
                let p = y * lw + x;
                let k = wt[p];
                let a = k.min(1.0);
                for c in 0..N {
                    let own = if k > 0.0 { s[p][c] / k } else { 0.0 };
                    next[p][c] = own * a + up[c] * (1.0 - a);
                }
            }
        }
        filled = next;
    }
    for i in 0..w * h {
        if !known[i] {
            img[i] = filled[i];
        }
    }
}

// ---------------------------------------------------------------------------------------
// PatchMatch

#[derive(Clone, Copy)]
struct Match {
    x: i32,
    y: i32,
    d: f32,
}

const NO_MATCH: Match = Match {
    x: 0,
    y: 0,
    d: f32::MAX,
};

#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Counter-based random number of (seed, level, iteration, pixel, k).
#[inline]
fn rng(seed: u32, level: u32, iter: u32, idx: u32, k: u32) -> u64 {
    let a = mix(((seed as u64) << 32 | level as u64) ^ 0x9e37_79b9_7f4a_7c15);
    let b = mix(a ^ ((iter as u64) << 32 | idx as u64));
    mix(b ^ (k as u64).wrapping_mul(0xd6e8_feb8_6659_fd93))
}

#[inline]
fn unit(r: u64) -> f32 {
    (r >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
}

/// Mean squared RGBA difference between the target patch at (px,py) and the source patch
/// at (sx,sy), over the target's pixels inside the image; target pixels whose source
/// pixel falls outside the image cost `escale` each. f32::MAX once above `limit`.
#[inline]
fn patch_dist(lv: &Level, img: &[Wp], px: i32, py: i32, sx: i32, sy: i32, limit: f32) -> f32 {
    let (w, h) = (lv.w as i32, lv.h as i32);
    // Target patch clipped by the image, then by the source's image bounds too.
    let (tx0, tx1) = ((-PR).max(-px), PR.min(w - 1 - px));
    let (ty0, ty1) = ((-PR).max(-py), PR.min(h - 1 - py));
    let (ux0, ux1) = (tx0.max(-sx), tx1.min(w - 1 - sx));
    let (uy0, uy1) = (ty0.max(-sy), ty1.min(h - 1 - sy));
    if ux0 > ux1 || uy0 > uy1 {
        return f32::MAX;
    }
    let (xa, ya) = ((px + tx0) as usize, (py + ty0) as usize);
    let norm = rect_sum(
        &lv.conf_int,
        lv.w,
        xa,
        ya,
        (px + tx1) as usize,
        (py + ty1) as usize,
    ) as f32;
    if !(norm > 0.0) {
        return f32::MAX;
    }
    let inside = rect_sum(
        &lv.conf_int,
        lv.w,
        (px + ux0) as usize,
        (py + uy0) as usize,
        (px + ux1) as usize,
        (py + uy1) as usize,
    ) as f32;
    let mut acc = (norm - inside).max(0.0) * lv.escale;
    let lim = if limit < f32::MAX / 1024.0 {
        limit * norm
    } else {
        f32::MAX
    };
    if acc > lim {
        return f32::MAX;
    }
    let n = (ux1 - ux0 + 1) as usize;
    for uy in uy0..=uy1 {
        let t0 = ((py + uy) * w + px + ux0) as usize;
        let s0 = ((sy + uy) * w + sx + ux0) as usize;
        let (ta, sa, ca) = (&img[t0..t0 + n], &img[s0..s0 + n], &lv.conf[t0..t0 + n]);
        let mut row = 0f32;
        for ((a, b), c) in ta.iter().zip(sa).zip(ca) {
            row += c * sq_dist(a, b);
        }
        acc += row;
        if acc > lim {
            return f32::MAX;
        }
    }
    acc / norm
}

#[inline]
fn sq_dist(a: &Wp, b: &Wp) -> f32 {
    let mut d = [0f32; NC];
    for c in 0..NC {
        d[c] = (a[c] - b[c]) * (a[c] - b[c]);
    }
    d.iter().sum()
}

/// Extra cost of a source (sx,sy) for target (px,py): vertical offset, and coherence with
/// the neighbours' matches of the previous pass.
#[inline]
fn extra_cost(lv: &Level, snap: &[Match], px: i32, py: i32, sx: i32, sy: i32) -> f32 {
    let dy = (sy - py) as f32 / lv.h as f32;
    let mut miss = 0;
    for (dx, dyy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
        let (qx, qy) = (px + dx, py + dyy);
        if qx < 0 || qy < 0 || qx >= lv.w as i32 || qy >= lv.h as i32 {
            continue;
        }
        let q = qy as usize * lv.w + qx as usize;
        if lv.target[q] && (snap[q].x != sx + dx || snap[q].y != sy + dyy) {
            miss += 1;
        }
    }
    lv.escale * (LAMBDA_V * dy * dy + BETA_COH * miss as f32 * 0.25)
}

fn random_nnf(lv: &Level, seed: u32, level: u32) -> Vec<Match> {
    let mut nnf = vec![NO_MATCH; lv.w * lv.h];
    if lv.valid_list.is_empty() {
        return nnf;
    }
    for i in 0..lv.w * lv.h {
        if lv.target[i] {
            let v = lv.valid_list
                [(rng(seed, level, u32::MAX, i as u32, 0) % lv.valid_list.len() as u64) as usize]
                as usize;
            nnf[i] = Match {
                x: (v % lv.w) as i32,
                y: (v / lv.w) as i32,
                d: f32::MAX,
            };
        }
    }
    nnf
}

/// Coarsest-level initialisation: fills the hole ring by ring from its border inwards;
/// each pixel copies the centre of the source patch that best matches its already
/// known/filled neighbourhood (searched over a subsample of the sources plus the
/// continuations of its filled neighbours' sources). Each ring reads only the state
/// before it, so the result does not depend on the processing order.
fn onion_peel(lv: &Level, img: &mut [Wp], nnf: &mut [Match], threads: usize) {
    let (w, h) = (lv.w, lv.h);
    if lv.valid_list.is_empty() {
        return;
    }
    let n_hole = lv.hole.iter().filter(|&&x| x).count().max(1);
    let n_cand = (4_000_000 / n_hole)
        .clamp(64, 4096)
        .min(lv.valid_list.len());
    let stride = lv.valid_list.len() as f64 / n_cand as f64;
    let cands: Vec<(i32, i32)> = (0..n_cand)
        .map(|k| {
            let v = lv.valid_list[((k as f64 + 0.5) * stride) as usize] as usize;
            ((v % w) as i32, (v / w) as i32)
        })
        .collect();
    let mut filled: Vec<bool> = lv.hole.iter().map(|&x| !x).collect();
    let n8: [(i32, i32); 8] = [
        (-1, -1),
        (0, -1),
        (1, -1),
        (-1, 0),
        (1, 0),
        (-1, 1),
        (0, 1),
        (1, 1),
    ];
    loop {
        let mut ring: Vec<(u32, Match)> = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if filled[i] {
                    continue;
                }
                let touches = n8.iter().any(|&(dx, dy)| {
                    let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                    nx >= 0
                        && ny >= 0
                        && nx < w as i32
                        && ny < h as i32
                        && filled[ny as usize * w + nx as usize]
                });
                if touches {
                    ring.push((i as u32, NO_MATCH));
                }
            }
        }
        if ring.is_empty() {
            break;
        }
        {
            let (img_r, filled_r, nnf_r) = (&*img, &filled, &*nnf);
            par_bands(&mut ring, 64, threads, |_, chunk| {
                for (pi, best) in chunk.iter_mut() {
                    let i = *pi as usize;
                    let (px, py) = ((i % w) as i32, (i / w) as i32);
                    let mut best_cost = f32::MAX;
                    let try_src = |sx: i32, sy: i32, best: &mut Match, best_cost: &mut f32| {
                        let dy = (sy - py) as f32 / h as f32;
                        let e = lv.escale * LAMBDA_V * dy * dy;
                        if e >= *best_cost {
                            return;
                        }
                        let (mut acc, mut cnt) = (0f32, 0f32);
                        for uy in -PR..=PR {
                            for ux in -PR..=PR {
                                let (tx, ty) = (px + ux, py + uy);
                                if tx < 0 || ty < 0 || tx >= w as i32 || ty >= h as i32 {
                                    continue;
                                }
                                let t = ty as usize * w + tx as usize;
                                if !filled_r[t] {
                                    continue;
                                }
                                cnt += 1.0;
                                let (qx, qy) = (sx + ux, sy + uy);
                                if qx < 0 || qy < 0 || qx >= w as i32 || qy >= h as i32 {
                                    acc += lv.escale;
                                    continue;
                                }
                                acc += sq_dist(&img_r[t], &img_r[qy as usize * w + qx as usize]);
                            }
                        }
                        if cnt > 0.0 {
                            let c = acc / cnt + e;
                            if c < *best_cost {
                                *best_cost = c;
                                *best = Match {
                                    x: sx,
                                    y: sy,
                                    d: acc / cnt,
                                };
                            }
                        }
                    };
                    // Continuations of the filled hole neighbours' sources.
                    for &(dx, dy) in &n8 {
                        let (nx, ny) = (px + dx, py + dy);
                        if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                            continue;
                        }
                        let q = ny as usize * w + nx as usize;
                        if lv.hole[q] && filled_r[q] {
                            let (sx, sy) = (nnf_r[q].x - dx, nnf_r[q].y - dy);
                            if lv.is_valid(sx, sy) {
                                try_src(sx, sy, best, &mut best_cost);
                            }
                        }
                    }
                    for &(sx, sy) in &cands {
                        try_src(sx, sy, best, &mut best_cost);
                    }
                }
            });
        }
        for (pi, m) in ring {
            let i = pi as usize;
            filled[i] = true;
            if m.d < f32::MAX {
                img[i] = img[m.y as usize * w + m.x as usize];
                nnf[i] = m;
            }
        }
    }
}

fn upsample_nnf(fine: &Level, coarse: &Level, cnnf: &[Match]) -> Vec<Match> {
    let mut nnf = vec![NO_MATCH; fine.w * fine.h];
    for y in 0..fine.h {
        for x in 0..fine.w {
            let i = y * fine.w + x;
            if !fine.target[i] {
                continue;
            }
            let (cx, cy) = ((x / 2).min(coarse.w - 1), (y / 2).min(coarse.h - 1));
            let c = cy * coarse.w + cx;
            let (sx, sy) = if coarse.target[c] {
                let m = cnnf[c];
                (
                    2 * m.x + (x as i32 - 2 * cx as i32),
                    2 * m.y + (y as i32 - 2 * cy as i32),
                )
            } else {
                (x as i32, y as i32)
            };
            let (sx, sy) = if fine.is_valid(sx, sy) {
                (sx, sy)
            } else {
                fine.snap(sx, sy)
            };
            nnf[i] = Match {
                x: sx,
                y: sy,
                d: f32::MAX,
            };
        }
    }
    nnf
}

fn compute_dist(lv: &Level, img: &[Wp], nnf: &mut [Match], threads: usize) {
    let w = lv.w;
    par_bands(nnf, BAND * w, threads, |band, chunk| {
        for (k, m) in chunk.iter_mut().enumerate() {
            let i = band * BAND * w + k;
            if lv.target[i] {
                m.d = patch_dist(lv, img, (i % w) as i32, (i / w) as i32, m.x, m.y, f32::MAX);
            }
        }
    });
}

/// One PatchMatch pass (propagation + random search). Scan order inside fixed bands;
/// across band borders the neighbours come from the previous pass.
fn pm_pass(
    lv: &Level,
    img: &[Wp],
    nnf: &mut [Match],
    seed: u32,
    level: u32,
    iter: u32,
    threads: usize,
) {
    if lv.valid_list.is_empty() {
        return;
    }
    let snap = nnf.to_vec();
    let (w, h) = (lv.w, lv.h);
    let reverse = iter % 2 == 1;
    let max_r = w.max(h) as f32;
    par_bands(nnf, BAND * w, threads, |band, chunk| {
        let y0 = band * BAND;
        let rows = chunk.len() / w;
        let get = |chunk: &[Match], x: i32, y: i32| -> Match {
            let yy = y as usize;
            if yy >= y0 && yy < y0 + rows {
                chunk[(yy - y0) * w + x as usize]
            } else {
                snap[yy * w + x as usize]
            }
        };
        for ky in 0..rows {
            let ly = if reverse { rows - 1 - ky } else { ky };
            let y = y0 + ly;
            for kx in 0..w {
                let x = if reverse { w - 1 - kx } else { kx };
                let i = y * w + x;
                if !lv.target[i] {
                    continue;
                }
                let (px, py) = (x as i32, y as i32);
                let mut best = chunk[ly * w + x];
                if !lv.is_valid(best.x, best.y) {
                    let (sx, sy) = lv.snap(best.x, best.y);
                    best.x = sx;
                    best.y = sy;
                }
                best.d = patch_dist(lv, img, px, py, best.x, best.y, f32::MAX);
                let mut best_cost = if best.d < f32::MAX {
                    best.d + extra_cost(lv, &snap, px, py, best.x, best.y)
                } else {
                    f32::MAX
                };
                let consider = |sx: i32, sy: i32, best: &mut Match, best_cost: &mut f32| {
                    if sx == best.x && sy == best.y {
                        return;
                    }
                    let e = extra_cost(lv, &snap, px, py, sx, sy);
                    if e >= *best_cost {
                        return;
                    }
                    let d = patch_dist(lv, img, px, py, sx, sy, *best_cost - e);
                    if d < f32::MAX && d + e < *best_cost {
                        *best = Match { x: sx, y: sy, d };
                        *best_cost = d + e;
                    }
                };
                // Propagation from the already visited neighbours.
                let s: i32 = if reverse { 1 } else { -1 };
                for (dx, dy) in [(s, 0), (0, s)] {
                    let (nx, ny) = (px + dx, py + dy);
                    if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                        continue;
                    }
                    if !lv.target[ny as usize * w + nx as usize] {
                        continue;
                    }
                    let m = get(chunk, nx, ny);
                    let (cx, cy) = (m.x - dx, m.y - dy);
                    if lv.is_valid(cx, cy) {
                        consider(cx, cy, &mut best, &mut best_cost);
                    }
                }
                // Random search around the current best, at halving radii.
                let mut rad = max_r;
                let mut k = 0u32;
                while rad >= 1.0 {
                    let r = rng(seed, level, iter, i as u32, k);
                    let ox = ((unit(r) * 2.0 - 1.0) * rad).round() as i32;
                    let oy = ((unit(r << 24) * 2.0 - 1.0) * rad).round() as i32;
                    let (cx, cy) = lv.snap(best.x + ox, best.y + oy);
                    consider(cx, cy, &mut best, &mut best_cost);
                    rad *= 0.5;
                    k += 1;
                }
                // One global sample.
                let r = rng(seed, level, iter, i as u32, 1000);
                let v = lv.valid_list[(r % lv.valid_list.len() as u64) as usize] as usize;
                consider((v % w) as i32, (v / w) as i32, &mut best, &mut best_cost);
                chunk[ly * w + x] = best;
            }
        }
    });
}

/// Per-target vote weights from the patch distances (Gaussian, sigma^2 = 75th percentile).
fn vote_weights(lv: &Level, nnf: &[Match]) -> Vec<f32> {
    let mut ds: Vec<f32> = (0..lv.w * lv.h)
        .filter(|&i| lv.target[i] && nnf[i].d < f32::MAX)
        .map(|i| nnf[i].d)
        .collect();
    let s2 = if ds.is_empty() {
        1.0
    } else {
        let k = (ds.len() * 3) / 4;
        let k = k.min(ds.len() - 1);
        let (_, v, _) = ds.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
        v.max(1e-10)
    };
    (0..lv.w * lv.h)
        .map(|i| {
            if !lv.target[i] {
                0.0
            } else if nnf[i].d < f32::MAX {
                (-nnf[i].d / (2.0 * VOTE_DIST_SCALE * s2)).exp().max(1e-6) * lv.conf[i]
            } else {
                1e-6 * lv.conf[i]
            }
        })
        .collect()
}

/// Wexler vote: each hole pixel becomes the weighted mean of the pixels proposed by the
/// target patches that overlap it.
fn vote(lv: &Level, img: &mut [Wp], nnf: &[Match], threads: usize) {
    let wq = vote_weights(lv, nnf);
    let old = img.to_vec();
    let (w, h) = (lv.w as i32, lv.h as i32);
    par_bands(img, BAND * lv.w, threads, |band, chunk| {
        for (k, out) in chunk.iter_mut().enumerate() {
            let i = band * BAND * lv.w + k;
            if !lv.hole[i] {
                continue;
            }
            let (x, y) = ((i % lv.w) as i32, (i / lv.w) as i32);
            let mut acc = [0f32; NC];
            let mut ws = 0f32;
            for qy in (y - PR).max(0)..=(y + PR).min(h - 1) {
                for qx in (x - PR).max(0)..=(x + PR).min(w - 1) {
                    let q = qy as usize * lv.w + qx as usize;
                    if !lv.target[q] {
                        continue;
                    }
                    let m = nnf[q];
                    let (sx, sy) = (x + m.x - qx, y + m.y - qy);
                    if sx < 0 || sy < 0 || sx >= w || sy >= h {
                        continue;
                    }
                    let v = old[sy as usize * lv.w + sx as usize];
                    let wgt = wq[q];
                    for c in 0..NC {
                        acc[c] += wgt * v[c];
                    }
                    ws += wgt;
                }
            }
            if ws > 0.0 {
                *out = acc.map(|a| a / ws);
            }
        }
    });
}

/// Final vote at render resolution: copies render pixels with the working NNF's offsets
/// (scaled by `r`, nearest pixel), weighted by patch similarity and a short spatial falloff.
#[allow(clippy::too_many_arguments)]
fn render_vote(
    w: usize,
    h: usize,
    src: &[Px],
    mask: &[bool],
    r: f64,
    lv: &Level,
    wimg: &[Wp],
    nnf: &[Match],
    threads: usize,
) -> Vec<Px> {
    let wq = vote_weights(lv, nnf);
    // Render-pixel offset of each working target.
    let offs: Vec<(i32, i32)> = (0..lv.w * lv.h)
        .map(|i| {
            let (qx, qy) = ((i % lv.w) as i32, (i / lv.w) as i32);
            let m = nnf[i];
            (
                ((m.x - qx) as f64 * r).round() as i32,
                ((m.y - qy) as f64 * r).round() as i32,
            )
        })
        .collect();
    let inv2s2 = 1.0 / (2.0 * VOTE_SIGMA * VOTE_SIGMA);
    let (gw, gh) = (lv.w as i32, lv.h as i32);
    let mut out = vec![[0f32; 4]; w * h];
    par_bands(&mut out, 2 * BAND * w, threads, |band, chunk| {
        for (k, o) in chunk.iter_mut().enumerate() {
            let i = band * 2 * BAND * w + k;
            if !mask[i] {
                continue;
            }
            let (x, y) = (i % w, i / w);
            // Position in working-cell coordinates (cell centres at integers).
            let fx = ((x as f64 + 0.5) / r - 0.5) as f32;
            let fy = ((y as f64 + 0.5) / r - 0.5) as f32;
            let cx = (((x as f64 + 0.5) / r).floor() as i32).min(gw - 1);
            let cy = (((y as f64 + 0.5) / r).floor() as i32).min(gh - 1);
            let mut acc = [0f32; 4];
            let mut ws = 0f32;
            let mut first: Option<(i32, i32)> = None;
            let mut same = true;
            for qy in (cy - PR).max(0)..=(cy + PR).min(gh - 1) {
                for qx in (cx - PR).max(0)..=(cx + PR).min(gw - 1) {
                    let q = qy as usize * lv.w + qx as usize;
                    if !lv.target[q] {
                        continue;
                    }
                    let (ox, oy) = offs[q];
                    let (sx, sy) = (x as i32 + ox, y as i32 + oy);
                    if sx < 0 || sy < 0 || sx >= w as i32 || sy >= h as i32 {
                        continue;
                    }
                    let s = sy as usize * w + sx as usize;
                    if mask[s] {
                        continue;
                    }
                    let (ddx, ddy) = (fx - qx as f32, fy - qy as f32);
                    let g = (-(ddx * ddx + ddy * ddy) * inv2s2).exp() * wq[q];
                    if g <= 0.0 {
                        continue;
                    }
                    match first {
                        None => first = Some((ox, oy)),
                        Some(f) => same &= f == (ox, oy),
                    }
                    let v = src[s];
                    for c in 0..4 {
                        acc[c] += g * v[c];
                    }
                    ws += g;
                }
            }
            *o = if let (Some((ox, oy)), true) = (first, same) {
                src[(y as i32 + oy) as usize * w + (x as i32 + ox) as usize]
            } else if ws > 0.0 {
                acc.map(|a| a / ws)
            } else {
                let v = wimg[cy.max(0) as usize * lv.w + cx.max(0) as usize];
                [
                    from_percept(v[0]),
                    from_percept(v[1]),
                    from_percept(v[2]),
                    v[3],
                ]
            };
        }
    });
    out
}

// ---------------------------------------------------------------------------------------
// Parallelism

/// Runs `f(band_index, band)` over fixed-size bands of `data` on up to `threads` threads.
/// Each band's result depends only on its inputs, so the thread count never changes it.
fn par_bands<T: Send, F: Fn(usize, &mut [T]) + Sync>(
    data: &mut [T],
    band_len: usize,
    threads: usize,
    f: F,
) {
    let band_len = band_len.max(1);
    let chunks: Vec<(usize, &mut [T])> = data.chunks_mut(band_len).enumerate().collect();
    let nt = threads.max(1).min(chunks.len());
    if nt <= 1 {
        for (i, c) in chunks {
            f(i, c);
        }
        return;
    }
    let queue = Mutex::new(chunks);
    let work = || loop {
        let item = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match item {
            Some((i, c)) => f(i, c),
            None => break,
        }
    };
    std::thread::scope(|s| {
        for _ in 1..nt {
            // If a thread cannot be spawned, the others (and this one) do its share.
            let _ = std::thread::Builder::new().spawn_scoped(s, &work);
        }
        work();
    });
}

// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// A disc of radius `r` around (cx, cy) on a w x h grid.
    fn disc(w: usize, h: usize, (cx, cy): (f32, f32), r: f32) -> Vec<bool> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - cx, (i / w) as f32 - cy);
                x * x + y * y < r * r
            })
            .collect()
    }

    /// `level_fill` with this module's constants, the distances from the hole.
    fn level(w: usize, h: usize, values: &[[f32; 3]], hole: &[bool]) -> Vec<[f32; 3]> {
        let dist = hole_distance(w, h, hole);
        level_fill(
            w,
            h,
            values,
            hole,
            &dist,
            RAMP_CELLS,
            RAMP_RADIUS,
            RAMP_STEEP,
        )
    }

    /// A checker of +-`a` (a texture).
    fn checker(w: usize, a: f32) -> impl Fn(usize) -> f32 {
        move |i| if (i % w + i / w) % 2 == 0 { a } else { -a }
    }

    /// At each point, the mean of it and its right neighbour (channel 0 of `value`) is
    /// within `tolerance` of `level(x)`, and the two still differ by more than `step`
    /// (the texture stays).
    fn assert_level_and_texture(
        value: impl Fn(usize) -> f32,
        w: usize,
        points: &[(usize, usize)],
        level: impl Fn(usize) -> f32,
        tolerance: f32,
        step: f32,
    ) {
        for &(x, y) in points {
            let (i, j) = (y * w + x, y * w + x + 1);
            let mean = 0.5 * (value(i) + value(j));
            assert!(
                (mean - level(x)).abs() < tolerance,
                "at ({x}, {y}) the level is {mean}, not {}",
                level(x)
            );
            assert!(
                (value(i) - value(j)).abs() > step,
                "the texture was flattened at ({x}, {y})"
            );
        }
    }

    /// A fill brighter than the hole's surroundings (and brighter on one side than the
    /// other) is brought to them at the edge and in between, its texture kept.
    #[test]
    fn the_fill_meets_the_colour_around_the_hole() {
        let (w, h) = (64usize, 48usize);
        let n = w * h;
        // Around: a left-to-right ramp 0.2 .. 0.6. The hole: a disc; its fill 0.9 plus a
        // checker of +-0.05 (texture).
        let around = |x: usize| 0.2 + 0.4 * x as f32 / (w - 1) as f32;
        let mask = disc(w, h, (32.0, 24.0), 14.0);
        let src: Vec<Px> = (0..n)
            .map(|i| {
                let v = around(i % w);
                [v, v, v, 1.0]
            })
            .collect();
        let checker = checker(w, 0.05);
        let mut fill: Vec<Px> = (0..n)
            .map(|i| {
                if mask[i] {
                    [0.9 + checker(i), 0.9 + checker(i), 0.9 + checker(i), 1.0]
                } else {
                    src[i]
                }
            })
            .collect();
        match_edges(w, h, &src, &mask, &mut fill, 1.0);
        for i in 0..n {
            if !mask[i] {
                assert_eq!(fill[i], src[i], "pixel {i} outside the hole changed");
            }
        }
        // Near the disc's left and right edges and at its centre: about the ramp there.
        let points = [(20, 24), (44, 24), (32, 24), (32, 12)];
        assert_level_and_texture(|i| fill[i][0], w, &points, around, 0.06, 0.08);
    }

    /// Dark trees beside the hole and in its fill, a bright shore below it: the shore's
    /// edge is the scene's, not the fill's level, and does not brighten the trees.
    #[test]
    fn the_ground_below_the_hole_is_an_edge_not_a_level() {
        let (w, h) = (64usize, 48usize);
        let n = w * h;
        let (trees, shore) = (0.1f32, 0.7f32);
        let mask: Vec<bool> = (0..n)
            .map(|i| (20..44).contains(&(i % w)) && (10..40).contains(&(i / w)))
            .collect();
        let src: Vec<Px> = (0..n)
            .map(|i| {
                let v = if i / w >= 40 { shore } else { trees };
                [v, v, v, 1.0]
            })
            .collect();
        let checker = checker(w, 0.02);
        let mut fill: Vec<Px> = (0..n)
            .map(|i| {
                let v = trees + checker(i);
                if mask[i] {
                    [v, v, v, 1.0]
                } else {
                    src[i]
                }
            })
            .collect();
        match_edges(w, h, &src, &mask, &mut fill, 1.0);
        for (x, y) in [(32, 39), (32, 36), (22, 38), (41, 30)] {
            let v = fill[y * w + x][0] - checker(y * w + x);
            assert!(
                (v - trees).abs() < 0.02,
                "({x}, {y}): {v}, the trees are {trees}"
            );
        }
    }

    /// A fill copied from two places at different levels (a sky lighter to the right):
    /// the step where the copies meet is taken out, the edge of another thing is kept.
    #[test]
    fn a_step_between_copies_is_levelled_an_edge_is_kept() {
        let (w, h) = (96usize, 48usize);
        let hole: Vec<bool> = (0..w * h)
            .map(|i| (32..64).contains(&(i % w)) && (12..36).contains(&(i / w)))
            .collect();
        for (left, right, kept) in [(0.30f32, 0.32f32, false), (0.30, 0.60, true)] {
            // Known: `left` on the left, `right` on the right, a ramp between above and below.
            let known =
                |x: usize| left + (right - left) * ((x as f32 - 31.5) / 32.0).clamp(0.0, 1.0);
            let mut img: Vec<Wp> = (0..w * h)
                .map(|i| {
                    let v = known(i % w);
                    [v, v, v, 1.0, 0.0, 0.0, 0.0, 0.0]
                })
                .collect();
            // The hole's left half copies from 24 cells left, its right half from 24 right.
            let mut nnf = vec![NO_MATCH; w * h];
            for i in (0..w * h).filter(|&i| hole[i]) {
                let (x, y) = ((i % w) as i32, (i / w) as i32);
                let sx = if x < 48 { x - 24 } else { x + 24 };
                nnf[i] = Match { x: sx, y, d: 0.0 };
                img[i] = img[y as usize * w + sx as usize];
            }
            let lv = Level::new(&Grid {
                w,
                h,
                img: img.clone(),
                hole: hole.clone(),
            });
            let c = seam_levels(&lv, &img, &nnf);
            for i in (0..w * h).filter(|&i| !hole[i]) {
                assert_eq!(c[i], [0.0; 3], "known cell {i} changed");
            }
            for y in [18usize, 24, 30] {
                let at = |x: usize| img[y * w + x][0] + c[y * w + x][0];
                let step = at(48) - at(47);
                if kept {
                    assert!(
                        step > 0.8 * (right - left),
                        "row {y}: the edge went to {step}"
                    );
                } else {
                    assert!(
                        step.abs() < 0.1 * (right - left),
                        "row {y}: a step of {step} is left"
                    );
                }
            }
        }
    }

    /// A smooth fill (a sky) that meets its surroundings at the edge but climbs to another
    /// level a few cells in (the vote's ramp) is brought to the surroundings' level, its
    /// faint texture kept.
    #[test]
    fn the_fill_is_levelled_past_the_ramp() {
        let (w, h) = (80usize, 80usize);
        let n = w * h;
        let hole = disc(w, h, (40.0, 40.0), 30.0);
        let dist = hole_distance(w, h, &hole);
        let checker = checker(w, 0.003);
        // Around: 0.5. The fill: 0.5 at the edge, 0.55 from six cells in (the ghost of the
        // building would show: a step of 13 in 255), plus the checker.
        let values: Vec<[f32; 3]> = (0..n)
            .map(|i| {
                let v = if hole[i] {
                    0.5 + 0.05 * (dist[i] / 6.0).min(1.0) + checker(i)
                } else {
                    0.5
                };
                [v; 3]
            })
            .collect();
        let f = level(w, h, &values, &hole);
        for i in (0..n).filter(|&i| !hole[i]) {
            assert_eq!(f[i], values[i], "known cell {i} changed");
        }
        let points = [(40, 40), (25, 40), (40, 20), (55, 55)];
        assert_level_and_texture(|i| f[i][0], w, &points, |_| 0.5, 0.008, 0.005);
    }

    /// Where the fill goes on beside another thing (a wall beside a dark arcade), the
    /// steep step between them at the edge stays: the wall is not darkened.
    #[test]
    fn a_steep_edge_beside_the_fill_stays() {
        let (w, h) = (60usize, 40usize);
        let n = w * h;
        // Known: a dark column on the left (0.2) and the wall on the right (0.8); the hole
        // between, filled with the wall, which climbs from the dark over three cells.
        let hole: Vec<bool> = (0..n).map(|i| (10..50).contains(&(i % w))).collect();
        let values: Vec<[f32; 3]> = (0..n)
            .map(|i| {
                let x = i % w;
                let v = if x < 10 {
                    0.2
                } else if x < 13 {
                    0.2 + 0.2 * (x - 9) as f32
                } else {
                    0.8
                };
                [v; 3]
            })
            .collect();
        let f = level(w, h, &values, &hole);
        for x in [15usize, 25, 35] {
            let v = f[20 * w + x][0];
            assert!(
                (v - 0.8).abs() < 0.02,
                "at x = {x} the wall is {v}, not 0.8"
            );
        }
    }

    /// Smooth value noise in [0,1] with period-free hashing.
    fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let h = |i: f32, j: f32| unit(rng(seed, i as i32 as u32, j as i32 as u32, 7, 7));
        let a = h(x0, y0) * (1.0 - sx) + h(x0 + 1.0, y0) * sx;
        let b = h(x0, y0 + 1.0) * (1.0 - sx) + h(x0 + 1.0, y0 + 1.0) * sx;
        a * (1.0 - sy) + b * sy
    }

    /// Procedural sky: vertical gradient plus multi-scale clouds and fine grain.
    fn sky(w: usize, h: usize) -> Vec<f32> {
        sky_with(w, h, 1.0)
    }

    fn sky_with(w: usize, h: usize, clouds: f32) -> Vec<f32> {
        let n = w * h;
        let mut img = vec![0f32; 4 * n];
        for y in 0..h {
            for x in 0..w {
                let t = y as f32 / h as f32;
                let base = [0.20 + 0.5 * t, 0.40 + 0.4 * t, 0.85 + 0.1 * t];
                let (fx, fy) = (x as f32, y as f32);
                let mut c = 0.0;
                let mut amp = 0.5;
                let mut f = 1.0 / 40.0;
                for o in 0..5 {
                    c += amp * value_noise(fx * f, fy * f * 1.6, 11 + o);
                    amp *= 0.5;
                    f *= 2.0;
                }
                let cloud = ((c - 0.45) * 2.5).clamp(0.0, 1.0) * clouds;
                let grain = (value_noise(fx * 0.7, fy * 0.7, 99) - 0.5) * 0.06;
                let i = y * w + x;
                for k in 0..3 {
                    img[k * n + i] =
                        (base[k] * (1.0 - cloud) + 0.95 * cloud + grain).clamp(0.0, 1.0);
                }
                img[3 * n + i] = 1.0;
            }
        }
        img
    }

    /// Periodic texture: bricks with random colours (around brick red) and mortar.
    fn bricks(w: usize, h: usize) -> Vec<f32> {
        let n = w * h;
        let mut img = vec![0f32; 4 * n];
        let (bw, bh) = (24usize, 10usize);
        for y in 0..h {
            for x in 0..w {
                let row = y / bh;
                let xs = x + if row % 2 == 1 { bw / 2 } else { 0 };
                let col = xs / bw;
                let mortar = y % bh < 2 || xs % bw < 2;
                let i = y * w + x;
                let grain = (unit(rng(5, x as u32, y as u32, 1, 1)) - 0.5) * 0.08;
                for k in 0..3 {
                    let v = if mortar {
                        0.8
                    } else {
                        [0.55, 0.30, 0.22][k]
                            + 0.3 * (unit(rng(3, row as u32, col as u32, k as u32, 0)) - 0.5)
                    };
                    img[k * n + i] = (v + grain).clamp(0.0, 1.0);
                }
                img[3 * n + i] = 1.0;
            }
        }
        img
    }

    fn rect_hole(w: usize, h: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> Vec<f32> {
        let mut m = vec![0f32; w * h];
        for y in y0..y1 {
            for x in x0..x1 {
                m[y * w + x] = 1.0;
            }
        }
        m
    }

    fn px(img: &[f32], n: usize, i: usize) -> [f32; 3] {
        [img[i], img[n + i], img[2 * n + i]]
    }

    fn diff(a: [f32; 3], b: [f32; 3]) -> f32 {
        ((a[0] - b[0]).abs() + (a[1] - b[1]).abs() + (a[2] - b[2]).abs()) / 3.0
    }

    /// Mean |dx|+|dy| over the rectangle.
    fn grad_energy(img: &[f32], w: usize, h: usize, r: (usize, usize, usize, usize)) -> f32 {
        let n = w * h;
        let (mut s, mut c) = (0.0, 0.0);
        for y in r.1..r.3 - 1 {
            for x in r.0..r.2 - 1 {
                let i = y * w + x;
                s +=
                    diff(px(img, n, i), px(img, n, i + 1)) + diff(px(img, n, i), px(img, n, i + w));
                c += 1.0;
            }
        }
        s / c
    }

    fn box_blur(img: &[f32], w: usize, h: usize, rad: i32) -> Vec<f32> {
        let n = w * h;
        let mut out = vec![0f32; 3 * n];
        for k in 0..3 {
            for y in 0..h as i32 {
                for x in 0..w as i32 {
                    let (mut s, mut c) = (0.0, 0.0);
                    for dy in -rad..=rad {
                        for dx in -rad..=rad {
                            let (xx, yy) = (x + dx, y + dy);
                            if xx >= 0 && yy >= 0 && xx < w as i32 && yy < h as i32 {
                                s += img[k * n + yy as usize * w + xx as usize];
                                c += 1.0;
                            }
                        }
                    }
                    out[k * n + y as usize * w + x as usize] = s / c;
                }
            }
        }
        out
    }

    struct Scores {
        texture_ratio: f32,
        blur_err: f32,
        row_err: f32,
        seam_ratio: f32,
    }

    fn scores(
        out: &[f32],
        truth: &[f32],
        w: usize,
        h: usize,
        r: (usize, usize, usize, usize),
    ) -> Scores {
        let n = w * h;
        let texture_ratio = grad_energy(out, w, h, r) / grad_energy(truth, w, h, r);
        let (bo, bt) = (box_blur(out, w, h, 4), box_blur(truth, w, h, 4));
        let (mut be, mut c) = (0.0, 0.0);
        let mut row_err = 0.0;
        for y in r.1..r.3 {
            let (mut ro, mut rt) = ([0f32; 3], [0f32; 3]);
            for x in r.0..r.2 {
                let i = y * w + x;
                be += diff(px(&bo, n, i), px(&bt, n, i));
                c += 1.0;
                for k in 0..3 {
                    ro[k] += out[k * n + i];
                    rt[k] += truth[k * n + i];
                }
            }
            row_err += diff(ro, rt) / (r.2 - r.0) as f32;
        }
        row_err /= (r.3 - r.1) as f32;
        // Seam: step across the left/right hole edges vs steps on columns just outside.
        let step = |xa: usize, xb: usize| -> f32 {
            (r.1..r.3)
                .map(|y| diff(px(out, n, y * w + xa), px(out, n, y * w + xb)))
                .sum::<f32>()
                / (r.3 - r.1) as f32
        };
        let across = 0.5 * (step(r.0 - 1, r.0) + step(r.2 - 1, r.2));
        let outside = (2..12)
            .map(|k| 0.5 * (step(r.0 - k - 1, r.0 - k) + step(r.2 + k - 1, r.2 + k)))
            .sum::<f32>()
            / 10.0;
        Scores {
            texture_ratio,
            blur_err: be / c,
            row_err: row_err / 1.0,
            seam_ratio: across / outside,
        }
    }

    fn texture_ok(s: &Scores) -> bool {
        s.texture_ratio >= 0.5 && s.texture_ratio <= 2.0 && s.blur_err <= 0.09
    }

    const W: usize = 256;
    const H: usize = 192;
    const HOLE: (usize, usize, usize, usize) = (80, 60, 176, 132);

    fn run(img: &[f32], seed: u32) -> Vec<f32> {
        let hole = rect_hole(W, H, HOLE.0, HOLE.1, HOLE.2, HOLE.3);
        synthesize(W, H, img, &hole, 1.0, seed)
    }

    #[test]
    fn deterministic_and_thread_independent() {
        let img = sky(W, H);
        let hole = rect_hole(W, H, HOLE.0, HOLE.1, HOLE.2, HOLE.3);
        let a = synthesize_threads(W, H, &img, &hole, 1.0, 7, 1);
        let b = synthesize_threads(W, H, &img, &hole, 1.0, 7, 3);
        let c = synthesize(W, H, &img, &hole, 1.0, 7);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(bits(&a), bits(&c));
        // Another seed gives another fill.
        let d = synthesize_threads(W, H, &img, &hole, 1.0, 8, 2);
        assert_ne!(bits(&a), bits(&d));
    }

    #[test]
    fn outside_hole_untouched() {
        let mut img = bricks(W, H);
        img[5] = f32::NAN;
        img[W * H + 9] = f32::INFINITY;
        img[2 * W * H + 11] = -3.0;
        let out = run(&img, 1);
        let hole = rect_hole(W, H, HOLE.0, HOLE.1, HOLE.2, HOLE.3);
        let n = W * H;
        for i in 0..n {
            for c in 0..4 {
                if hole[i] == 0.0 {
                    assert_eq!(out[c * n + i].to_bits(), img[c * n + i].to_bits());
                } else {
                    assert!(out[c * n + i].is_finite());
                }
            }
        }
    }

    /// The fill of `img`'s hole keeps the truth's texture and leaves no seam.
    fn assert_textured(name: &str, img: &[f32]) {
        let out = run(img, 1);
        let s = scores(&out, img, W, H, HOLE);
        eprintln!(
            "{name}: texture ratio {:.3}, blurred err {:.4}, row err {:.4}, seam ratio {:.3}",
            s.texture_ratio, s.blur_err, s.row_err, s.seam_ratio
        );
        assert!(texture_ok(&s));
        assert!(s.seam_ratio < 2.0);
    }

    #[test]
    fn texture_not_blur_sky() {
        assert_textured("sky", &sky(W, H));
    }

    #[test]
    fn sky_gradient_continues() {
        // Clear sky (gradient + grain): the fill must continue the gradient row by row.
        let img = sky_with(W, H, 0.0);
        let out = run(&img, 2);
        let s = scores(&out, &img, W, H, HOLE);
        eprintln!(
            "clear sky: row err {:.4}, texture ratio {:.3}, seam ratio {:.3}",
            s.row_err, s.texture_ratio, s.seam_ratio
        );
        assert!(s.row_err < 0.01, "gradient not continued: {}", s.row_err);
        assert!(s.seam_ratio < 2.0);
    }

    #[test]
    fn texture_not_blur_bricks() {
        assert_textured("bricks", &bricks(W, H));
    }

    #[test]
    fn trivial_fill_fails_texture_test() {
        for img in [sky(W, H), bricks(W, H)] {
            let n = W * H;
            let hole = rect_hole(W, H, HOLE.0, HOLE.1, HOLE.2, HOLE.3);
            let mut out = img.clone();
            for c in 0..4 {
                let known: Vec<f32> = (0..n)
                    .filter(|&i| hole[i] == 0.0)
                    .map(|i| img[c * n + i])
                    .collect();
                let mean = known.iter().sum::<f32>() / known.len() as f32;
                for i in 0..n {
                    if hole[i] > 0.0 {
                        out[c * n + i] = mean;
                    }
                }
            }
            assert!(!texture_ok(&scores(&out, &img, W, H, HOLE)));
        }
    }

    fn half(img: &[f32], w: usize, h: usize, planes: usize) -> Vec<f32> {
        let (hw, hh) = (w / 2, h / 2);
        let mut out = vec![0f32; planes * hw * hh];
        for c in 0..planes {
            for y in 0..hh {
                for x in 0..hw {
                    let p = |xx: usize, yy: usize| img[c * w * h + yy * w + xx];
                    out[c * hw * hh + y * hw + x] = (p(2 * x, 2 * y)
                        + p(2 * x + 1, 2 * y)
                        + p(2 * x, 2 * y + 1)
                        + p(2 * x + 1, 2 * y + 1))
                        * 0.25;
                }
            }
        }
        out
    }

    #[test]
    fn render_scale_consistent() {
        for img in [sky(W, H), bricks(W, H)] {
            let hole = rect_hole(W, H, HOLE.0, HOLE.1, HOLE.2, HOLE.3);
            let full = synthesize(W, H, &img, &hole, 1.0, 3);
            let (hw, hh) = (W / 2, H / 2);
            let proxy = synthesize(hw, hh, &half(&img, W, H, 4), &half(&hole, W, H, 1), 0.5, 3);
            let down = half(&full, W, H, 4);
            let n = hw * hh;
            let (mut s, mut c) = (0.0, 0.0);
            for y in HOLE.1 / 2..HOLE.3 / 2 {
                for x in HOLE.0 / 2..HOLE.2 / 2 {
                    let i = y * hw + x;
                    s += diff(px(&proxy, n, i), px(&down, n, i));
                    c += 1.0;
                }
            }
            eprintln!("proxy mean abs diff {:.4}", s / c);
            assert!(s / c < 0.03, "proxy differs: {}", s / c);
        }
    }

    #[test]
    fn hard_cases() {
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        // Empty and tiny images.
        assert!(synthesize(0, 0, &[], &[], 1.0, 0).is_empty());
        assert_eq!(synthesize(1, 1, &[0.5; 4], &[1.0], 1.0, 0), vec![0.0; 4]);
        assert_eq!(synthesize(1, 1, &[0.5; 4], &[0.0], 1.0, 0), vec![0.5; 4]);
        // Length mismatch: a padded copy.
        assert_eq!(
            synthesize(2, 1, &[1.0; 3], &[1.0; 2], 1.0, 0),
            vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        // Thin images, every hole position.
        for (w, h) in [(1usize, 40usize), (40, 1), (2, 2), (3, 5), (9, 9), (17, 4)] {
            let img: Vec<f32> = (0..4 * w * h).map(|i| (i % 7) as f32 * 0.1).collect();
            for k in 0..w * h {
                let mut hole = vec![0f32; w * h];
                for j in k..(k + 3).min(w * h) {
                    hole[j] = 1.0;
                }
                let out = synthesize(w, h, &img, &hole, 1.0, 1);
                assert_eq!(out.len(), 4 * w * h);
                assert!(finite(&out));
            }
        }
        let img = sky(W, H);
        let n = W * H;
        // Hole all zeros / NaN: the input back.
        let out = synthesize(W, H, &img, &vec![f32::NAN; n], 1.0, 0);
        assert_eq!(out, img);
        // Hole everything: zeros.
        assert!(synthesize(W, H, &img, &vec![1.0; n], 1.0, 0)
            .iter()
            .all(|&v| v == 0.0));
        // Hole touching edges, 90% hole, bad pixels, odd scales.
        let mut bad = img.clone();
        for i in (0..4 * n).step_by(97) {
            bad[i] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -5.0][i % 4];
        }
        for (hole, scale) in [
            (rect_hole(W, H, 0, 100, 120, H), 1.0),
            (rect_hole(W, H, 100, 0, W, 50), 0.7),
            (rect_hole(W, H, 0, 0, 243, 182), 1.0),
            (rect_hole(W, H, 8, 8, W - 8, H - 8), 0.25),
            (rect_hole(W, H, 30, 30, 60, 60), f64::NAN),
        ] {
            let out = synthesize(W, H, &bad, &hole, scale, 5);
            assert!(finite(
                &out.iter()
                    .enumerate()
                    .filter(|(i, _)| hole[i % n] > 0.0)
                    .map(|(_, v)| *v)
                    .collect::<Vec<_>>()
            ));
        }
    }
}
