// Outbound campaigns for supervisors: create one from a CSV (column mapping, the per-row
// report), start / pause / resume / stop, and watch progress, dial rate and the abandon rate
// live (polled: campaign figures come from the store, not the WebSocket stream).
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, get, post } from "../api";
import { getState } from "../store";
import { t } from "../i18n";
import { LineChart } from "./charts";

interface Campaign {
  id: number;
  name: string;
  status: string;
  settings: { mode: string; queue_id: number; abandon_cap: number; template?: string | null };
  counts: Record<string, number>;
}

interface Progress {
  id: number;
  status: string;
  total: number;
  counts: Record<string, number>;
  dials: number;
  outstanding: number;
  waiting: number;
  talking: number;
  agents_free: number;
  kpis: {
    acr: number | null;
    aad_ms: number | null;
    asr: number | null;
    acd_ms: number | null;
    occupancy: number | null;
    contacts_per_hour: number;
    dial_rate_per_min: number;
  };
  series: { at: number; dials: number; answered: number; abandoned: number }[];
}

interface RowError {
  row: number;
  column: string | null;
  kind: string;
  message: string;
}

interface Report {
  rows: number;
  imported: number;
  rejected: number;
  by_reason: Record<string, number>;
  errors: RowError[];
  aborted: string | null;
}

interface Queue {
  id: number;
  name: string;
}

const POLL_MS = 2_000;
const MODES = ["progressive", "predictive", "preview", "robocall"];
const TEMPLATES = ["", "parcel_waiting", "parcel_arrived", "order_confirmation", "pickup_reminder", "number_check", "ces_survey"];
const STATUSES = ["pending", "calling", "reached", "delivered", "failed", "dnc", "skipped", "no_window"];

// English display names of the server's status, mode and phase codes (t() translates them).
const LABELS: Record<string, string> = {
  pending: "Pending",
  calling: "Calling",
  reached: "Reached",
  delivered: "Delivered",
  failed: "Failed",
  dnc: "Do not call",
  skipped: "Skipped",
  no_window: "No calling window",
  paused: "Paused",
  running: "Running",
  stopped: "Stopped",
  finished: "Finished",
  progressive: "Progressive",
  predictive: "Predictive",
  preview: "Preview",
  robocall: "Robocall",
  dialing: "Dialing",
  answered: "Answered",
  bridged: "Connected",
  message: "Playing the message",
  wrap_up: "Wrap-up",
  confirmed: "Confirmed",
  survey_answered: "Survey answered",
  opted_out: "Opted out",
  wrong_number: "Wrong number",
  message_left: "Message left on a machine",
  no_answer: "No answer",
  hung_up_early: "Hung up at once",
  parcel_waiting: "Parcel waiting N days",
  parcel_arrived: "Parcel arrived",
  order_confirmation: "Order confirmation",
  pickup_reminder: "Pick-up reminder",
  number_check: "Number validity check",
  ces_survey: "1-5 survey (CES)",
};

export const label = (code: string) => t(LABELS[code] ?? code);

const pct = (v: number | null) => (v == null ? "—" : (v * 100).toFixed(1) + "%");
const secs = (ms: number | null) => (ms == null ? "—" : (ms / 1000).toFixed(1) + " s");

// The CSV's header row, read from the start of the file only.
async function headerOf(file: File): Promise<string[]> {
  const head = await file.slice(0, 64 * 1024).text();
  const line = head.split(/\r?\n/)[0] ?? "";
  return line.split(",").map((c) => c.trim().replace(/^"|"$/g, "")).filter((c) => c !== "");
}

async function uploadCsv(id: number, file: File, mapping: Record<string, string>): Promise<Report> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(mapping)) if (v) q.set(k, v);
  const res = await fetch(`/api/v1/campaigns/${id}/contacts?${q}`, {
    method: "POST",
    headers: { "Content-Type": "text/csv", "X-CSRF-Token": getState().csrf, Accept: "application/json" },
    credentials: "same-origin",
    body: file,
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data?.error;
    throw new ApiError(res.status, err?.code ?? "http", err?.message ?? res.statusText, err?.field ?? null);
  }
  return data as Report;
}

