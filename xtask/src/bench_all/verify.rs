//! `bench --all --verify`: whether a re-run reproduces the figures
//! BENCHMARKS.md states. A figure is reproduced when the re-run's median
//! falls within the min-max its block states (the file's own definition, in
//! its Method section); the result is the `reproduction` block, so the
//! claim "the benchmarks reproduce" is itself a generated, checkable figure.
//!
//! Run-to-run noise alone moves some medians out of a min-max of a few runs
//! (a third of single re-runs fall outside the min-max of 5 runs), so the
//! block also states how many figures noise alone would leave inside
//! ([`chance_inside`]) and how many moved beyond their whole stated range
//! ([`Check::beyond`], [`chance_beyond`]): a re-run that reproduces about
//! as many as chance predicts shows noise, not a change.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::render::table;
use super::stats::{num, Spread};

/// One figure's stated range against its re-run.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The figure's key in the data comment.
    pub key: String,
    /// What the block states.
    pub stated: Spread,
    /// The re-run's spread.
    pub fresh: Spread,
}

impl Check {
    /// The re-run's median, at the precision the data comment keeps, is
    /// within the stated min-max.
    pub fn inside(&self) -> bool {
        let m = super::markdown::round4(self.fresh.median);
        self.stated.min <= m && m <= self.stated.max
    }

    /// Every re-run was outside the stated min-max, on the same side: the
    /// ranges do not even overlap.
    pub fn beyond(&self) -> bool {
        self.fresh.max < self.stated.min || self.fresh.min > self.stated.max
    }

    /// A figure that did not vary over several runs, stated or re-run (a
    /// byte or request count): it reproduces exactly or has changed.
    pub fn constant(&self) -> bool {
        self.stated.n > 1
            && self.fresh.n > 1
            && self.stated.min == self.stated.max
            && self.fresh.min == self.fresh.max
    }

    /// The chance that run-to-run noise alone leaves this figure inside
    /// (1 for a constant figure).
    pub fn chance_inside(&self) -> f64 {
        if self.constant() {
            1.0
        } else {
            chance_inside(self.stated.n, self.fresh.n)
        }
    }

    /// The chance that run-to-run noise alone puts every re-run beyond the
    /// stated range (0 for a constant figure).
    pub fn chance_beyond(&self) -> f64 {
        if self.constant() {
            0.0
        } else {
            chance_beyond(self.stated.n, self.fresh.n)
        }
    }

    /// How far the re-run's median moved from the stated median, as a
    /// fraction of it (`None` when the stated median is 0).
    pub fn moved(&self) -> Option<f64> {
        (self.stated.median != 0.0)
            .then(|| (self.fresh.median - self.stated.median) / self.stated.median.abs())
    }
}

/// The chance that the median of `m` re-runs falls within the min-max of
/// `n` stated runs when all `n + m` runs are independent draws from one
/// distribution. Every order of the combined runs is then equally likely,
/// and the median of an odd `m` is below the stated minimum exactly when
/// its `k = (m + 1) / 2` smallest re-runs come first in that order (chance
/// `m/(n+m) · (m-1)/(n+m-1) · …`, `k` factors), likewise above. For an even
/// `m` the median is the mean of the middle two; `k = m / 2` is used, so
/// the chance given is a lower bound. Examples: 5 stated runs and 3
/// re-runs, `1 - 2·(3·2)/(8·7)` = 79 %; one re-run, `(n-1)/(n+1)`.
pub fn chance_inside(n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 0.0;
    }
    let k = if m % 2 == 1 { m.div_ceil(2) } else { m / 2 };
    let first_k_fresh: f64 = (0..k)
        .map(|i| (m - i) as f64 / (n + m - i) as f64)
        .product();
    (1.0 - 2.0 * first_k_fresh).max(0.0)
}

/// The chance, under the same assumption as [`chance_inside`], that all
/// `m` re-runs fall on one side of all `n` stated runs: `2 / C(n+m, m)`
/// (5 and 3: 3.6 %).
pub fn chance_beyond(n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 0.0;
    }
    let one_side: f64 = (1..=m).map(|i| i as f64 / (n + i) as f64).product();
    2.0 * one_side
}

