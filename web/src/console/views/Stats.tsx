import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "../api";
import { fmtDuration } from "../clock";
import { toast } from "../store";
import type { GroupBy, StatsReport, StatsRow } from "../types";
import { BarChart } from "./charts";

const DAY_MS = 86400000;

function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// A date input's value is a local calendar day; the API wants instants in UTC.
function localMidnight(day: string): Date {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d);
}

const pct = (v: number | null) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
const dec = (v: number | null) => (v === null || v === undefined ? "–" : v.toFixed(2));
const dur = (v: number | null) => (v === null || v === undefined ? "–" : fmtDuration(v));

const COLUMNS: { key: keyof StatsRow; label: string; fmt: (r: StatsRow) => string; title?: string }[] = [
  { key: "requests", label: "Requests", fmt: (r) => String(r.requests) },
  { key: "dialed", label: "Dialed", fmt: (r) => String(r.dialed) },
  { key: "connected", label: "Connected", fmt: (r) => String(r.connected) },
  { key: "connect_rate", label: "Connect rate", fmt: (r) => pct(r.connect_rate) },
  { key: "attempts_per_request", label: "Attempts / req", fmt: (r) => dec(r.attempts_per_request) },
  { key: "first_dial_p50_s", label: "1st dial p50", fmt: (r) => dur(r.first_dial_p50_s), title: "Time from request to first dial, median" },
  { key: "first_dial_p90_s", label: "1st dial p90", fmt: (r) => dur(r.first_dial_p90_s), title: "Time from request to first dial, 90th percentile" },
  { key: "asr", label: "ASR", fmt: (r) => pct(r.asr), title: "Answer-seizure ratio" },
  { key: "acd_s", label: "ACD", fmt: (r) => dur(r.acd_s), title: "Average call duration" },
  { key: "aht_s", label: "AHT", fmt: (r) => dur(r.aht_s), title: "Average handling time" },
  { key: "failed", label: "Failed", fmt: (r) => String(r.failed) },
  { key: "abandoned", label: "Abandoned", fmt: (r) => String(r.abandoned) },
];