export function CampaignsView() {
  const [campaigns, setCampaigns] = useState<Campaign[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      const list = await get<Campaign[]>("/api/v1/campaigns");
      setCampaigns(list);
      if (selected === null && list.length > 0) setSelected(list[0].id);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  return (
    <div class="campaigns" data-testid="campaigns-view">
      {error && <div class="panel error">{error}</div>}
      <section class="panel">
        <table class="table" data-testid="campaigns-table">
          <thead>
            <tr>
              <th>{t("Campaign")}</th>
              <th>{t("Mode")}</th>
              <th>{t("Status")}</th>
              <th class="num">{t("Contacts")}</th>
              <th class="num">{t("Pending")}</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr
                key={c.id}
                class={selected === c.id ? "selected" : ""}
                onClick={() => setSelected(c.id)}
                style={{ cursor: "pointer" }}
              >
                <td>{c.name}</td>
                <td>{label(c.settings.mode)}</td>
                <td>{label(c.status)}</td>
                <td class="num">{Object.values(c.counts).reduce((a, b) => a + b, 0)}</td>
                <td class="num">{c.counts.pending ?? 0}</td>
              </tr>
            ))}
            {campaigns.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  {t("No campaigns yet.")}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
      {selected !== null && <CampaignLive id={selected} onChange={load} />}
      <NewCampaign
        onCreated={(id) => {
          setSelected(id);
          void load();
        }}
      />
    </div>
  );
}