/// Every figure both maps have, in key order.
pub fn compare(stated: &BTreeMap<String, Spread>, fresh: &BTreeMap<String, Spread>) -> Vec<Check> {
    stated
        .iter()
        .filter_map(|(key, s)| {
            fresh.get(key).map(|f| Check {
                key: key.clone(),
                stated: *s,
                fresh: *f,
            })
        })
        .collect()
}

/// What one block states: its figures and when and how they were measured.
pub struct Stated {
    /// The figures of its data comment.
    pub figures: BTreeMap<String, Spread>,
    /// When, at which commit and at what load (see [`provenance`]).
    pub when: Provenance,
}

impl Stated {
    /// What block `name` of `doc` states (nothing when it is missing).
    pub fn read(doc: &str, name: &str) -> Stated {
        Stated {
            figures: super::markdown::read_data(doc, name),
            when: provenance(super::markdown::block(doc, name).unwrap_or_default()),
        }
    }
}

/// When, at which commit and at what load a block's figures were measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The start, `YYYY-MM-DD HH:MM` (UTC).
    pub start: Option<String>,
    /// The commit measured (blocks written before it was recorded have none).
    pub commit: Option<String>,
    /// The 1-minute load average's range.
    pub load: Option<String>,
}

impl Provenance {
    /// `start, commit, load`, a dash for what is not known.
    fn show(&self) -> String {
        let part = |p: &Option<String>| p.clone().unwrap_or_else(|| "—".into());
        let commit = self
            .commit
            .as_ref()
            .map_or_else(|| "—".into(), |c| format!("`{c}`"));
        format!("{}, {commit}, {}", part(&self.start), part(&self.load))
    }
}

/// The provenance a block states, read from its `_Generated by` line.
pub fn provenance(block: &str) -> Provenance {
    let Some(line) = block.lines().find(|l| l.starts_with("_Generated by")) else {
        return Provenance::default();
    };
    let between = |from: &str, to: &str| {
        let rest = &line[line.find(from)? + from.len()..];
        Some(rest[..rest.find(to)?].to_string())
    };
    Provenance {
        start: between("` (", " UTC"),
        commit: between("at commit `", "`"),
        load: between("load average ", " sampled"),
    }
}

/// One section's comparison, for the block.
pub struct SectionCheck {
    /// The section's name.
    pub name: String,
    /// When, at which commit and at what load its stated figures were measured.
    pub stated_when: Provenance,
    /// The re-run's runs, and the load during them.
    pub runs: usize,
    /// The 1-minute load averages of the re-run.
    pub loads: Vec<f64>,
    /// Every figure it has in both.
    pub checks: Vec<Check>,
}

