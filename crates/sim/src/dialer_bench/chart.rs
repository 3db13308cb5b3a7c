//! The trade-off chart: talk-min per agent-hour against the abandon rate reached, one curve
//! per policy, each policy run at a range of caps, with the campaign's cap marked. Written as a
//! self-contained SVG so it opens in any browser.

use std::fmt::Write;

use super::{run_replications, stats, tune, Cell, PolicyKind, Scenario};

/// Caps each adaptive policy is asked to hold, to trace its curve.
pub const CHART_CAPS: [f64; 6] = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06];

#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    pub abandon_rate: f64,
    pub talk_min_per_agent_hour: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub policy: &'static str,
    pub points: Vec<CurvePoint>,
}

fn point(s: &Scenario, cell: Cell, kind: PolicyKind, seeds: &[u64]) -> CurvePoint {
    let reps = run_replications(s, cell, kind, seeds);
    let col =
        |f: fn(&super::RepMetrics) -> f64| stats::mean(&reps.iter().map(f).collect::<Vec<_>>());
    CurvePoint {
        abandon_rate: col(|m| m.abandon_rate),
        talk_min_per_agent_hour: col(|m| m.talk_min_per_agent_hour),
    }
}

/// Runs every policy at each of [`CHART_CAPS`] for `agents` agents (progressive once).
pub fn trade_off_curves(s: &Scenario, agents: u32, seeds: &[u64]) -> Vec<Curve> {
    let mut curves: Vec<Curve> = ["switchboard", "static-ratio", "vicidial-adaptive"]
        .into_iter()
        .map(|policy| Curve { policy, points: Vec::new() })
        .collect();
    for cap in CHART_CAPS {
        let cell = Cell { agents, cap };
        let ratio = tune::tune_static_ratio(s, cell, seeds);
        let kinds = [PolicyKind::Switchboard, PolicyKind::StaticRatio(ratio), PolicyKind::Vicidial];
        for (curve, kind) in curves.iter_mut().zip(kinds) {
            curve.points.push(point(s, cell, kind, seeds));
        }
    }
    let cell = Cell { agents, cap: CHART_CAPS[0] };
    curves.push(Curve {
        policy: "progressive",
        points: vec![point(s, cell, PolicyKind::Progressive, seeds)],
    });
    curves
}

const W: f64 = 760.0;
const H: f64 = 460.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 52.0;
const COLOURS: [&str; 4] = ["#2563eb", "#d97706", "#7c3aed", "#6b7280"];

/// The chart as SVG. `cap` is drawn as a vertical line, `bound` as a horizontal one.
pub fn render_svg(title: &str, curves: &[Curve], cap: f64, bound: f64) -> String {
    let all = || curves.iter().flat_map(|c| c.points.iter());
    // Whole percents on the x axis, one past the largest value.
    let x_max = ((all().map(|p| p.abandon_rate).fold(cap, f64::max) * 100.0).floor() + 1.0) / 100.0;
    let y_min =
        (all().map(|p| p.talk_min_per_agent_hour).fold(bound, f64::min) - 2.0).floor().max(0.0);
    let y_max = (bound + 1.0).ceil();
    let x = |v: f64| LEFT + v / x_max * (W - LEFT - RIGHT);
    let y = |v: f64| H - BOTTOM - (v - y_min) / (y_max - y_min) * (H - TOP - BOTTOM);
    let mut svg = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{W}" height="{H}" fill="white"/><text x="{LEFT}" y="24" font-size="15" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let x_ticks = (x_max * 100.0).round() as u32;
    for i in 0..=x_ticks {
        let v = f64::from(i) / 100.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{1}" stroke="#eee"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3:.0}%</text>"##,
            x(v),
            H - BOTTOM,
            H - BOTTOM + 18.0,
            v * 100.0
        );
    }
    let steps = ((y_max - y_min) / 2.0).ceil().max(1.0) as u32;
    for i in 0..=steps {
        let v = y_min + f64::from(i) * 2.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#eee"/><text x="{2}" y="{3:.1}" text-anchor="end">{v:.0}</text>"##,
            y(v),
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">abandon rate (live-answered calls not bridged within 2 s)</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">talk-min per agent-hour</text>"#,
        (TOP + H - BOTTOM) / 2.0
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{1}" stroke="#dc2626" stroke-dasharray="6 4"/><text x="{0:.1}" y="{2}" fill="#dc2626" text-anchor="middle">cap {3:.1}%</text>"##,
        x(cap),
        H - BOTTOM,
        TOP - 6.0,
        cap * 100.0
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#16a34a" stroke-dasharray="2 3"/><text x="{2}" y="{3:.1}" fill="#16a34a">bound {bound:.1}</text>"##,
        y(bound),
        W - RIGHT,
        LEFT + 6.0,
        y(bound) - 5.0
    );
    for (i, curve) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = curve
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.abandon_rate), y(p.talk_min_per_agent_hour)))
            .collect();
        if pts.len() > 1 {
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                pts.join(" ")
            );
        }
        for p in &curve.points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"#,
                x(p.abandon_rate),
                y(p.talk_min_per_agent_hour)
            );
        }
        let ly = TOP + 20.0 + 22.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{:.1}" width="14" height="4" fill="{colour}"/><text x="{}" y="{:.1}">{}</text>"#,
            W - RIGHT + 14.0,
            ly - 4.0,
            W - RIGHT + 34.0,
            ly + 1.0,
            escape(curve.policy)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_curve_per_policy_and_marks_the_cap() {
        let curves = vec![
            Curve {
                policy: "switchboard",
                points: vec![
                    CurvePoint { abandon_rate: 0.01, talk_min_per_agent_hour: 45.0 },
                    CurvePoint { abandon_rate: 0.03, talk_min_per_agent_hour: 49.0 },
                ],
            },
            Curve {
                policy: "progressive",
                points: vec![CurvePoint { abandon_rate: 0.0, talk_min_per_agent_hour: 37.0 }],
            },
        ];
        let svg = render_svg("Scenario <a>", &curves, 0.03, 54.0);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 1, "one line per multi-point curve");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("cap 3.0%") && svg.contains("bound 54.0"));
        assert!(svg.contains("Scenario &lt;a&gt;"));
    }
}
