//! Image sequence names and frame ranges.

use std::path::PathBuf;

/// A file name that may hold a frame number: `plate.####.exr` (hashes give the
/// padding) or `plate.%04d.exr`. Without one, the file is a still used for every frame.
#[derive(Clone, Debug)]
pub struct Sequence {
    pattern: String,
}

impl Sequence {
    pub fn new(pattern: &str) -> Self {
        Sequence {
            pattern: pattern.to_string(),
        }
    }

    pub fn is_still(&self) -> bool {
        !self.pattern.contains('#') && find_printf(&self.pattern).is_none()
    }

    pub fn path(&self, frame: i64) -> PathBuf {
        if let Some((start, end, width)) = find_printf(&self.pattern) {
            return PathBuf::from(format!(
                "{}{}{}",
                &self.pattern[..start],
                pad(frame, width),
                &self.pattern[end..]
            ));
        }
        if let Some(start) = self.pattern.rfind('#') {
            let run = self.pattern[..=start]
                .chars()
                .rev()
                .take_while(|c| *c == '#')
                .count();
            let first = start + 1 - run;
            return PathBuf::from(format!(
                "{}{}{}",
                &self.pattern[..first],
                pad(frame, run),
                &self.pattern[start + 1..]
            ));
        }
        PathBuf::from(&self.pattern)
    }
}

fn pad(frame: i64, width: usize) -> String {
    if frame < 0 {
        format!("-{:0width$}", -frame, width = width.saturating_sub(1))
    } else {
        format!("{frame:0width$}")
    }
}

/// `%d` or `%0Nd`: (start, end, width).
fn find_printf(s: &str) -> Option<(usize, usize, usize)> {
    let start = s.find('%')?;
    let rest = &s[start + 1..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !rest[digits.len()..].starts_with('d') {
        return None;
    }
    let width = digits.trim_start_matches('0').parse::<usize>().unwrap_or(0);
    Some((start, start + 1 + digits.len() + 1, width))
}

/// Frames `first..=last` every `step`: a whole shot or one farm chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRange {
    pub first: i64,
    pub last: i64,
    pub step: i64,
}

impl FrameRange {
    /// `12`, `1-96` or `1-96x2` (negative frames allowed: `-5--1`).
    pub fn parse(text: &str) -> Result<FrameRange, String> {
        let bad = || format!("frame range '{text}' must look like 12, 1-96 or 1-96x2");
        let (range, step) = match text.split_once('x') {
            Some((r, s)) => (r, s.trim().parse::<i64>().map_err(|_| bad())?),
            None => (text, 1),
        };
        let range = range.trim();
        let split = range
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '-')
            .map(|(i, _)| i);
        let (first, last) = match split {
            Some(i) => (
                range[..i].trim().parse::<i64>().map_err(|_| bad())?,
                range[i + 1..].trim().parse::<i64>().map_err(|_| bad())?,
            ),
            None => {
                let f = range.parse::<i64>().map_err(|_| bad())?;
                (f, f)
            }
        };
        FrameRange::new(first, last, step)
    }

    pub fn new(first: i64, last: i64, step: i64) -> Result<FrameRange, String> {
        if step < 1 {
            return Err(format!("frame step must be at least 1, not {step}"));
        }
        if last < first {
            return Err(format!("last frame {last} is before first frame {first}"));
        }
        Ok(FrameRange { first, last, step })
    }

    pub fn frames(&self) -> impl Iterator<Item = i64> {
        (self.first..=self.last).step_by(self.step as usize)
    }

    pub fn len(&self) -> usize {
        ((self.last - self.first) / self.step + 1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(
            Sequence::new("a.####.exr").path(7),
            PathBuf::from("a.0007.exr")
        );
        assert_eq!(
            Sequence::new("a.%04d.png").path(12),
            PathBuf::from("a.0012.png")
        );
        assert_eq!(
            Sequence::new("a.%d.png").path(12),
            PathBuf::from("a.12.png")
        );
        assert_eq!(
            Sequence::new("shots/a#.png").path(3),
            PathBuf::from("shots/a3.png")
        );
        assert!(Sequence::new("still.png").is_still());
        assert!(!Sequence::new("s.##.png").is_still());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            FrameRange::parse("1-96").unwrap(),
            FrameRange {
                first: 1,
                last: 96,
                step: 1
            }
        );
        assert_eq!(FrameRange::parse("1-96x4").unwrap().len(), 24);
        assert_eq!(FrameRange::parse("12").unwrap().len(), 1);
        assert_eq!(
            FrameRange::parse("-5--1").unwrap(),
            FrameRange {
                first: -5,
                last: -1,
                step: 1
            }
        );
        assert!(FrameRange::parse("9-1").is_err());
        assert!(FrameRange::parse("1-9x0").is_err());
        assert!(FrameRange::parse("a-b").is_err());
    }
}