/// The `reproduction` block: per section how many figures the re-run
/// reproduced and which moved out, with how far.
pub fn render(
    started: &str,
    ended: &str,
    commit: &str,
    runs_asked: usize,
    sections: &[SectionCheck],
    verdicts: &[super::render::VerdictPair],
) -> String {
    let all: Vec<&Check> = sections.iter().flat_map(|s| s.checks.iter()).collect();
    let tally = Tally::of(all.iter().copied());
    let (inside, total) = (tally.inside, tally.total);
    // The re-run's own figures, so the comparison can be checked.
    let mut out = super::markdown::data_comment(&fresh_figures(sections));
    out.push('\n');
    let _ = writeln!(
        out,
        "_Generated by `cargo xtask bench --all --verify` ({} to {} UTC, at commit `{commit}`, \
         up to {runs_asked} run(s) of each section, in rounds). Each figure's re-run median is \
         compared with the min-max its block states; the blocks themselves are left as they \
         were. \"By chance\": how many run-to-run noise alone would leave inside, or put \
         beyond the whole range, if every run were an independent draw from one distribution \
         (a figure that never varied counts as certain)._",
        started.trim_end_matches(" UTC"),
        ended.trim_end_matches(" UTC"),
    );
    out.push('\n');
    let same = verdicts.iter().filter(|v| v.same()).count();
    let _ = writeln!(
        out,
        "**{inside} of {total} figures reproduced** ({}); **{same} of {} verdicts of the \
         summary** (met, met at the median only, missed) are the same on the re-run.",
        percent(inside, total),
        verdicts.len()
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "By chance alone about **{:.0} of {total}** would be inside ({} constant, the others \
         at the chance their run counts give); **{} moved beyond their whole stated range** \
         (every re-run outside it, on one side), against about {:.1} by chance.",
        tally.expected_inside, tally.constant, tally.beyond, tally.expected_beyond,
    );
    out.push('\n');
    let _ = writeln!(out, "Judged: {}.", Judgement::of_tally(&tally).line());
    out.push('\n');
    let rows: Vec<Vec<String>> = sections
        .iter()
        .map(|s| {
            let load = Spread::of(&s.loads)
                .map_or("—".into(), |l| format!("{}-{}", num(l.min), num(l.max)));
            let t = Tally::of(s.checks.iter());
            let largest = s
                .checks
                .iter()
                .filter_map(|c| c.moved().map(|m| (m, c)))
                .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
                .map_or("—".into(), |(m, c)| {
                    format!("{} `{}`", signed_percent(m), c.key)
                });
            vec![
                s.name.clone(),
                s.stated_when.show(),
                format!("{}, {load}", s.runs),
                format!("{} of {}", t.inside, t.total),
                format!("{:.1}", t.expected_inside),
                format!("{} ({:.1})", t.beyond, t.expected_beyond),
                largest,
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "section",
            "stated (start, commit, load)",
            "re-run (runs, load)",
            "reproduced",
            "by chance",
            "beyond range (by chance)",
            "largest move",
        ],
        3,
        &rows,
    ));
    if !verdicts.is_empty() {
        let rows: Vec<Vec<String>> = verdicts
            .iter()
            .map(|v| {
                let mark = if v.same() { "" } else { " (changed)" };
                vec![
                    v.what.to_string(),
                    v.stated.clone(),
                    format!("{}{mark}", v.fresh),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table(
            &["summary target", "stated verdict", "re-run verdict"],
            3,
            &rows,
        ));
    }
    let outside: Vec<Vec<String>> = sections
        .iter()
        .flat_map(|s| s.checks.iter())
        .filter(|c| !c.inside())
        .map(|c| {
            vec![
                format!("`{}`", c.key),
                c.stated.show_with(""),
                c.fresh.show_with(""),
                c.moved().map_or("—".into(), signed_percent),
                if c.beyond() { "yes" } else { "" }.into(),
            ]
        })
        .collect();
    if !outside.is_empty() {
        out.push_str("\nOutside their stated range:\n\n");
        out.push_str(&table(
            &["figure", "stated", "re-run", "move", "beyond range"],
            1,
            &outside,
        ));
    }
    out
}

/// Below this chance of as many figures beyond their range, a re-run is
/// taken to show a change rather than noise (`--verify` then fails).
pub const DRIFT_CHANCE: f64 = 0.01;

/// The chance of `observed` or more events when `expected` happen on
/// average, one by one and independently (the Poisson upper tail). Used for
/// the number of figures beyond their whole range; the figures are not
/// quite independent (a section's figures share its runs), so it is a
/// guide, not an exact test.
pub fn chance_of_at_least(observed: usize, expected: f64) -> f64 {
    if observed == 0 {
        return 1.0;
    }
    if expected <= 0.0 {
        return 0.0;
    }
    let mut term = (-expected).exp();
    let mut below = 0.0;
    for k in 0..observed {
        below += term;
        term *= expected / (k + 1) as f64;
    }
    (1.0 - below).max(0.0)
}

/// The whole re-run, judged: how many figures fell outside, against chance,
/// and whether the moves beyond whole ranges are more than noise explains.
pub struct Judgement {
    /// Figures outside their stated range.
    pub outside: usize,
    /// Figures outside by chance alone, on average.
    pub expected_outside: f64,
    /// Figures whose every re-run fell beyond the stated range.
    pub beyond: usize,
    /// The same by chance alone, on average.
    pub expected_beyond: f64,
    /// The chance of `beyond` or more by noise alone.
    pub chance: f64,
}

impl Judgement {
    /// Judges every check of every section.
    pub fn of(sections: &[SectionCheck]) -> Judgement {
        Judgement::of_tally(&Tally::of(sections.iter().flat_map(|s| s.checks.iter())))
    }

    /// Judges checks already counted.
    fn of_tally(t: &Tally) -> Judgement {
        Judgement {
            outside: t.total - t.inside,
            expected_outside: t.total as f64 - t.expected_inside,
            beyond: t.beyond,
            expected_beyond: t.expected_beyond,
            chance: chance_of_at_least(t.beyond, t.expected_beyond),
        }
    }

    /// More figures moved beyond their whole range than noise explains.
    pub fn changed(&self) -> bool {
        self.chance < DRIFT_CHANCE
    }

    /// One line for the block and the terminal.
    pub fn line(&self) -> String {
        let reading = if self.changed() {
            "more than run-to-run noise explains: the figures changed"
        } else {
            "consistent with run-to-run noise"
        };
        format!(
            "{} outside their stated range (about {:.0} by chance alone); {} beyond the whole \
             range against about {:.1}, a chance of {} for that many or more: {reading}",
            self.outside,
            self.expected_outside,
            self.beyond,
            self.expected_beyond,
            percent_of(self.chance),
        )
    }
}

/// A chance as a percentage with a sensible precision.
fn percent_of(p: f64) -> String {
    if p >= 0.1 {
        format!("{:.0} %", 100.0 * p)
    } else {
        format!("{:.2} %", 100.0 * p)
    }
}

/// Counts over some checks: observed, and expected by chance.
struct Tally {
    total: usize,
    inside: usize,
    constant: usize,
    beyond: usize,
    expected_inside: f64,
    expected_beyond: f64,
}

impl Tally {
    fn of<'a>(checks: impl Iterator<Item = &'a Check>) -> Tally {
        let mut t = Tally {
            total: 0,
            inside: 0,
            constant: 0,
            beyond: 0,
            expected_inside: 0.0,
            expected_beyond: 0.0,
        };
        for c in checks {
            t.total += 1;
            t.inside += usize::from(c.inside());
            t.constant += usize::from(c.constant());
            t.beyond += usize::from(c.beyond());
            t.expected_inside += c.chance_inside();
            t.expected_beyond += c.chance_beyond();
        }
        t
    }
}

/// The re-run's figures of every section compared.
pub fn fresh_figures(sections: &[SectionCheck]) -> BTreeMap<String, Spread> {
    sections
        .iter()
        .flat_map(|s| s.checks.iter().map(|c| (c.key.clone(), c.fresh)))
        .collect()
}

/// `part` of `whole` as a percentage.
fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "none compared".into();
    }
    format!("{:.0} %", 100.0 * part as f64 / whole as f64)
}

