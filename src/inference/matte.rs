//! The building's matte when no Mask is connected: a per-shot stage beside the
//! clean plate. Inside the region, what is behind or beside the building (sky,
//! hills, trees) is what can be reached from outside the region through smooth
//! colour: a flood from the band just above the region's top and the columns
//! just beside its left and right edges, stepping only between neighbouring
//! pixels of nearly the same colour, and never far from the colour seen outside
//! (above that column, or beside that row). What the flood cannot reach is the
//! building: its facade edge stops the flood, and its windows are never connected
//! to the outside. The edge is
//! then grown by a pixel and softened outward, so it follows the building to the
//! pixel, keeps no fringe of it outside and has no stair steps.
//!
//! The result depends only on the plate over the source window and the region's
//! coverage, never on the order of the flood (it is the set reachable through
//! admissible steps), so it is deterministic and tile-invariant.

use std::collections::VecDeque;

/// Largest colour step between neighbouring background pixels, relative to
/// their brightness (sky gradients and soft clouds pass, a facade's edge does not).
const STEP: f32 = 0.035;
/// Largest distance from the colour above the region in the same column,
/// relative to its brightness (the flood may not drift into the building).
const DRIFT: f32 = 0.35;
/// Rows above (columns beside) the region whose colours seed the flood and set the references.
const SEED_ROWS: usize = 3;

