// Small hand-written SVG charts: grouped vertical bars and lines over days, with a value axis
// of "nice" ticks, and a sparkline for the wallboard.
import { fmtDuration } from "../clock";
import { intlLocale, t } from "../i18n";

export interface Series {
  name: string;
  cls: string;
  values: (number | null)[];
}

// What the values are: counts get integer ticks, seconds get durations.
export type Unit = "count" | "seconds";

const W = 640;
const H = 220;
const PAD = { l: 48, r: 10, t: 12, b: 26 };
const INTERVALS_MAX = 6;
const LABEL_CHARS_MAX = 14;

// Tick steps in seconds, from tenths of a second to days.
const SECOND_STEPS = [0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

export interface Scale {
  max: number;
  step: number;
  ticks: number[];
}

// The smallest step from the 1-2-5 series (2.5 too, above 10) that covers `top` in at most
// INTERVALS_MAX intervals; counts never get a step below 1, so labels never repeat.
function countStep(top: number): number {
  for (let p = 1; ; p *= 10) {
    for (const m of p >= 10 ? [1, 2, 2.5, 5] : [1, 2, 5]) {
      if (Math.ceil(top / (m * p)) <= INTERVALS_MAX) return m * p;
    }
  }
}

export function niceScale(maxValue: number, unit: Unit): Scale {
  const top = Number.isFinite(maxValue) && maxValue > 0 ? maxValue : 1;
  let step: number;
  if (unit === "count") {
    step = countStep(top);
  } else {
    step = SECOND_STEPS.find((s) => Math.ceil(top / s - 1e-9) <= INTERVALS_MAX) ?? countStep(top / 86400) * 86400;
  }
  const n = Math.max(1, Math.ceil(top / step - 1e-9));
  // Multiply rather than add so that tenths of a second do not drift (0.30000000000000004).
  const ticks = Array.from({ length: n + 1 }, (_, i) => Math.round(i * step * 1000) / 1000);
  return { max: ticks[n], step, ticks };
}

function num(v: number, digits: number): string {
  return new Intl.NumberFormat(intlLocale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v);
}

// Axis labels for a scale: "0.4 s" steps below a second, "12 s" up to a minute, then "1:05".
export function axisFormat(scale: Scale, unit: Unit): (v: number) => string {
  if (unit === "count") return (v) => num(v, 0);
  if (scale.max <= 60) {
    const digits = scale.step >= 1 ? 0 : scale.step === 0.25 ? 2 : 1;
    return (v) => (v === 0 ? "0" : t("{n} s", { n: num(v, digits) }));
  }
  return (v) => (v === 0 ? "0" : fmtDuration(v));
}

// One duration for people: "0.4 s" under ten seconds, "12 s" under a minute, else "1:05".
export function fmtSeconds(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v < 0.05) return t("{n} s", { n: "0" });
  if (v < 9.95) return t("{n} s", { n: num(v, 1) });
  if (v < 59.5) return t("{n} s", { n: num(v, 0) });
  return fmtDuration(v);
}

export function fmtValue(v: number, unit: Unit): string {
  return unit === "count" ? num(v, Number.isInteger(v) ? 0 : 2) : fmtSeconds(v);
}

function Legend({ series }: { series: { name: string; cls: string }[] }) {
  return (
    <span class="legend">
      {series.map((s) => (
        <span key={s.name} class="legend-item">
          <span class={"swatch " + s.cls} />
          {s.name}
        </span>
      ))}
    </span>
  );
}

function shorten(c: string): string {
  return c.length > LABEL_CHARS_MAX ? c.slice(0, LABEL_CHARS_MAX - 1) + "…" : c;
}

// Horizontal grid lines with their labels.
function ValueAxis({ scale, unit, y }: { scale: Scale; unit: Unit; y: (v: number) => number }) {
  const fmt = axisFormat(scale, unit);
  return (
    <>
      {scale.ticks.map((v) => (
        <g key={v}>
          <line class="grid" x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} />
          <text class="axis" x={PAD.l - 6} y={y(v) + 4} text-anchor="end">
            {fmt(v)}
          </text>
        </g>
      ))}
    </>
  );
}

function maxOf(series: Series[]): number {
  return Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
}