function CampaignLive({ id, onChange }: { id: number; onChange: () => void }) {
  const [p, setP] = useState<Progress | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [cap, setCap] = useState(0.03);
  const [mode, setMode] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const tick = async () => {
      try {
        const next = await get<Progress>(`/api/v1/campaigns/${id}/progress`);
        if (live) setP(next);
      } catch (e) {
        if (live) setError((e as Error).message);
      }
    };
    void get<Campaign>(`/api/v1/campaigns/${id}`).then((c) => {
      setCap(c.settings.abandon_cap);
      setMode(c.settings.mode);
    });
    void tick();
    const timer = setInterval(tick, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [id]);

  const act = async (action: string) => {
    setBusy(true);
    setError(null);
    try {
      await post(`/api/v1/campaigns/${id}/${action}`);
      setP(await get<Progress>(`/api/v1/campaigns/${id}/progress`));
      onChange();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!p) return <section class="panel muted">{t("Loading…")}</section>;
  const minutes = p.series.map((s) => new Date(s.at).toTimeString().slice(0, 5));
  // Cumulative abandon rate over the hour, against the cap.
  let live = 0;
  let abandoned = 0;
  const rate = p.series.map((s) => {
    live += s.answered + s.abandoned;
    abandoned += s.abandoned;
    return live > 0 ? (abandoned / live) * 100 : 0;
  });
  const done = p.total - (p.counts.pending ?? 0) - (p.counts.calling ?? 0);
  return (
    <section class="panel" data-testid="campaign-live">
      <div class="toolbar">
        <strong>
          {t("Status")}: <span data-testid="campaign-status">{label(p.status)}</span>
        </strong>
        <div class="spacer" />
        {p.status === "paused" && (
          <button class="btn btn-primary" disabled={busy} onClick={() => act(p.dials === 0 ? "start" : "resume")} data-testid="campaign-start">
            {p.dials === 0 ? t("Start") : t("Resume")}
          </button>
        )}
        {p.status === "running" && (
          <button class="btn" disabled={busy} onClick={() => act("pause")} data-testid="campaign-pause">
            {t("Pause")}
          </button>
        )}
        {(p.status === "running" || p.status === "paused") && (
          <button class="btn btn-danger" disabled={busy} onClick={() => act("stop")} data-testid="campaign-stop">
            {t("Stop")}
          </button>
        )}
      </div>
      {error && <div class="error">{error}</div>}
      <div class="progress-bar" title={`${done} / ${p.total}`}>
        <div style={{ width: `${p.total ? (done / p.total) * 100 : 0}%` }} />
      </div>
      <div class="kpis" data-testid="campaign-kpis">
        <Kpi label={t("Done")} value={`${done} / ${p.total}`} />
        <Kpi label={t("Dial rate")} value={`${p.kpis.dial_rate_per_min.toFixed(1)}/${t("min")}`} />
        <Kpi label={t("Abandon rate")} value={pct(p.kpis.acr)} title={t("ACR: abandoned / live-answered")} />
        <Kpi label="ASR" value={pct(p.kpis.asr)} title={t("Answer-seizure ratio")} />
        <Kpi label="AAD" value={secs(p.kpis.aad_ms)} title={t("Average answer delay")} />
        <Kpi label="ACD" value={secs(p.kpis.acd_ms)} title={t("Average call duration")} />
        <Kpi label={t("Occupancy")} value={pct(p.kpis.occupancy)} />
        <Kpi label={t("Contacts per hour")} value={String(p.kpis.contacts_per_hour)} />
        <Kpi label={t("In flight")} value={`${p.outstanding} / ${p.waiting} / ${p.talking}`} title={t("Dialing / waiting for an agent / talking")} />
      </div>
      <div class="kpis">
        {STATUSES.map((s) => (
          <Kpi key={s} label={label(s)} value={String(p.counts[s] ?? 0)} />
        ))}
      </div>
      <div class="charts">
        <LineChart
          title={t("Dials per minute")}
          categories={minutes}
          series={[
            { name: t("Dials"), cls: "c1", values: p.series.map((s) => s.dials) },
            { name: t("Answered"), cls: "c2", values: p.series.map((s) => s.answered) },
            { name: t("Abandoned"), cls: "c4", values: p.series.map((s) => s.abandoned) },
          ]}
          unit="count"
          testid="chart-dials"
        />
        <AbandonChart rate={rate} cap={cap * 100} labels={minutes} />
      </div>
      {mode === "robocall" && <RecordedMessage id={id} />}
    </section>
  );
}

// A robocall campaign's message as an uploaded recording (any PCM WAV; the server checks it
// and converts the rate) instead of the template spoken by TTS.
function RecordedMessage({ id }: { id: number }) {
  const url = `/api/v1/campaigns/${id}/recording`;
  const [present, setPresent] = useState<boolean | null>(null);
  // Bumped on every change so the player does not replay a cached older file.
  const [version, setVersion] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void fetch(url, { method: "HEAD", credentials: "same-origin" })
      .then((r) => live && setPresent(r.ok))
      .catch(() => live && setPresent(false));
    return () => {
      live = false;
    };
  }, [id, version]);

  const upload = async (file: File | null) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(url, {
        method: "PUT",
        headers: {
          "Content-Type": "application/octet-stream",
          "X-CSRF-Token": getState().csrf,
          Accept: "application/json",
        },
        credentials: "same-origin",
        body: file,
      });
      if (!res.ok) {
        const data = await res.json().catch(() => null);
        throw new Error(data?.error?.message ?? `${res.status} ${res.statusText}`);
      }
      setVersion((v) => v + 1);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api("DELETE", url);
      setVersion((v) => v + 1);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="recording" data-testid="campaign-recording">
      <h3>{t("Recorded message")}</h3>
      <p class="muted" data-testid="recording-state">
        {present === null
          ? t("Loading…")
          : present
            ? t("Robocalls play this recording.")
            : t("No recording: robocalls speak the template by TTS.")}
      </p>
      {present && <audio controls preload="none" src={`${url}?v=${version}`} data-testid="recording-player" />}
      <div class="toolbar">
        <label class="btn">
          {present ? t("Replace recording…") : t("Upload recording…")}
          <input
            type="file"
            accept="audio/wav,.wav"
            hidden
            disabled={busy}
            data-testid="recording-file"
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              void upload(input.files?.[0] ?? null);
              input.value = "";
            }}
          />
        </label>
        {present && (
          <button class="btn btn-danger" disabled={busy} onClick={remove} data-testid="recording-remove">
            {t("Remove recording")}
          </button>
        )}
      </div>
      {error && (
        <div class="error" data-testid="recording-error">
          {error}
        </div>
      )}
    </div>
  );
}

