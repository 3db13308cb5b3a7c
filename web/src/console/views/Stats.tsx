import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "../api";
import { intlLocale, t } from "../i18n";
import { toast } from "../store";
import type { GroupBy, StatsReport, StatsRow } from "../types";
import { BarChart, fmtSeconds, LineChart } from "./charts";

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

const pct = (v: number | null) =>
  v === null || v === undefined
    ? "–"
    : new Intl.NumberFormat(intlLocale(), { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);
const dec = (v: number | null) =>
  v === null || v === undefined ? "–" : new Intl.NumberFormat(intlLocale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v);
const dur = (v: number | null) => fmtSeconds(v);

// Headers are short and wrap; the title (shown on hover) says what the column is.
const COLUMNS: { key: keyof StatsRow; label: string; fmt: (r: StatsRow) => string; title: string }[] = [
  { key: "requests", label: "Requests", fmt: (r) => String(r.requests), title: "Callback requests" },
  { key: "dialed", label: "Dialed", fmt: (r) => String(r.dialed), title: "Requests dialed" },
  { key: "connected", label: "Connected", fmt: (r) => String(r.connected), title: "Requests connected" },
  { key: "connect_rate", label: "Connect rate", fmt: (r) => pct(r.connect_rate), title: "Connected / requests" },
  { key: "attempts_per_request", label: "Attempts / req", fmt: (r) => dec(r.attempts_per_request), title: "Dial attempts per request" },
  { key: "first_dial_p50_s", label: "1st dial p50", fmt: (r) => dur(r.first_dial_p50_s), title: "Time from request to first dial, median" },
  { key: "first_dial_p90_s", label: "1st dial p90", fmt: (r) => dur(r.first_dial_p90_s), title: "Time from request to first dial, 90th percentile" },
  { key: "asr", label: "ASR", fmt: (r) => pct(r.asr), title: "Answer-seizure ratio" },
  { key: "acd_s", label: "ACD", fmt: (r) => dur(r.acd_s), title: "Average call duration" },
  { key: "aht_s", label: "AHT", fmt: (r) => dur(r.aht_s), title: "Average handling time" },
  { key: "failed", label: "Failed", fmt: (r) => String(r.failed), title: "Failed requests" },
  { key: "abandoned", label: "Abandoned", fmt: (r) => String(r.abandoned), title: "Abandoned requests" },
];

const DAY_KEY = /^\d{4}-\d{2}-\d{2}$/;

function nextDay(day: string): string {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

// Rows grouped by day (UTC dates) only exist for days with requests: put every day of the
// range on the axis, so that a quiet day shows as zero instead of being skipped.
function dayAxis(rows: StatsRow[], from: string, to: string): { days: string[]; byDay: Map<string, StatsRow> } | null {
  if (!rows.every((r) => DAY_KEY.test(r.key))) return null;
  const set = new Set(rows.map((r) => r.key));
  if (DAY_KEY.test(from) && DAY_KEY.test(to) && from <= to) {
    for (let d = from, guard = 0; d <= to && guard < 400; d = nextDay(d), guard++) set.add(d);
  }
  return { days: [...set].sort(), byDay: new Map(rows.map((r) => [r.key, r])) };
}

function dayLabel(day: string): string {
  const d = new Date(day + "T00:00:00Z");
  return new Intl.DateTimeFormat(intlLocale(), { month: "short", day: "numeric", timeZone: "UTC" }).format(d);
}

const GROUP_TITLE: Record<GroupBy, string> = {
  queue: "Requests and connected by queue",
  agent: "Requests and connected by agent",
  day: "Requests and connected per day",
};

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
  const days = report?.group_by === "day" ? dayAxis(rows, from, to) : null;
  const perDay = (f: (r: StatsRow) => number | null, empty: number | null) =>
    days ? days.days.map((d) => (days.byDay.has(d) ? f(days.byDay.get(d)!) : empty)) : [];

  return (
    <div class="stats" data-testid="stats-view">
      <section class="panel toolbar">
        <label class="field inline">
          <span>{t("From")}</span>
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.currentTarget.value)} data-testid="stats-from" />
        </label>
        <label class="field inline">
          <span>{t("To")}</span>
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.currentTarget.value)} data-testid="stats-to" />
        </label>
        <label class="field inline">
          <span>{t("Group by")}</span>
          <select value={groupBy} onChange={(e) => setGroupBy(e.currentTarget.value as GroupBy)} data-testid="stats-group-by">
            <option value="queue">{t("Queue")}</option>
            <option value="agent">{t("Agent")}</option>
            <option value="day">{t("Day")}</option>
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
              {t(label as string)}
            </button>
          ))}
        </div>
        <div class="spacer" />
        {loading && <span class="muted">{t("Loading…")}</span>}
        <button class="btn btn-sm" disabled={!report} onClick={() => report && downloadCsv(report, from, to)} data-testid="stats-csv">
          {t("Export CSV")}
        </button>
      </section>

      {report && (
        <div class="kpis" data-testid="stats-kpis">
          <Kpi label={t("Requests")} value={String(report.totals.requests)} />
          <Kpi label={t("Connected")} value={String(report.totals.connected)} />
          <Kpi label={t("Connect rate")} value={pct(report.totals.connect_rate)} />
          <Kpi label={t("1st dial p50")} value={dur(report.totals.first_dial_p50_s)} title={t("Time from request to first dial, median")} />
          <Kpi label={t("1st dial p90")} value={dur(report.totals.first_dial_p90_s)} title={t("Time from request to first dial, 90th percentile")} />
          <Kpi label={t("ASR")} value={pct(report.totals.asr)} title={t("Answer-seizure ratio")} />
          <Kpi label={t("AHT")} value={dur(report.totals.aht_s)} title={t("Average handling time")} />
        </div>
      )}

      <div class="charts">
        <section class="panel">
          {days ? (
            <LineChart
              title={t(GROUP_TITLE.day)}
              categories={days.days.map(dayLabel)}
              series={[
                { name: t("Requests"), cls: "c1", values: perDay((r) => r.requests, 0) },
                { name: t("Connected"), cls: "c2", values: perDay((r) => r.connected, 0) },
              ]}
              unit="count"
              testid="chart-requests"
            />
          ) : (
            <BarChart
              title={t(GROUP_TITLE[report?.group_by ?? groupBy] ?? GROUP_TITLE.queue)}
              categories={labels}
              series={[
                { name: t("Requests"), cls: "c1", values: rows.map((r) => r.requests) },
                { name: t("Connected"), cls: "c2", values: rows.map((r) => r.connected) },
              ]}
              unit="count"
              testid="chart-requests"
            />
          )}
        </section>
        <section class="panel">
          <BarChart
            title={t("Time to first dial")}
            categories={days ? days.days.map(dayLabel) : labels}
            series={[
              { name: "p50", cls: "c3", values: days ? perDay((r) => r.first_dial_p50_s, null) : rows.map((r) => r.first_dial_p50_s) },
              { name: "p90", cls: "c4", values: days ? perDay((r) => r.first_dial_p90_s, null) : rows.map((r) => r.first_dial_p90_s) },
            ]}
            unit="seconds"
            testid="chart-first-dial"
          />
        </section>
      </div>

      <section class="panel">
        <div class="table-wrap">
          <table class="table table-stats" data-testid="stats-table">
            <thead>
              <tr>
                <th>{t(groupBy === "day" ? "Day" : groupBy === "agent" ? "Agent" : "Queue")}</th>
                {COLUMNS.map((c) => (
                  <th key={c.key} class="num" title={t(c.title)}>
                    {t(c.label)}
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
                    {t("No callback requests in this range.")}
                  </td>
                </tr>
              )}
            </tbody>
            {report && rows.length > 0 && (
              <tfoot>
                <tr data-testid="stats-totals">
                  <td>{t("Total")}</td>
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

function Kpi({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div class="panel kpi" title={title}>
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
