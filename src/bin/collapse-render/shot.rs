//! Shot files: a small TOML subset (`key = value` lines, `[params]` table,
//! `#` comments; values are "strings", numbers, true/false or [number, ...]).
//!
//! ```toml
//! plate = "plates/city.####.exr"
//! output = "renders/collapse.####.exr"
//! frames = "1-96"
//! [params]
//! bottomLeft = [700, 120]
//! size = [500, 800]
//! startFrame = 12
//! seed = 7
//! output = "Composite"
//! ```

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<f64>),
}

/// A parsed shot: top-level settings and plugin parameters, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shot {
    pub settings: BTreeMap<String, Value>,
    pub params: Vec<(String, Value)>,
}

pub fn parse(text: &str) -> Result<Shot, String> {
    let mut shot = Shot::default();
    let mut in_params = false;
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        let at = |why: String| format!("line {}: {why}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let name = section
                .strip_suffix(']')
                .ok_or_else(|| at("a section header must end with ']'".into()))?
                .trim();
            match name {
                "params" => in_params = true,
                other => return Err(at(format!("unknown section [{other}] (only [params])"))),
            }
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| at(format!("expected 'key = value', got '{line}'")))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(at(format!("'{key}' is not a valid key")));
        }
        let value = parse_value(value.trim()).map_err(at)?;
        if in_params {
            if shot.params.iter().any(|(k, _)| k == key) {
                return Err(at(format!("parameter '{key}' is set twice")));
            }
            shot.params.push((key.to_string(), value));
        } else if shot.settings.insert(key.to_string(), value).is_some() {
            return Err(at(format!("'{key}' is set twice")));
        }
    }
    Ok(shot)
}

/// Drops a `#` comment that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

pub fn parse_value(v: &str) -> Result<Value, String> {
    if let Some(inner) = v.strip_prefix('"') {
        let body = inner
            .strip_suffix('"')
            .ok_or_else(|| format!("unterminated string {v}"))?;
        if body.contains('"') {
            return Err(format!("a string may not contain '\"': {v}"));
        }
        return Ok(Value::Text(body.replace("\\\\", "\\")));
    }
    if let Some(inner) = v.strip_prefix('[') {
        let body = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("unterminated list {v}"))?;
        let items: Result<Vec<f64>, String> = body
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| number(s).ok_or_else(|| format!("'{s}' in {v} is not a number")))
            .collect();
        return Ok(Value::List(items?));
    }
    match v {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    number(v)
        .map(Value::Number)
        .ok_or_else(|| format!("'{v}' is not a string, number, boolean or list"))
}

/// Writes a shot back as text that [`parse`] reads as the same shot.
#[cfg_attr(not(test), allow(dead_code))]
pub fn to_text(shot: &Shot) -> String {
    let value = |v: &Value| match v {
        Value::Text(t) => format!("\"{}\"", t.replace('\\', "\\\\")),
        Value::Number(n) => format!("{n:?}"),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|n| format!("{n:?}")).collect();
            format!("[{}]", items.join(", "))
        }
    };
    let mut out = String::new();
    for (k, v) in &shot.settings {
        out += &format!("{k} = {}\n", value(v));
    }
    out += "[params]\n";
    for (k, v) in &shot.params {
        out += &format!("{k} = {}\n", value(v));
    }
    out
}

fn number(s: &str) -> Option<f64> {
    s.replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_shot() {
        let s = parse("plate = \"a.####.exr\" # the plate\nframes = \"1-9\"\n\n[params]\nsize = [1, 2.5]\nseed = 7\nx = true\n").unwrap();
        assert_eq!(s.settings["plate"], Value::Text("a.####.exr".into()));
        assert_eq!(s.params[0], ("size".into(), Value::List(vec![1.0, 2.5])));
        assert_eq!(s.params[1], ("seed".into(), Value::Number(7.0)));
        assert_eq!(s.params[2], ("x".into(), Value::Bool(true)));
    }

    #[test]
    fn refuses_bad_lines() {
        for bad in [
            "a",
            "[other]",
            "a = \"x",
            "a = [1, b]",
            "a = nan",
            "= 1",
            "a = 1\na = 2",
            "[params\n",
            "a b = 1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        let text = "plate = \"C:\\\\plates\\\\a #1.exr\"\n[params]\nsize = [1, 2.5e-3, -0]\nseed = 1e300\nx = false\ne = []\n";
        let shot = parse(text).unwrap();
        assert_eq!(
            shot.settings["plate"],
            Value::Text("C:\\plates\\a #1.exr".into())
        );
        assert_eq!(parse(&to_text(&shot)).unwrap(), shot);
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        // A cheap deterministic fuzz: every prefix and byte-rotation of a messy shot.
        let messy = "plate = \"p.##.png\"\n[params]\nsize = [1,2,]\n# c\nx=\"#\"\n[\n=\n\"\n]\n";
        for i in 0..messy.len() {
            if messy.is_char_boundary(i) {
                let _ = parse(&messy[..i]);
                let _ = parse(&messy[i..]);
            }
        }
    }
}