/// The building's coverage over the window (`width * height`, rows top first):
/// `region` (the region rectangle's coverage) where the pixel belongs to the
/// building, 0 where it is background reached from outside the region. `rgba` is planar
/// premultiplied RGBA over the same window.
pub fn estimate(width: usize, height: usize, rgba: &[f32], region: &[f32]) -> Vec<f32> {
    let n = width * height;
    if n == 0 || rgba.len() < 4 * n || region.len() < n {
        return region.to_vec();
    }
    let colour = |i: usize| {
        let v = [rgba[i], rgba[n + i], rgba[2 * n + i]];
        v.map(|c| if c.is_finite() { c.max(0.0) } else { 0.0 })
    };
    let inside = |i: usize| region[i] > 0.0;
    // The region's rows and columns in the window.
    let Some(top) = (0..height).find(|&j| (0..width).any(|i| inside(j * width + i))) else {
        return region.to_vec();
    };
    let left = (0..width)
        .find(|&i| (0..height).any(|j| inside(j * width + i)))
        .unwrap_or(0);
    let right = (0..width)
        .rev()
        .find(|&i| (0..height).any(|j| inside(j * width + i)))
        .unwrap_or(0);

    // References: each column's mean colour just above the region, and each
    // row's just beside the region's left and right edges.
    let mean_of = |at: &mut dyn Iterator<Item = usize>| {
        let (mut s, mut k) = ([0.0f32; 3], 0.0f32);
        for i in at {
            let c = colour(i);
            (0..3).for_each(|ch| s[ch] += c[ch]);
            k += 1.0;
        }
        (k > 0.0).then(|| s.map(|v| v / k))
    };
    let seed_rows: Vec<usize> = (top.saturating_sub(SEED_ROWS)..top).collect();
    let above: Vec<Option<[f32; 3]>> = (0..width)
        .map(|i| mean_of(&mut seed_rows.iter().map(|j| j * width + i)))
        .collect();
    let beside = |lo: usize, hi: usize| -> Vec<Option<[f32; 3]>> {
        (0..height)
            .map(|j| mean_of(&mut (lo..hi).map(|i| j * width + i)))
            .collect()
    };
    let on_left = beside(left.saturating_sub(SEED_ROWS), left);
    let on_right = beside(right + 1, (right + 1 + SEED_ROWS).min(width));
    let close = |a: [f32; 3], b: [f32; 3], tolerance: f32| {
        let scale = (a[0] + a[1] + a[2] + b[0] + b[1] + b[2]) / 6.0 + 0.02;
        let d = (a[0] - b[0])
            .abs()
            .max((a[1] - b[1]).abs())
            .max((a[2] - b[2]).abs());
        d <= tolerance * scale
    };
    let admissible = |i: usize| {
        let (c, x, y) = (colour(i), i % width, i / width);
        inside(i)
            && [above[x], on_left[y], on_right[y]]
                .iter()
                .flatten()
                .any(|r| close(c, *r, DRIFT))
    };

    // The flood: background = reachable from the seeds through admissible steps.
    let mut background = vec![false; n];
    let mut queue = VecDeque::new();
    let mut seed = |at: usize, outside: usize| {
        if !background[at] && admissible(at) && close(colour(at), colour(outside), STEP) {
            background[at] = true;
            queue.push_back(at);
        }
    };
    // (A region cut by the window's top, a building taller than the frame, has
    // no sky above it to seed from; nor does a side at the window's edge.)
    if top > 0 {
        for i in left..=right {
            seed(top * width + i, (top - 1) * width + i);
        }
    }
    for j in top..height {
        if left > 0 {
            seed(j * width + left, j * width + left - 1);
        }
        if right + 1 < width {
            seed(j * width + right, j * width + right + 1);
        }
    }
    while let Some(p) = queue.pop_front() {
        let (x, y) = (p % width, p / width);
        let cp = colour(p);
        let mut visit = |q: usize| {
            if !background[q] && admissible(q) && close(cp, colour(q), STEP) {
                background[q] = true;
                queue.push_back(q);
            }
        };
        if x > 0 {
            visit(p - 1);
        }
        if x + 1 < width {
            visit(p + 1);
        }
        if y > 0 {
            visit(p - width);
        }
        if y + 1 < height {
            visit(p + width);
        }
    }

    // The building, grown by one pixel (its anti-aliased or compressed outline
    // belongs to it, or a ghost of the outline would stay), then softened outward
    // over one more: full cover inside, partial just outside.
    let hard: Vec<bool> = (0..n).map(|i| inside(i) && !background[i]).collect();
    let near = |i: usize, r: usize| {
        let (x, y) = (i % width, i / width);
        let mut k = 0usize;
        let mut of = 0usize;
        for yy in y.saturating_sub(r)..(y + r + 1).min(height) {
            for xx in x.saturating_sub(r)..(x + r + 1).min(width) {
                k += hard[yy * width + xx] as usize;
                of += 1;
            }
        }
        (k, of)
    };
    let grown: Vec<bool> = (0..n).map(|i| hard[i] || near(i, 1).0 > 0).collect();
    (0..n)
        .map(|i| {
            if !inside(i) {
                0.0
            } else if grown[i] {
                region[i]
            } else {
                let (k, of) = near(i, 2);
                region[i] * (k as f32 / of as f32).min(0.5)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sky gradient with a building (a tower with a setback) and windows.
    fn scene(w: usize, h: usize) -> (Vec<f32>, Vec<f32>, Vec<bool>) {
        let n = w * h;
        let mut rgba = vec![0.0f32; 4 * n];
        let mut region = vec![0.0f32; n];
        let mut truth = vec![false; n];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let t = y as f32 / h as f32;
                let mut c = [0.35 + 0.3 * t, 0.5 + 0.2 * t, 0.9, 1.0];
                let in_region = (20..80).contains(&x) && y >= 20;
                let building = (30..70).contains(&x) && y >= 40 || (40..60).contains(&x) && y >= 30;
                if building {
                    let window = (x % 6) < 3 && (y % 8) < 4;
                    c = if window {
                        [0.2, 0.2, 0.25, 1.0]
                    } else {
                        [0.7, 0.5, 0.4, 1.0]
                    };
                }
                for k in 0..4 {
                    rgba[k * n + i] = c[k];
                }
                region[i] = in_region as i32 as f32;
                truth[i] = building && in_region;
            }
        }
        (rgba, region, truth)
    }

    #[test]
    fn the_building_is_found_and_the_sky_beside_it_is_not() {
        let (w, h) = (100, 90);
        let (rgba, region, truth) = scene(w, h);
        let m = estimate(w, h, &rgba, &region);
        // All of the building is covered, its outline grown by a pixel...
        let missed = (0..w * h).filter(|&i| truth[i] && m[i] < 1.0).count();
        assert_eq!(missed, 0, "{missed} building pixels not fully covered");
        // ...and the sky a few pixels away from it is not.
        let near_building = |i: usize| {
            let (x, y) = ((i % w) as i32, (i / w) as i32);
            (-3..=3).any(|dy: i32| {
                (-3..=3).any(|dx: i32| {
                    let (xx, yy) = (x + dx, y + dy);
                    xx >= 0
                        && yy >= 0
                        && (xx as usize) < w
                        && (yy as usize) < h
                        && truth[yy as usize * w + xx as usize]
                })
            })
        };
        let wrong = (0..w * h)
            .filter(|&i| !near_building(i) && m[i] > 0.0)
            .count();
        assert!(
            wrong < 20,
            "{wrong} sky pixels away from the building taken for it"
        );
        // Windows are not connected to the sky: they belong to the building.
        assert_eq!(m[45 * w + 31], 1.0);
        // Outside the region nothing.
        assert!((0..w * h).all(|i| region[i] > 0.0 || m[i] == 0.0));
        // The flood's order does not matter: the same bits twice.
        assert_eq!(m, estimate(w, h, &rgba, &region));
    }

    #[test]
    fn degenerate_inputs_never_panic() {
        assert!(estimate(0, 0, &[], &[]).is_empty());
        assert_eq!(estimate(1, 1, &[f32::NAN; 4], &[1.0]), vec![1.0]);
        let (w, h) = (10, 10);
        let rgba = vec![f32::INFINITY; 4 * w * h];
        let region = vec![1.0; w * h];
        let m = estimate(w, h, &rgba, &region);
        assert!(m.iter().all(|v| v.is_finite()));
        assert_eq!(estimate(w, h, &rgba, &vec![0.0; w * h]), vec![0.0; w * h]);
    }
}
