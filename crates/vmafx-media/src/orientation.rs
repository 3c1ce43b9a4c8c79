//! Display orientation: the rotation and flip a container asks players to apply (a phone
//! video's display matrix), as one of the eight symmetries of a rectangle.
//!
//! vmafx never lets ffmpeg auto-rotate (`-noautorotate`): the input-matching rules decide
//! when a distorted video is turned to the reference's orientation, and say so. An
//! orientation is the 2×2 part of the display matrix reduced to signs, acting on centred
//! pixel coordinates with y pointing down: `(x', y') = (a·x + c·y, b·x + d·y)`, where
//! `a, b, c, d` are the matrix's elements 0, 1, 3 and 4 (libavutil/display.h). Composing two
//! of them and mapping the result to ffmpeg's `transpose`/`hflip`/`vflip` filters is exact.

use std::fmt;

/// One of the eight orientations: `m = [[a, c], [b, d]]` with entries in {-1, 0, 1}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Orientation {
    m: [[i8; 2]; 2],
}

impl Default for Orientation {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Orientation {
    pub const IDENTITY: Orientation = Orientation { m: [[1, 0], [0, 1]] };

    /// From ffprobe's `displaymatrix` text (nine integers after row labels such as
    /// `00000000:`). `None` when the matrix is not a multiple of 90° (a free rotation, which
    /// vmafx does not apply) or cannot be read.
    pub fn from_display_matrix(text: &str) -> Option<Orientation> {
        let values: Vec<i64> = text
            .lines()
            .filter_map(|l| l.split_once(':').map(|(_, rest)| rest))
            .flat_map(|rest| rest.split_whitespace().map(str::parse::<i64>))
            .collect::<Result<_, _>>()
            .ok()?;
        let [a, b, _, c, d, ..] = values[..] else { return None };
        let sign = |v: i64| -> Option<i8> {
            match v {
                0 => Some(0),
                v if v.unsigned_abs() >= 1 << 15 => Some(v.signum() as i8),
                _ => None,
            }
        };
        let o = Orientation { m: [[sign(a)?, sign(c)?], [sign(b)?, sign(d)?]] };
        o.is_valid().then_some(o)
    }

    fn is_valid(&self) -> bool {
        let [[a, c], [b, d]] = self.m;
        let det = a as i32 * d as i32 - b as i32 * c as i32;
        det.abs() == 1 && (a == 0) == (d == 0) && (b == 0) == (c == 0)
    }

    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }

    /// Whether it turns width into height (a quarter turn, with or without a flip).
    pub fn swaps_axes(&self) -> bool {
        self.m[0][0] == 0
    }

    /// Applies `first`, then `self`.
    pub fn after(&self, first: &Orientation) -> Orientation {
        let (x, y) = (self.m, first.m);
        let mut m = [[0i8; 2]; 2];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = x[i][0] * y[0][j] + x[i][1] * y[1][j];
            }
        }
        Orientation { m }
    }

    /// The orientation that undoes this one (the transpose: these matrices are orthogonal).
    pub fn inverse(&self) -> Orientation {
        let [[a, c], [b, d]] = self.m;
        Orientation { m: [[a, b], [c, d]] }
    }

    /// Size of a `width`×`height` frame once turned.
    pub fn apply_size(&self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// The ffmpeg filters that turn coded pixels by this orientation (empty for identity).
    pub fn ffmpeg_filters(&self) -> &'static [&'static str] {
        match self.m {
            [[1, 0], [0, 1]] => &[],
            [[-1, 0], [0, 1]] => &["hflip"],
            [[1, 0], [0, -1]] => &["vflip"],
            [[-1, 0], [0, -1]] => &["hflip", "vflip"],
            [[0, -1], [1, 0]] => &["transpose=clock"],
            [[0, 1], [-1, 0]] => &["transpose=cclock"],
            [[0, 1], [1, 0]] => &["transpose=cclock_flip"],
            [[0, -1], [-1, 0]] => &["transpose=clock_flip"],
            _ => unreachable!("orientations are built valid"),
        }
    }

    /// Clockwise quarter turns on screen and whether a mirror image is involved, for messages.
    fn turns_and_flip(&self) -> (u32, bool) {
        let [[a, c], [b, d]] = self.m;
        let flipped = (a as i32 * d as i32 - b as i32 * c as i32) < 0;
        // Without the flip (a horizontal mirror applied first), the rotation part remains.
        let r = if flipped { [[-a, c], [-b, d]] } else { [[a, c], [b, d]] };
        let turns = match r {
            [[1, 0], [0, 1]] => 0,
            [[0, -1], [1, 0]] => 1,
            [[-1, 0], [0, -1]] => 2,
            _ => 3,
        };
        (turns, flipped)
    }
}

