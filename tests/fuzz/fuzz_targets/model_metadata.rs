//! A model's contract metadata (`key=value` lines here): never panics, and
//! whatever it accepts keeps the bounds the plugin relies on.
#![no_main]

use collapse_ofx::inference::Metadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    let Ok(m) = Metadata::parse(get) else {
        return;
    };
    assert!(m.halo <= 512);
    for margins in [m.reach, m.context] {
        for v in [margins.left, margins.bottom, margins.right, margins.top] {
            assert!(v.is_finite() && (0.0..=16.0).contains(&v), "{margins:?}");
        }
    }
    for (i, c) in m.controls.iter().enumerate() {
        assert!(c.min <= c.default && c.default <= c.max, "{c:?}");
        assert!(m.controls[..i].iter().all(|o| o.name != c.name), "{c:?} twice");
    }
});