export function BarChart(props: { title: string; categories: string[]; series: Series[]; unit: Unit; testid?: string }) {
  const { categories, series, unit } = props;
  const scale = niceScale(maxOf(series), unit);
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const groupW = plotW / Math.max(1, categories.length);
  const barW = Math.max(1, Math.min(28, (groupW * 0.8) / series.length));
  const labelEvery = Math.max(1, Math.ceil(categories.length / 16));
  const y = (v: number) => PAD.t + plotH - (v / scale.max) * plotH;

  return (
    <figure class="chart" data-testid={props.testid} data-kind="bar">
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <Legend series={series} />
      </figcaption>
      {categories.length === 0 ? (
        <div class="chart-empty muted">{t("No data for this range.")}</div>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
          <ValueAxis scale={scale} unit={unit} y={y} />
          {categories.map((c, ci) => {
            const gx = PAD.l + ci * groupW + (groupW - barW * series.length) / 2;
            return (
              <g key={c + ci}>
                {series.map((s, si) => {
                  const v = s.values[ci];
                  if (v === null || v === undefined) return null;
                  const top = y(v);
                  return (
                    <rect key={s.name} class={"bar " + s.cls} x={gx + si * barW} y={top} width={Math.max(1, barW - 1)} height={Math.max(0, PAD.t + plotH - top)}>
                      <title>{`${c} · ${s.name}: ${fmtValue(v, unit)}`}</title>
                    </rect>
                  );
                })}
                {ci % labelEvery === 0 && (
                  <text class="axis" x={PAD.l + ci * groupW + groupW / 2} y={H - PAD.b + 16} text-anchor="middle">
                    {shorten(c)}
                  </text>
                )}
              </g>
            );
          })}
          <line class="baseline" x1={PAD.l} x2={W - PAD.r} y1={PAD.t + plotH} y2={PAD.t + plotH} />
        </svg>
      )}
    </figure>
  );
}

// Values over consecutive categories (days): the first series is drawn as a filled area, the
// others as lines on top. Every category has a transparent column that names its values on hover.
export function LineChart(props: { title: string; categories: string[]; series: Series[]; unit: Unit; testid?: string }) {
  const { categories, series, unit } = props;
  const scale = niceScale(maxOf(series), unit);
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const n = categories.length;
  // Points sit in the middle of equal columns, so one day is a dot in the middle.
  const colW = plotW / Math.max(1, n);
  const x = (i: number) => PAD.l + colW * i + colW / 2;
  const y = (v: number) => PAD.t + plotH - (v / scale.max) * plotH;
  const base = PAD.t + plotH;
  const labelEvery = Math.max(1, Math.ceil(n / 10));
  const dots = n <= 45;

  const path = (s: Series) =>
    s.values.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v ?? 0).toFixed(1)}`).join(" ");

  return (
    <figure class="chart" data-testid={props.testid} data-kind="line">
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <Legend series={series} />
      </figcaption>
      {n === 0 ? (
        <div class="chart-empty muted">{t("No data for this range.")}</div>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
          <ValueAxis scale={scale} unit={unit} y={y} />
          {series[0] && n > 1 && (
            <path class={"area " + series[0].cls} d={`${path(series[0])} L${x(n - 1).toFixed(1)},${base} L${x(0).toFixed(1)},${base} Z`} />
          )}
          {series.map((s) => (
            <path key={s.name} class={"line " + s.cls} d={path(s)} />
          ))}
          {dots &&
            series.map((s) => (
              <g key={s.name}>
                {s.values.map((v, i) => (
                  <circle key={i} class={"dot " + s.cls} cx={x(i)} cy={y(v ?? 0)} r={n > 20 ? 2.5 : 3.5} />
                ))}
              </g>
            ))}
          {categories.map((c, i) => (
            <g key={c + i}>
              <rect class="hit" x={x(i) - colW / 2} y={PAD.t} width={colW} height={plotH}>
                <title>{[c, ...series.map((s) => `${s.name}: ${fmtValue(s.values[i] ?? 0, unit)}`)].join("\n")}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text class="axis" x={x(i)} y={H - PAD.b + 16} text-anchor="middle">
                  {shorten(c)}
                </text>
              )}
            </g>
          ))}
          <line class="baseline" x1={PAD.l} x2={W - PAD.r} y1={base} y2={base} />
        </svg>
      )}
    </figure>
  );
}

export interface Sample {
  t: number;
  v: number;
}

// A step sparkline of samples between `from` and `to` (ms): each value holds until the next
// sample, the last one until `to`. Stretches to its box; the stroke keeps its width.
export function Sparkline(props: { samples: Sample[]; from: number; to: number; label: string; testid?: string }) {
  const { samples, from, to } = props;
  const SW = 200;
  const SH = 32;
  const top = Math.max(1, ...samples.map((s) => s.v));
  const x = (ms: number) => ((Math.max(from, Math.min(to, ms)) - from) / Math.max(1, to - from)) * SW;
  const y = (v: number) => SH - 2 - (v / top) * (SH - 4);
  let d = "";
  samples.forEach((s, i) => {
    const sx = x(s.t).toFixed(1);
    d += i === 0 ? `M${sx},${y(s.v).toFixed(1)}` : ` H${sx} V${y(s.v).toFixed(1)}`;
  });
  if (samples.length > 0) d += ` H${SW}`;
  const start = samples.length > 0 ? x(samples[0].t).toFixed(1) : "0";
  return (
    <svg class="spark" viewBox={`0 0 ${SW} ${SH}`} preserveAspectRatio="none" role="img" aria-label={props.label} data-testid={props.testid}>
      <title>{props.label}</title>
      <line class="spark-base" x1={0} x2={SW} y1={SH - 2} y2={SH - 2} />
      {d && <path class="spark-area" d={`${d} V${SH - 2} H${start} Z`} />}
      {d && <path class="spark-line" d={d} />}
    </svg>
  );
}
