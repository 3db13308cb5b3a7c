import { useState } from "preact/hooks";
import { post } from "../api";
import { fmtDuration, secondsSince, useNow } from "../clock";
import { act, refreshOverview } from "../session";
import { t } from "../i18n";
import { useAppState } from "../store";
import { TREND_WINDOW_MS, waitingTrend } from "../trend";
import type { AgentOverview, QueueOverview } from "../types";
import { Sparkline } from "./charts";
import { StatusPill, statusLabel } from "./status";

type Filter = "all" | "available" | "on_call" | "break" | "offline";

function shownStatus(a: AgentOverview): string {
  return a.interaction_id !== null && a.status !== "wrap_up" ? "on_call" : a.status;
}

export function SupervisorView() {
  const { overview, overviewAt } = useAppState();
  const [filter, setFilter] = useState<Filter>("all");
  const now = useNow();
  if (!overview) return <div class="empty">{t("Loading the wallboard…")}</div>;

  const agents = [...overview.agents].sort((a, b) => a.name.localeCompare(b.name));
  const counts: Record<string, number> = { all: agents.length };
  for (const a of agents) {
    const s = shownStatus(a) === "wrap_up" ? "break" : shownStatus(a);
    counts[s] = (counts[s] ?? 0) + 1;
  }
  const visible = agents.filter((a) => {
    if (filter === "all") return true;
    const s = shownStatus(a);
    return filter === "break" ? s === "break" || s === "wrap_up" : s === filter;
  });
  // longest_wait_s is a snapshot: keep it ticking from when the overview arrived.
  const sinceSnapshot = Math.max(0, Math.floor((Date.now() - overviewAt) / 1000));

  return (
    <div class="supervisor" data-testid="supervisor-view">
      <div class="tiles">
        {overview.queues.length === 0 && <div class="empty">{t("No queues yet.")}</div>}
        {overview.queues.map((q) => (
          <QueueTile key={q.id} q={q} extraS={sinceSnapshot} />
        ))}
      </div>
      <section class="panel">
        <div class="panel-head">
          <h3>{t("Agents")}</h3>
          <div class="chips">
            {(["all", "available", "on_call", "break", "offline"] as Filter[]).map((f) => (
              <button
                key={f}
                class={"chip" + (filter === f ? " on" : "")}
                onClick={() => setFilter(f)}
                data-testid={"agent-filter-" + f}
              >
                {f === "all" ? t("All") : f === "break" ? t("Break / wrap-up") : statusLabel(f)}{" "}
                <span class="chip-n">{counts[f] ?? 0}</span>
              </button>
            ))}
          </div>
        </div>
        <table class="table" data-testid="agent-table">
          <thead>
            <tr>
              <th>{t("Agent")}</th>
              <th>{t("State")}</th>
              <th class="num">{t("Time in state")}</th>
              <th>{t("Contact")}</th>
              <th class="num">{t("Voice load")}</th>
              <th class="actions">{t("Set status")}</th>
            </tr>
          </thead>
          <tbody>
            {visible.map((a) => (
              <AgentRow key={a.id} a={a} now={now} />
            ))}
            {visible.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  {t("No agents here.")}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function QueueTile({ q, extraS }: { q: QueueOverview; extraS: number }) {
  const wait = q.waiting > 0 ? q.longest_wait_s + extraS : 0;
  const sl = q.service_level;
  const slClass = sl === null ? "" : sl >= 0.8 ? "good" : sl >= 0.6 ? "warn" : "bad";
  // The trend is kept with the client clock (see trend.ts), so it is drawn against it too.
  const now = Date.now();
  const trend = waitingTrend(q.id, now);
  const peak = Math.max(0, ...trend.map((s) => s.v));
  return (
    <section class={"panel tile" + (q.waiting > 0 && q.agents_free === 0 ? " alert" : "")} data-testid="queue-tile" data-queue-id={q.id}>
      <div class="tile-name" data-testid="queue-name">
        {q.name}
      </div>
      <div class="tile-grid">
        <div class="metric">
          <div class="metric-v" data-testid="queue-waiting">
            {q.waiting}
          </div>
          <div class="metric-l">{t("waiting")}</div>
        </div>
        <div class="metric">
          <div class={"metric-v" + (wait >= 60 ? " bad" : "")} data-testid="queue-longest-wait">
            {fmtDuration(wait)}
          </div>
          <div class="metric-l">{t("longest wait")}</div>
        </div>
        <div class="metric">
          <div class="metric-v" data-testid="queue-agents-free">
            {q.agents_free}
          </div>
          <div class="metric-l">{t("agents free")}</div>
        </div>
        <div class="metric">
          <div class={"metric-v " + slClass} data-testid="queue-service-level">
            {sl === null ? "–" : `${Math.round(sl * 100)}%`}
          </div>
          <div class="metric-l">{t("service level")}</div>
        </div>
      </div>
      <div class="tile-trend">
        <Sparkline
          samples={trend}
          from={now - TREND_WINDOW_MS}
          to={now}
          label={t("Waiting over the last 5 minutes, at most {n}", { n: peak })}
          testid="queue-trend"
        />
        <span class="tile-trend-l muted">{t("waiting, 5 min")}</span>
      </div>
      <div class="tile-foot muted">{t("offered {offered} · assigned {assigned}", { offered: q.offered, assigned: q.assigned })}</div>
    </section>
  );
}

function setAgentStatus(id: number, status: string, reason: string | null) {
  return act(() => post(`/api/v1/supervisor/agents/${id}/status`, { status, reason }), refreshOverview);
}

function AgentRow({ a, now }: { a: AgentOverview; now: number }) {
  const shown = shownStatus(a);
  return (
    <tr data-testid="agent-row" data-agent-id={a.id} data-status={a.status}>
      <td data-testid="agent-row-name">{a.name}</td>
      <td>
        <StatusPill status={shown} raw={a.status} reason={a.reason} testid="agent-row-status" />
      </td>
      <td class="num timer" data-testid="agent-row-time">
        {fmtDuration(secondsSince(a.status_since, now))}
      </td>
      <td>{a.interaction_id !== null ? `#${a.interaction_id}` : <span class="muted">—</span>}</td>
      <td class="num">{a.load_voice}</td>
      <td class="actions">
        <button class="btn btn-xs" disabled={a.status === "available"} onClick={() => void setAgentStatus(a.id, "available", null)} data-testid="agent-set-available">
          {t("Available")}
        </button>
        <button class="btn btn-xs" disabled={a.status === "break"} onClick={() => void setAgentStatus(a.id, "break", "Set by supervisor")} data-testid="agent-set-break">
          {t("Break")}
        </button>
        <button class="btn btn-xs" disabled={a.status === "offline"} onClick={() => void setAgentStatus(a.id, "offline", null)} data-testid="agent-set-offline">
          {t("Offline")}
        </button>
      </td>
    </tr>
  );
}
