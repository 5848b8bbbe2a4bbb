//! Medians, ranges and number formatting for `bench --all`.

use std::collections::BTreeMap;

/// One figure over several runs: its median, minimum and maximum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The median of the runs (the mean of the two middle values for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many runs produced the figure.
    pub n: usize,
}

impl Spread {
    /// The spread of `values`; `None` when there is none (or only NaNs).
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
            n,
        })
    }

    /// `median{unit} (min-max)`, or the value and unit alone for one run.
    pub fn show_with(&self, unit: &str) -> String {
        let whole = [self.median, self.min, self.max]
            .iter()
            .all(|x| x.fract() == 0.0 && x.abs() >= 1.0);
        let show = |x: f64| if whole { whole_num(x) } else { num(x) };
        if self.n <= 1 || self.min == self.max {
            return format!("{}{unit}", show(self.median));
        }
        format!(
            "{}{unit} ({}-{})",
            show(self.median),
            show(self.min),
            show(self.max)
        )
    }
}

/// The figures of one run of one section, by key.
pub type Figures = BTreeMap<String, f64>;

/// Every key of `runs` with its spread over the runs that have it.
pub fn spreads(runs: &[Figures]) -> BTreeMap<String, Spread> {
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for run in runs {
        for (k, v) in run {
            values.entry(k.clone()).or_default().push(*v);
        }
    }
    values
        .into_iter()
        .filter_map(|(k, v)| Spread::of(&v).map(|s| (k, s)))
        .collect()
}

/// A number with as many decimals as its size deserves (3 significant
/// figures at least) and thousands separators from 1,000 up.
pub fn num(x: f64) -> String {
    let a = x.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    with_decimals(x, decimals)
}

/// A whole number (a count), with thousands separators from 1,000 up.
pub fn whole_num(x: f64) -> String {
    with_decimals(x, 0)
}

fn with_decimals(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let a = x.abs();
    let text = format!("{x:.decimals$}");
    if a < 1_000.0 {
        return text;
    }
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle_and_the_ends() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        let s = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(Spread::of(&[]).is_none());
        assert!(Spread::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn numbers_are_shown_with_their_range() {
        assert_eq!(
            Spread::of(&[818.4, 790.2, 840.0]).unwrap().show_with(""),
            "818 (790-840)"
        );
        assert_eq!(Spread::of(&[0.1012]).unwrap().show_with(""), "0.101");
        assert_eq!(
            Spread::of(&[1.5, 2.5, 3.5]).unwrap().show_with(" ms"),
            "2.50 ms (1.50-3.50)"
        );
        assert_eq!(num(11186.2), "11,186");
        assert_eq!(num(2.0), "2.00");
        assert_eq!(num(1059.4), "1,059");
        assert_eq!(whole_num(1.0), "1");
        // Counts (every value whole) are shown whole.
        assert_eq!(Spread::of(&[77.0]).unwrap().show_with(" files"), "77 files");
        assert_eq!(
            Spread::of(&[14.0, 13.0, 15.0]).unwrap().show_with(""),
            "14 (13-15)"
        );
        assert_eq!(
            Spread::of(&[11.0, 11.5, 12.0]).unwrap().show_with(""),
            "11.5 (11.0-12.0)"
        );
        assert_eq!(num(-12.34), "-12.3");
        assert_eq!(num(1_087_262.0), "1,087,262");
        assert_eq!(num(f64::NAN), "—");
    }

    #[test]
    fn spreads_skip_keys_a_run_lacks() {
        let a: Figures = [("x".to_string(), 1.0), ("y".to_string(), 5.0)].into();
        let b: Figures = [("x".to_string(), 3.0)].into();
        let s = spreads(&[a, b]);
        assert_eq!(s["x"].n, 2);
        assert_eq!(s["y"].n, 1);
    }
}