// The abandon rate (%) over the last hour, with the cap as a dashed line.
function AbandonChart({ rate, cap, labels }: { rate: number[]; cap: number; labels: string[] }) {
  const W = 640;
  const H = 220;
  const pad = { l: 44, r: 10, t: 12, b: 26 };
  const top = Math.max(cap * 1.5, ...rate, 1);
  const x = (i: number) => pad.l + ((W - pad.l - pad.r) * i) / Math.max(1, rate.length - 1);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / top);
  const path = rate.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const ticks = [0, top / 2, top];
  return (
    <figure class="chart" data-testid="chart-abandon">
      <figcaption>
        <span class="chart-title">{t("Abandon rate, last hour")}</span>
        <span class="muted"> {t("cap {cap}%", { cap: cap.toFixed(1) })}</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t("Abandon rate, last hour")}>
        {ticks.map((v) => (
          <g key={v}>
            <line class="grid" x1={pad.l} x2={W - pad.r} y1={y(v)} y2={y(v)} />
            <text class="axis" x={pad.l - 6} y={y(v) + 4} text-anchor="end">
              {v.toFixed(1)}%
            </text>
          </g>
        ))}
        <line x1={pad.l} x2={W - pad.r} y1={y(cap)} y2={y(cap)} stroke="#d33" stroke-dasharray="6 4" />
        <path class="line c4" d={path} fill="none" />
        {labels.map((l, i) =>
          i % 10 === 0 ? (
            <text key={l + i} class="axis" x={x(i)} y={H - pad.b + 16} text-anchor="middle">
              {l}
            </text>
          ) : null,
        )}
      </svg>
    </figure>
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

