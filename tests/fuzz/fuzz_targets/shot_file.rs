//! The renderer's shot-file reader (toml + serde): never panics, and whatever it
//! accepts it writes back as TOML that reads as the same shot.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../../src/bin/collapse-render/shot.rs"]
mod shot;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        let _ = shot::parse_value(line.trim());
    }
    if let Ok(parsed) = shot::parse(text) {
        let written = shot::to_text(&parsed);
        let again = shot::parse(&written)
            .unwrap_or_else(|e| panic!("the written shot does not parse ({e}):\n{written}"));
        assert_eq!(again, parsed, "written as:\n{written}");
    }
});
