//! Shot files: TOML, read with `toml` and `serde`. Top-level settings name the
//! inputs, outputs and frames; the `[params]` table sets plugin parameters by
//! their script names, in file order.
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

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A parameter's value as a shot file or `--set` gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<f64>),
}

/// A parsed shot file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// The output sequence (not the `output` parameter, which lives in `[params]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "finite"
    )]
    pub scale: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "finite"
    )]
    pub fps: Option<f64>,
    #[serde(default, with = "ordered_params")]
    pub params: Vec<(String, Value)>,
}

/// Reads a shot file's text. Errors give the line, column and key (toml's report).
pub fn parse(text: &str) -> Result<Shot, String> {
    toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
}

/// One TOML value on its own (`7`, `true`, `"text"`, `[1, 2]`).
pub fn parse_value(text: &str) -> Result<Value, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct One {
        v: Value,
    }
    toml::from_str::<One>(&format!("v = {text}"))
        .map(|one| one.v)
        .map_err(|e| e.message().to_string())
}

/// Writes a shot back as TOML that [`parse`] reads as the same shot.
#[cfg_attr(not(test), allow(dead_code))]
pub fn to_text(shot: &Shot) -> String {
    toml::to_string(shot).expect("a shot of strings and finite numbers is valid TOML")
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a finite number, true/false or a list of numbers")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Number(n as f64))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
                Ok(Value::Number(n as f64))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
                check_finite(n).map(Value::Number)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Text(s.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(n) = seq.next_element::<f64>()? {
                    items.push(check_finite(n)?);
                }
                Ok(Value::List(items))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(t) => s.serialize_str(t),
            Value::Number(n) => s.serialize_f64(*n),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::List(items) => items.serialize(s),
        }
    }
}

fn check_finite<E: de::Error>(n: f64) -> Result<f64, E> {
    if n.is_finite() {
        Ok(n)
    } else {
        Err(E::custom(format!("{n} is not a finite number")))
    }
}

fn finite<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)?.map(check_finite).transpose()
}

/// `[params]` as (name, value) pairs in file order (toml's `preserve_order`).
mod ordered_params {
    use super::Value;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Value)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, Value)>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of parameter = value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    pairs.push((k, v));
                }
                Ok(pairs)
            }
        }
        d.deserialize_map(Pairs)
    }

    pub fn serialize<S: Serializer>(params: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(params.len()))?;
        for (k, v) in params {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_shot() {
        let s = parse("plate = \"a.####.exr\" # the plate\nframes = \"1-9\"\n\n[params]\nsize = [1, 2.5]\nseed = 7\nx = true\n").unwrap();
        assert_eq!(s.plate.as_deref(), Some("a.####.exr"));
        assert_eq!(s.frames.as_deref(), Some("1-9"));
        assert_eq!(s.params[0], ("size".into(), Value::List(vec![1.0, 2.5])));
        assert_eq!(s.params[1], ("seed".into(), Value::Number(7.0)));
        assert_eq!(s.params[2], ("x".into(), Value::Bool(true)));
    }

    #[test]
    fn reads_the_shot_files_of_earlier_versions() {
        // As tools/demo.sh wrote them, and the older subset's corners: comments,
        // `#` inside strings, trailing commas, underscores, exponents, escapes.
        let old = "# Demo shot: the building in the middle of the plate gives way at frame 12.\n\
                   plate = \"plate.png\"\nmask = \"building_matte.png\"\noutput = \"frames/collapse.####.png\"\n\
                   frames = \"1-96\"\nfps = 24\n\n[params]\nbottomLeft = [740.5, 76]\nsize = [455, 900,]\n\
                   startFrame = 12\nduration = 72\nseed = 7\nx = \"a #1\"\ny = 1_000\nz = 2.5e-3\n\
                   w = \"C:\\\\plates\"\nhalfPrecision = false\n";
        let s = parse(old).unwrap();
        assert_eq!(s.output.as_deref(), Some("frames/collapse.####.png"));
        assert_eq!(s.fps, Some(24.0));
        let p: std::collections::HashMap<_, _> = s.params.iter().cloned().collect();
        assert_eq!(p["bottomLeft"], Value::List(vec![740.5, 76.0]));
        assert_eq!(p["size"], Value::List(vec![455.0, 900.0]));
        assert_eq!(p["x"], Value::Text("a #1".into()));
        assert_eq!(p["y"], Value::Number(1000.0));
        assert_eq!(p["z"], Value::Number(0.0025));
        assert_eq!(p["w"], Value::Text("C:\\plates".into()));
        assert_eq!(p["halfPrecision"], Value::Bool(false));
        let names: Vec<&str> = s.params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            &names[..3],
            ["bottomLeft", "size", "startFrame"],
            "file order is kept"
        );
    }

    #[test]
    fn refuses_bad_files_with_the_line_and_key() {
        for (bad, says) in [
            ("a", "line 1"),
            ("[other]\nx = 1", "other"),
            ("plate = \"x", "line 1"),
            ("[params]\na = [1, \"b\"]", "line 2"),
            ("[params]\nseed = nan", "line 2"),
            ("= 1", "line 1"),
            ("plate = \"a\"\nplate = \"b\"", "line 2"),
            ("[params\n", "line 1"),
            ("plate = 1", "plate"),
            ("fps = inf", "fps"),
            ("colour = \"red\"", "colour"),
            ("[params]\nsize = { w = 1 }", "size"),
        ] {
            let e = parse(bad).expect_err(&format!("{bad:?} should be refused"));
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        let text = "plate = \"C:\\\\plates\\\\a #1.exr\"\nscale = 0.5\n[params]\nsize = [1, 2.5e-3, -0]\nseed = 1e300\nx = false\ne = []\nt = \"q\\\"uote\"\n";
        let shot = parse(text).unwrap();
        assert_eq!(shot.plate.as_deref(), Some("C:\\plates\\a #1.exr"));
        assert_eq!(parse(&to_text(&shot)).unwrap(), shot);
    }

    #[test]
    fn single_values() {
        assert_eq!(parse_value("7"), Ok(Value::Number(7.0)));
        assert_eq!(parse_value("\"a b\""), Ok(Value::Text("a b".into())));
        assert_eq!(parse_value("[1, 2]"), Ok(Value::List(vec![1.0, 2.0])));
        assert_eq!(parse_value("true"), Ok(Value::Bool(true)));
        assert!(parse_value("Matte").is_err());
        assert!(parse_value("1\nplate = 2").is_err());
    }
}
