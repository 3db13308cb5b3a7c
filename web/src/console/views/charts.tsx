// Small hand-written SVG charts: grouped vertical bars with a value axis.

export interface Series {
  name: string;
  cls: string;
  values: (number | null)[];
}

const W = 640;
const H = 220;
const PAD = { l: 44, r: 8, t: 12, b: 26 };
const TICKS_MAX = 5;
const LABEL_CHARS_MAX = 14;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function BarChart(props: {
  title: string;
  categories: string[];
  series: Series[];
  format?: (v: number) => string;
  testid?: string;
}) {
  const { categories, series } = props;
  const fmt = props.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const groupW = plotW / Math.max(1, categories.length);
  const barW = Math.max(1, Math.min(28, (groupW * 0.8) / series.length));
  const labelEvery = Math.max(1, Math.ceil(categories.length / 16));
  const y = (v: number) => PAD.t + plotH - (v / max) * plotH;
  const ticks = Array.from({ length: TICKS_MAX + 1 }, (_, i) => (max * i) / TICKS_MAX);

  return (
    <figure class="chart" data-testid={props.testid}>
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <span class="legend">
          {series.map((s) => (
            <span key={s.name} class="legend-item">
              <span class={"swatch " + s.cls} />
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      {categories.length === 0 ? (
        <div class="chart-empty muted">No data for this range.</div>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
          {ticks.map((t) => (
            <g key={t}>
              <line class="grid" x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} />
              <text class="axis" x={PAD.l - 6} y={y(t) + 4} text-anchor="end">
                {fmt(t)}
              </text>
            </g>
          ))}
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
                      <title>{`${c} · ${s.name}: ${fmt(v)}`}</title>
                    </rect>
                  );
                })}
                {ci % labelEvery === 0 && (
                  <text class="axis" x={PAD.l + ci * groupW + groupW / 2} y={H - PAD.b + 16} text-anchor="middle">
                    {c.length > LABEL_CHARS_MAX ? c.slice(0, LABEL_CHARS_MAX - 1) + "…" : c}
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