function NewCampaign({ onCreated }: { onCreated: (id: number) => void }) {
  const [queues, setQueues] = useState<Queue[]>([]);
  const [name, setName] = useState("");
  const [mode, setMode] = useState("progressive");
  const [queue, setQueue] = useState<number>(0);
  const [template, setTemplate] = useState("parcel_waiting");
  const [onMachine, setOnMachine] = useState("retry");
  // Off for agent campaigns: detection delays the answer by about 2 s.
  const [detect, setDetect] = useState(false);
  const [script, setScript] = useState("");
  const [cap, setCap] = useState("3");
  const [attempts, setAttempts] = useState("3");
  const [from, setFrom] = useState("09:00");
  const [to, setTo] = useState("21:00");
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState<string[]>([]);
  const [mapping, setMapping] = useState<Record<string, string>>({ phone: "phone", name: "", time_zone: "", language: "" });
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<{ field: string | null; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void get<Queue[]>("/api/v1/admin/queues")
      .then((qs) => {
        setQueues(qs);
        if (qs.length > 0) setQueue(qs[0].id);
      })
      .catch(() => setQueues([]));
  }, []);

  const pick = async (f: File | null) => {
    setFile(f);
    setReport(null);
    if (!f) return;
    const cols = await headerOf(f);
    setColumns(cols);
    const find = (names: string[]) => cols.find((c) => names.includes(c.toLowerCase())) ?? "";
    setMapping({
      phone: find(["phone", "telephone", "number", "телефон"]) || cols[0] || "phone",
      name: find(["name", "имя"]),
      time_zone: find(["time_zone", "tz", "timezone"]),
      language: find(["language", "lang"]),
    });
  };

  const create = async () => {
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      const settings: Record<string, unknown> = {
        mode,
        queue_id: queue,
        abandon_cap: Number(cap) / 100,
        attempts_max: Number(attempts),
        window: { from, to, days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
      };
      if (template) settings.template = template;
      if (script) settings.script = script;
      settings.on_machine = onMachine;
      settings.detect_machine = mode === "robocall" || detect;
      const created = await post<{ id: number }>("/api/v1/campaigns", { name, settings });
      if (file) setReport(await uploadCsv(created.id, file, mapping));
      onCreated(created.id);
    } catch (e) {
      const err = e as ApiError;
      setError({ field: err.field ?? null, text: err.message });
    } finally {
      setBusy(false);
    }
  };

  const mapField = (key: string, label: string) => (
    <label class="field inline" key={key}>
      <span>{label}</span>
      <select
        value={mapping[key]}
        onChange={(e) => setMapping({ ...mapping, [key]: (e.target as HTMLSelectElement).value })}
        data-testid={"map-" + key}
      >
        {key !== "phone" && <option value="">{t("(none)")}</option>}
        {columns.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section class="panel" data-testid="campaign-new">
      <h3>{t("New campaign")}</h3>
      <div class="form-grid">
        <label class="field">
          <span>{t("Name")}</span>
          <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="campaign-name" />
        </label>
        <label class="field">
          <span>{t("Mode")}</span>
          <select value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)} data-testid="campaign-mode">
            {MODES.map((m) => (
              <option key={m} value={m}>
                {label(m)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t("Queue")}</span>
          <select value={queue} onChange={(e) => setQueue(Number((e.target as HTMLSelectElement).value))}>
            {queues.map((q) => (
              <option key={q.id} value={q.id}>
                {q.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t("Template")}</span>
          <select value={template} onChange={(e) => setTemplate((e.target as HTMLSelectElement).value)} data-testid="campaign-template">
            {TEMPLATES.map((id) => (
              <option key={id} value={id}>
                {id ? label(id) : t("(none)")}
              </option>
            ))}
          </select>
        </label>
        {mode === "robocall" ? (
          <label class="field">
            <span>{t("Answering machine")}</span>
            <select value={onMachine} onChange={(e) => setOnMachine((e.target as HTMLSelectElement).value)} data-testid="campaign-on-machine">
              <option value="retry">{t("Call again later")}</option>
              <option value="leave_message">{t("Leave the message after the greeting")}</option>
            </select>
          </label>
        ) : (
          <label class="field">
            <span>{t("Answering machine")}</span>
            <span>
              <input type="checkbox" checked={detect} onChange={(e) => setDetect((e.target as HTMLInputElement).checked)} data-testid="campaign-detect-machine" />{" "}
              {t("Detect and call again later (adds about 2 s before the agent hears the customer)")}
            </span>
          </label>
        )}
        <label class="field">
          <span>{t("Abandon cap, %")}</span>
          <input type="number" min="0" max="10" step="0.5" value={cap} onInput={(e) => setCap((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t("Attempts")}</span>
          <input type="number" min="1" max="20" value={attempts} onInput={(e) => setAttempts((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t("Calling hours (contact's time)")}</span>
          <span>
            <input type="time" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
            {" – "}
            <input type="time" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          </span>
        </label>
        <label class="field wide">
          <span>{t("Script for the agent ({field} fills in a column)")}</span>
          <textarea rows={3} value={script} onInput={(e) => setScript((e.target as HTMLTextAreaElement).value)} />
        </label>
        <label class="field wide">
          <span>{t("Contacts (CSV with a header row)")}</span>
          <input type="file" accept=".csv,text/csv" onChange={(e) => void pick((e.target as HTMLInputElement).files?.[0] ?? null)} data-testid="campaign-csv" />
        </label>
      </div>
      {columns.length > 0 && (
        <div class="toolbar" data-testid="campaign-mapping">
          {mapField("phone", t("Phone column"))}
          {mapField("name", t("Name column"))}
          {mapField("time_zone", t("Time zone column"))}
          {mapField("language", t("Language column"))}
        </div>
      )}
      {error && (
        <div class="error" data-testid="campaign-error">
          {error.field ? `${error.field}: ` : ""}
          {error.text}
        </div>
      )}
      <button class="btn btn-primary" disabled={busy || !name} onClick={create} data-testid="campaign-create">
        {t("Create campaign")}
      </button>
      {report && <ImportReportView report={report} />}
    </section>
  );
}

function ImportReportView({ report }: { report: Report }) {
  return (
    <div class="import-report" data-testid="import-report">
      <p>
        {t("{imported} of {rows} rows imported, {rejected} rejected.", {
          imported: report.imported,
          rows: report.rows,
          rejected: report.rejected,
        })}
        {report.aborted && <strong> {t("Import stopped, nothing was stored:")} {report.aborted}</strong>}
      </p>
      {report.errors.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th class="num">{t("Row")}</th>
              <th>{t("Column")}</th>
              <th>{t("Problem")}</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((e) => (
              <tr key={e.row + e.kind}>
                <td class="num">{e.row}</td>
                <td>{e.column ?? ""}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