impl fmt::Display for Orientation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (turns, flipped) = self.turns_and_flip();
        let turn =
            ["", "a 90° clockwise turn", "a 180° turn", "a 90° counter-clockwise turn"][turns as usize];
        match (turns, flipped) {
            (0, false) => f.write_str("no rotation"),
            (0, true) => f.write_str("a horizontal flip"),
            (_, false) => f.write_str(turn),
            (_, true) => write!(f, "a horizontal flip and {turn}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(a: i64, b: i64, c: i64, d: i64) -> String {
        format!("\n00000000: {a:>12} {b:>12} 0\n00000001: {c:>12} {d:>12} 0\n00000002: 0 0 1073741824\n")
    }

    const ONE: i64 = 65536;

    #[test]
    fn reads_ffprobe_display_matrices() {
        // `-display_rotation 90` (counter-clockwise in ffmpeg's terms): shown turned, which
        // ffmpeg's autorotation undoes with transpose=cclock.
        let rot90 = Orientation::from_display_matrix(&matrix(0, -ONE, ONE, 0)).unwrap();
        assert_eq!(rot90.ffmpeg_filters(), ["transpose=cclock"]);
        assert!(rot90.swaps_axes());
        // With `-display_hflip` as well, ffmpeg picks clock_flip.
        let rot90f = Orientation::from_display_matrix(&matrix(0, -ONE, -ONE, 0)).unwrap();
        assert_eq!(rot90f.ffmpeg_filters(), ["transpose=clock_flip"]);
        let rot180 = Orientation::from_display_matrix(&matrix(-ONE, 0, 0, -ONE)).unwrap();
        assert_eq!(rot180.ffmpeg_filters(), ["hflip", "vflip"]);
        assert_eq!(Orientation::from_display_matrix(&matrix(ONE, 0, 0, ONE)), Some(Orientation::IDENTITY));
        // 45°: not something vmafx turns.
        assert_eq!(Orientation::from_display_matrix(&matrix(46341, -46341, 46341, 46341)), None);
        assert_eq!(Orientation::from_display_matrix("garbage"), None);
    }

    #[test]
    fn compose_and_invert() {
        let all: Vec<Orientation> = [
            [[1, 0], [0, 1]],
            [[-1, 0], [0, 1]],
            [[1, 0], [0, -1]],
            [[-1, 0], [0, -1]],
            [[0, -1], [1, 0]],
            [[0, 1], [-1, 0]],
            [[0, 1], [1, 0]],
            [[0, -1], [-1, 0]],
        ]
        .into_iter()
        .map(|m| Orientation { m })
        .collect();
        for o in &all {
            assert!(o.is_valid());
            assert!(o.inverse().after(o).is_identity(), "{o:?}");
            for p in &all {
                assert!(all.contains(&o.after(p)), "the group is closed");
            }
        }
        let clock = all[4];
        assert_eq!(clock.after(&clock), all[3], "two quarter turns are a half turn");
        assert_eq!(clock.to_string(), "a 90° clockwise turn");
        assert_eq!(all[5].to_string(), "a 90° counter-clockwise turn");
        assert_eq!(all[1].to_string(), "a horizontal flip");
        assert_eq!(clock.apply_size(1280, 720), (720, 1280));
    }
}
