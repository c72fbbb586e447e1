//! Fingerprints of the tensors and settings a cached result depends on: a 64-bit
//! hash, not cryptographic (only one plugin's own results are compared with it).
//! Long float slices are hashed in four independent lanes, so the hash runs at
//! memory speed rather than at the latency of one multiply chain.

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
    }
}

impl Fingerprint {
    pub fn new() -> Self {
        Fingerprint(0x243f_6a88_85a3_08d3)
    }

    pub fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(23) ^ w).wrapping_mul(MIX);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        for chunk in b.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(w));
        }
    }

    pub fn floats(&mut self, v: &[f32]) {
        self.word(v.len() as u64);
        let pair = |lo: f32, hi: f32| ((hi.to_bits() as u64) << 32) | lo.to_bits() as u64;
        let mut lanes = [
            MIX,
            MIX.rotate_left(16),
            MIX.rotate_left(32),
            MIX.rotate_left(48),
        ];
        let mut chunks = v.chunks_exact(8);
        for c in &mut chunks {
            for (k, lane) in lanes.iter_mut().enumerate() {
                *lane = (lane.rotate_left(23) ^ pair(c[2 * k], c[2 * k + 1])).wrapping_mul(MIX);
            }
        }
        lanes.iter().for_each(|&l| self.word(l));
        for p in chunks.remainder().chunks(2) {
            self.word(pair(p[0], p.get(1).copied().unwrap_or(0.0)));
        }
    }

    /// The fingerprint, with a final mix so that every input bit reaches every output bit.
    pub fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_see_every_value_and_their_order() {
        let print = |v: &[f32]| {
            let mut f = Fingerprint::new();
            f.floats(v);
            f.finish()
        };
        let base = [0.25f32, 0.5, 0.75];
        assert_eq!(print(&base), print(&base));
        assert_ne!(print(&base), print(&[0.25, 0.75, 0.5]));
        assert_ne!(print(&base), print(&[0.25, 0.5, 0.75, 0.0]));
        assert_ne!(
            print(&base),
            print(&[0.25, 0.5, f32::from_bits(0.75f32.to_bits() + 1)])
        );
        // Long slices (the four lanes): any one value, two values swapped within a lane
        // or across lanes, and the tail after the last whole chunk.
        let long: Vec<f32> = (0..1003).map(|i| (i as f32 * 0.37).sin()).collect();
        let whole = print(&long);
        for at in [0, 1, 7, 8, 500, 999, 1002] {
            let mut v = long.clone();
            v[at] = f32::from_bits(v[at].to_bits() ^ 1);
            assert_ne!(print(&v), whole, "a change at {at} is not seen");
        }
        for (a, b) in [(0, 8), (0, 2), (3, 5), (1000, 1001)] {
            let mut v = long.clone();
            v.swap(a, b);
            assert_ne!(print(&v), whole, "{a} and {b} swapped are not seen");
        }
    }
}