/// A fraction as a signed percentage, e.g. `+4.2 %`.
fn signed_percent(x: f64) -> String {
    format!("{:+.1} %", 100.0 * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(v: &[f64]) -> Spread {
        Spread::of(v).unwrap()
    }

    #[test]
    fn a_median_inside_the_stated_range_is_reproduced() {
        let stated: BTreeMap<String, Spread> = [
            ("a".to_string(), spread(&[10.0, 9.0, 11.0])),
            ("b".to_string(), spread(&[10.0, 9.5, 10.5])),
            ("only_stated".to_string(), spread(&[1.0])),
        ]
        .into();
        let fresh: BTreeMap<String, Spread> = [
            ("a".to_string(), spread(&[11.0, 10.5, 12.0])),
            ("b".to_string(), spread(&[12.0, 11.0, 13.0])),
            ("only_fresh".to_string(), spread(&[1.0])),
        ]
        .into();
        let checks = compare(&stated, &fresh);
        assert_eq!(checks.len(), 2, "only figures both have are compared");
        assert!(checks[0].inside(), "11.0 is within 9-11");
        assert!(!checks[1].inside(), "12.0 is outside 9.5-10.5");
        assert_eq!(checks[1].moved(), Some(0.2));
    }

    #[test]
    fn a_median_is_compared_at_the_data_comments_precision() {
        // The data comment keeps 4 decimals: 0.123449 was stated as 0.1234.
        let c = Check {
            key: "k".into(),
            stated: spread(&[0.1234]),
            fresh: spread(&[0.123_449]),
        };
        assert!(c.inside());
    }

    #[test]
    fn the_provenance_is_read_from_the_generated_line() {
        let block = "<!-- bench:data {} -->\n_Generated by `cargo xtask bench --all` \
                     (2026-11-27 09:28 UTC start, 3 of 3 runs succeeded, 1-minute load \
                     average 1.00-1.09 sampled before and after each command)._\n";
        let p = provenance(block);
        assert_eq!(p.start.as_deref(), Some("2026-11-27 09:28"));
        assert_eq!(p.commit, None, "written before commits were recorded");
        assert_eq!(p.load.as_deref(), Some("1.00-1.09"));
        let with_commit = block.replace(
            "UTC start,",
            "UTC start, to 2026-11-27 09:50 UTC, at commit `e11d33e`,",
        );
        assert_eq!(provenance(&with_commit).commit.as_deref(), Some("e11d33e"));
        assert_eq!(provenance("no such line"), Provenance::default());
    }

    #[test]
    fn the_block_counts_and_lists_what_moved_out() {
        let checks = vec![
            Check {
                key: "sse.x".into(),
                stated: spread(&[10.0, 9.0, 11.0]),
                fresh: spread(&[10.5]),
            },
            Check {
                key: "sse.y".into(),
                stated: spread(&[10.0, 9.0, 11.0]),
                fresh: spread(&[8.0, 7.9, 8.1]),
            },
        ];
        let text = render(
            "2026-11-27 12:00 UTC",
            "2026-11-27 12:30 UTC",
            "f00ba12",
            3,
            &[SectionCheck {
                name: "sse".into(),
                stated_when: Provenance {
                    start: Some("2026-11-27 09:28".into()),
                    commit: Some("e11d33e".into()),
                    load: Some("1.00-1.09".into()),
                },
                runs: 3,
                loads: vec![1.0, 1.5],
                checks,
            }],
            &[
                super::super::render::VerdictPair {
                    what: "SSE small events ≥ 1 GB/s",
                    stated: "met".into(),
                    fresh: "met".into(),
                },
                super::super::render::VerdictPair {
                    what: "clean compile",
                    stated: "met at the median, not in every run".into(),
                    fresh: "**missed** (1.01× off)".into(),
                },
            ],
        );
        assert!(
            text.starts_with(
                "<!-- bench:data {\"sse.x\":[10.5,10.5,10.5,1],\"sse.y\":[8.0,7.9,8.1,3]} -->"
            ),
            "{text}"
        );
        assert!(
            text.contains("**1 of 2 figures reproduced** (50 %); **1 of 2 verdicts"),
            "{text}"
        );
        assert!(
            text.contains("| clean compile | met at the median, not in every run | **missed** (1.01× off) (changed) |"),
            "{text}"
        );
        assert!(
            text.contains("| SSE small events ≥ 1 GB/s | met | met |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| sse | 2026-11-27 09:28, `e11d33e`, 1.00-1.09 | 3, 1.00-1.50 | 1 of 2 | 1.1 | 1 (0.6) | -20.0 % `sse.y` |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| `sse.y` | 10 (9-11) | 8.00 (7.90-8.10) | -20.0 % | yes |"),
            "{text}"
        );
        assert!(!text.contains("| `sse.x` |"), "{text}");
        assert!(
            text.contains(
                "Judged: 1 outside their stated range (about 1 by chance alone); 1 beyond the \
                 whole range against about 0.6, a chance of 45 % for that many or more: \
                 consistent with run-to-run noise."
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "By chance alone about **1 of 2** would be inside (0 constant, the others at \
                 the chance their run counts give); **1 moved beyond their whole stated range**"
            ),
            "{text}"
        );
        assert!(text.contains("against about 0.6 by chance."), "{text}");
    }

    /// Every order of `n` stated and `m` fresh runs, counted: how many put
    /// the fresh median inside the stated min-max, and how many put every
    /// fresh run on one side. The closed forms must agree with the count.
    fn by_enumeration(n: usize, m: usize) -> (f64, f64) {
        let total = n + m;
        let (mut inside, mut beyond, mut orders) = (0u32, 0u32, 0u32);
        for mask in 0u32..(1 << total) {
            if mask.count_ones() as usize != m {
                continue;
            }
            orders += 1;
            // Rank r holds a fresh run when bit r is set; values are ranks.
            let fresh: Vec<f64> = (0..total)
                .filter(|r| mask & (1 << r) != 0)
                .map(|r| r as f64)
                .collect();
            let stated: Vec<f64> = (0..total)
                .filter(|r| mask & (1 << r) == 0)
                .map(|r| r as f64)
                .collect();
            let c = Check {
                key: "k".into(),
                stated: spread(&stated),
                fresh: spread(&fresh),
            };
            inside += u32::from(c.inside());
            beyond += u32::from(c.beyond());
        }
        (
            f64::from(inside) / f64::from(orders),
            f64::from(beyond) / f64::from(orders),
        )
    }

    #[test]
    fn the_chances_match_a_count_of_every_order_of_the_runs() {
        for n in 1..=7 {
            for m in [1, 3, 5] {
                let (inside, beyond) = by_enumeration(n, m);
                assert!(
                    (chance_inside(n, m) - inside).abs() < 1e-9,
                    "inside n={n} m={m}: {} vs {inside}",
                    chance_inside(n, m)
                );
                assert!(
                    (chance_beyond(n, m) - beyond).abs() < 1e-9,
                    "beyond n={n} m={m}: {} vs {beyond}",
                    chance_beyond(n, m)
                );
            }
            // An even count's median is the mean of the middle two: the
            // chance given is a lower bound.
            for m in [2, 4] {
                assert!(chance_inside(n, m) <= by_enumeration(n, m).0 + 1e-9);
            }
        }
        assert!((chance_inside(5, 3) - (1.0 - 12.0 / 56.0)).abs() < 1e-12);
        assert!((chance_beyond(5, 3) - 2.0 / 56.0).abs() < 1e-12);
        assert_eq!(chance_inside(0, 3), 0.0);
    }

    #[test]
    fn the_poisson_tail_and_the_judgement() {
        assert_eq!(chance_of_at_least(0, 4.6), 1.0);
        // P(X >= 1) = 1 - e^-λ.
        assert!((chance_of_at_least(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
        // The three re-runs of BENCHMARKS.md: 2, 12 and 5 beyond against 4.6.
        assert!(chance_of_at_least(2, 4.6) > 0.9);
        assert!(chance_of_at_least(5, 4.6) > 0.4);
        let twelve = chance_of_at_least(12, 4.6);
        assert!(twelve < DRIFT_CHANCE && twelve > 0.001, "{twelve}");
        assert_eq!(chance_of_at_least(1, 0.0), 0.0);
        // 20 figures of 5 stated and 3 re-runs: 2 of them moved beyond.
        let mut checks: Vec<Check> = (0..20)
            .map(|i| Check {
                key: format!("k{i}"),
                stated: spread(&[1.0, 2.0, 3.0, 4.0, 5.0]),
                fresh: spread(&[2.0, 3.0, 4.0]),
            })
            .collect();
        for c in &mut checks[..2] {
            c.fresh = spread(&[9.0, 9.5, 10.0]);
        }
        let section = |checks: Vec<Check>| SectionCheck {
            name: "sse".into(),
            stated_when: Provenance::default(),
            runs: 3,
            loads: vec![],
            checks,
        };
        let j = Judgement::of(&[section(checks.clone())]);
        assert_eq!((j.outside, j.beyond), (2, 2));
        assert!((j.expected_beyond - 20.0 * 2.0 / 56.0).abs() < 1e-9);
        assert!(!j.changed(), "2 against 0.71 is noise: {}", j.line());
        for c in &mut checks[..8] {
            c.fresh = spread(&[9.0, 9.5, 10.0]);
        }
        let j = Judgement::of(&[section(checks)]);
        assert!(j.changed(), "8 against 0.71 is a change: {}", j.line());
        assert!(
            j.line().starts_with(
                "8 outside their stated range (about 4 by chance alone); 8 beyond the whole \
                 range against about 0.7"
            ),
            "{}",
            j.line()
        );
    }

    #[test]
    fn a_constant_figure_is_certain_and_a_changed_one_is_beyond() {
        let same = Check {
            key: "bytes".into(),
            stated: spread(&[7.0, 7.0, 7.0]),
            fresh: spread(&[7.0, 7.0, 7.0]),
        };
        assert!(same.constant() && same.inside() && !same.beyond());
        assert_eq!((same.chance_inside(), same.chance_beyond()), (1.0, 0.0));
        let changed = Check {
            fresh: spread(&[8.0, 8.0, 8.0]),
            ..same.clone()
        };
        assert!(changed.constant() && !changed.inside() && changed.beyond());
        // One stated run has no spread to speak of: not constant.
        let single = Check {
            stated: spread(&[7.0]),
            ..same
        };
        assert!(!single.constant());
    }
}