export function StatsView() {
  const today = new Date();
  const [from, setFrom] = useState(isoDate(new Date(today.getTime() - 6 * DAY_MS)));
  const [to, setTo] = useState(isoDate(today));
  const [groupBy, setGroupBy] = useState<GroupBy>("queue");
  const [report, setReport] = useState<StatsReport | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let stale = false;
    if (!from || !to) return;
    const f = localMidnight(from);
    const t = new Date(localMidnight(to).getTime() + DAY_MS);
    const q = new URLSearchParams({ from: f.toISOString(), to: t.toISOString(), group_by: groupBy });
    setLoading(true);
    get<StatsReport>("/api/v1/stats/callbacks?" + q.toString())
      .then((r) => !stale && setReport(r))
      .catch((e) => {
        if (!stale && !(e instanceof ApiError && e.status === 401)) toast(e instanceof Error ? e.message : String(e));
      })
      .finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [from, to, groupBy]);

  const rows = report?.rows ?? [];
  const labels = rows.map((r) => r.label || r.key);

  return (
    <div class="stats" data-testid="stats-view">
      <section class="panel toolbar">
        <label class="field inline">
          <span>From</span>
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.currentTarget.value)} data-testid="stats-from" />
        </label>
        <label class="field inline">
          <span>To</span>
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.currentTarget.value)} data-testid="stats-to" />
        </label>
        <label class="field inline">
          <span>Group by</span>
          <select value={groupBy} onChange={(e) => setGroupBy(e.currentTarget.value as GroupBy)} data-testid="stats-group-by">
            <option value="queue">Queue</option>
            <option value="agent">Agent</option>
            <option value="day">Day</option>
          </select>
        </label>
        <div class="presets">
          {[
            ["Today", 0],
            ["7 days", 6],
            ["30 days", 29],
          ].map(([label, back]) => (
            <button
              key={label}
              class="chip"
              onClick={() => {
                setTo(isoDate(today));
                setFrom(isoDate(new Date(today.getTime() - (back as number) * DAY_MS)));
              }}
            >
              {label}
            </button>
          ))}
        </div>
        <div class="spacer" />
        {loading && <span class="muted">Loading…</span>}
        <button class="btn btn-sm" disabled={!report} onClick={() => report && downloadCsv(report, from, to)} data-testid="stats-csv">
          Export CSV
        </button>
      </section>

      {report && (
        <div class="kpis" data-testid="stats-kpis">
          <Kpi label="Requests" value={String(report.totals.requests)} />
          <Kpi label="Connected" value={String(report.totals.connected)} />
          <Kpi label="Connect rate" value={pct(report.totals.connect_rate)} />
          <Kpi label="1st dial p50" value={dur(report.totals.first_dial_p50_s)} />
          <Kpi label="1st dial p90" value={dur(report.totals.first_dial_p90_s)} />
          <Kpi label="ASR" value={pct(report.totals.asr)} />
          <Kpi label="AHT" value={dur(report.totals.aht_s)} />
        </div>
      )}

      <div class="charts">
        <section class="panel">
          <BarChart
            title={`Requests and connected by ${groupBy}`}
            categories={labels}
            series={[
              { name: "Requests", cls: "c1", values: rows.map((r) => r.requests) },
              { name: "Connected", cls: "c2", values: rows.map((r) => r.connected) },
            ]}
            format={(v) => String(Math.round(v))}
            testid="chart-requests"
          />
        </section>
        <section class="panel">
          <BarChart
            title="Time to first dial"
            categories={labels}
            series={[
              { name: "p50", cls: "c3", values: rows.map((r) => r.first_dial_p50_s) },
              { name: "p90", cls: "c4", values: rows.map((r) => r.first_dial_p90_s) },
            ]}
            format={(v) => fmtDuration(v)}
            testid="chart-first-dial"
          />
        </section>
      </div>

      <section class="panel">
        <div class="table-wrap">
          <table class="table" data-testid="stats-table">
            <thead>
              <tr>
                <th>{groupBy === "day" ? "Day" : groupBy === "agent" ? "Agent" : "Queue"}</th>
                {COLUMNS.map((c) => (
                  <th key={c.key} class="num" title={c.title}>
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} data-testid="stats-row" data-key={r.key}>
                  <td>{r.label || r.key}</td>
                  {COLUMNS.map((c) => (
                    <td key={c.key} class="num" data-col={c.key}>
                      {c.fmt(r)}
                    </td>
                  ))}
                </tr>
              ))}
              {report && rows.length === 0 && (
                <tr>
                  <td colSpan={COLUMNS.length + 1} class="muted" data-testid="stats-empty">
                    No callback requests in this range.
                  </td>
                </tr>
              )}
            </tbody>
            {report && rows.length > 0 && (
              <tfoot>
                <tr data-testid="stats-totals">
                  <td>Total</td>
                  {COLUMNS.map((c) => (
                    <td key={c.key} class="num" data-col={c.key}>
                      {c.fmt(report.totals)}
                    </td>
                  ))}
                </tr>
              </tfoot>
            )}
          </table>
        </div>
      </section>
    </div>
  );
}

function Kpi({ label, value }: { label: string; value: string }) {
  return (
    <div class="panel kpi">
      <div class="kpi-v">{value}</div>
      <div class="kpi-l">{label}</div>
    </div>
  );
}

function downloadCsv(report: StatsReport, from: string, to: string): void {
  const head = ["key", "label", ...COLUMNS.map((c) => c.key)];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [head.join(",")];
  for (const r of [...report.rows, { ...report.totals, key: "total", label: "Total" }]) {
    lines.push([r.key, r.label, ...COLUMNS.map((c) => r[c.key])].map(cell).join(","));
  }
  const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `callbacks-${report.group_by}-${from}-${to}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
