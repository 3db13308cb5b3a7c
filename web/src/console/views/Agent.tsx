import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { get, post } from "../api";
import { fmtDuration, fmtTime, secondsSince, secondsUntil, useNow } from "../clock";
import { useShortcuts } from "../keys";
import { answersOnPath, clearProgress, loadProgress } from "../script";
import { act, refreshAgent } from "../session";
import { toast, useAppState } from "../store";
import type { AgentState, Card, HistoryItem, Interaction, InteractionState, Offer } from "../types";
import { ScriptRunner } from "./ScriptRunner";
import { CampaignCard } from "./CampaignCard";
import { DispositionFields } from "./DispositionFields";
import { t } from "../i18n";
import { displayStatus, StatusPill } from "./status";

export const BREAK_REASONS = ["Lunch", "Coffee", "Training", "Meeting", "Technical issue", "Other"];

function setStatus(status: "available" | "break" | "offline", reason: string | null) {
  return act(() => post("/api/v1/agent/status", { status, reason }), refreshAgent);
}

function acceptOffer(o: Offer) {
  return act(() => post(`/api/v1/agent/offers/${o.offer_id}/accept`), refreshAgent);
}

function rejectOffer(o: Offer) {
  return act(() => post(`/api/v1/agent/offers/${o.offer_id}/reject`), refreshAgent);
}

function hangUp(i: Interaction) {
  return act(() => post(`/api/v1/interactions/${i.id}/hangup`), refreshAgent);
}

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/** Key presses to the customer's line, e.g. to get through a company's phone menu. */
function Keypad({ it }: { it: Interaction }) {
  const [sent, setSent] = useState("");
  const press = (key: string) => {
    setSent((s) => (s + key).slice(-16));
    void act(() => post(`/api/v1/interactions/${it.id}/dtmf`, { digits: key }));
  };
  return (
    <div class="keypad" data-testid="keypad" aria-label={t("Keypad")}>
      {KEYS.map((k) => (
        <button key={k} class="btn keypad-key" onClick={() => press(k)} data-testid={"key-" + k}>
          {k}
        </button>
      ))}
      <span class="muted keypad-sent" data-testid="keypad-sent">
        {sent}
      </span>
    </div>
  );
}

export function AgentView() {
  const { agent, agentError } = useAppState();
  const [reason, setReason] = useState(BREAK_REASONS[0]);
  // A campaign call or preview card is on screen (it is not among the interactions).
  const [onCampaign, setOnCampaign] = useState(false);
  // A saved wrap-up ends the interaction, so its workspace (and the confirmation in it) leaves
  // the screen with the next state update: confirm it here instead, until the next contact.
  const [saved, setSaved] = useState<SavedWrapUp | null>(null);
  const next = agent ? agent.offers.length > 0 || agent.interactions.some((i) => i.id !== saved?.id) : false;
  useEffect(() => {
    if (saved && next) setSaved(null);
  }, [saved, next]);

  const live = agent?.interactions.find((i) => i.state !== "ended");
  const offer = agent?.offers[0];

  useShortcuts({
    a: () => void setStatus("available", null),
    b: () => void setStatus("break", reason),
    o: () => void setStatus("offline", null),
    Enter: () => offer && void acceptOffer(offer),
    y: () => offer && void acceptOffer(offer),
    r: () => offer && void rejectOffer(offer),
    Escape: () => offer && void rejectOffer(offer),
    h: () => live && void hangUp(live),
  });

  if (!agent) {
    return (
      <div class="empty" data-testid="agent-error">
        {agentError ? t("Your workspace could not be loaded: {error}", { error: agentError }) : t("Loading your workspace…")}
      </div>
    );
  }

  return (
    <div class="agent" data-testid="agent-view">
      <StatusBar agent={agent} reason={reason} setReason={setReason} />
      <CampaignCard agent={agent} onCard={setOnCampaign} />
      {agent.offers.map((o) => (
        <OfferPanel key={o.offer_id} offer={o} />
      ))}
      {saved && agent.interactions.length === 0 && agent.offers.length === 0 && <WrapUpSaved saved={saved} />}
      {agent.interactions.length === 0 && agent.offers.length === 0 && !onCampaign && <Idle agent={agent} />}
      {agent.interactions.map((i) => (
        <InteractionWorkspace
          key={i.id}
          it={i}
          onSaved={(disposition) => setSaved({ id: i.id, disposition })}
        />
      ))}
      <History agent={agent} />
    </div>
  );
}

function StatusBar(props: { agent: AgentState; reason: string; setReason: (r: string) => void }) {
  const { agent } = props;
  const now = useNow();
  const shown = displayStatus(agent);
  // Highlight what the agent is shown as doing: on a call none of these is the current state,
  // though they stay usable (the status applies when the call ends).
  const on = (s: string) => (shown === s ? " on" : "");
  return (
    <section class="panel statusbar" data-testid="status-bar">
      <div class="statusbar-left">
        <StatusPill status={shown} raw={agent.status} reason={agent.reason} testid="agent-status" />
        <span class="timer" data-testid="status-elapsed" title={t("Time in this status")}>
          {fmtDuration(secondsSince(agent.status_since, now))}
        </span>
        {agent.phone !== "simulated" && (
          <span
            class={"pill phone-" + agent.phone}
            data-testid="phone-status"
            title={t("Your SIP phone")}
          >
            {agent.phone === "registered" ? t("Phone registered") : t("Phone not registered")}
          </span>
        )}
        {agent.status === "wrap_up" && agent.wrap_up_until && (
          <span class="muted" data-testid="wrapup-countdown">
            {t("wrap-up ends in {time}", { time: fmtDuration(secondsUntil(agent.wrap_up_until, now)) })}
          </span>
        )}
      </div>
      <div class="statusbar-right">
        <button
          class={"btn st-btn st-available" + on("available")}
          aria-pressed={shown === "available"}
          onClick={() => void setStatus("available", null)}
          data-testid="status-available"
          title={t("Shortcut: {key}", { key: "A" })}
        >
          {t("Available")} <kbd>A</kbd>
        </button>
        <div class="btn-group">
          <select
            value={props.reason}
            onChange={(e) => props.setReason(e.currentTarget.value)}
            data-testid="break-reason"
            aria-label={t("Break reason")}
          >
            {BREAK_REASONS.map((r) => (
              <option key={r} value={r}>
                {t(r)}
              </option>
            ))}
          </select>
          <button
            class={"btn st-btn st-amber" + on("break")}
            aria-pressed={shown === "break"}
            onClick={() => void setStatus("break", props.reason)}
            data-testid="status-break"
            title={t("Shortcut: {key}", { key: "B" })}
          >
            {t("Break")} <kbd>B</kbd>
          </button>
        </div>
        <button
          class={"btn st-btn st-offline" + on("offline")}
          aria-pressed={shown === "offline"}
          onClick={() => void setStatus("offline", null)}
          data-testid="status-offline"
          title={t("Shortcut: {key}", { key: "O" })}
        >
          {t("Offline")} <kbd>O</kbd>
        </button>
      </div>
    </section>
  );
}

// The offer's full timeout is not in the API: remember when each offer was first seen so the
// countdown bar can show the share of time left.
const offerSeenAt = new Map<number, number>();

function OfferPanel({ offer }: { offer: Offer }) {
  const now = useNow();
  if (!offerSeenAt.has(offer.offer_id)) offerSeenAt.set(offer.offer_id, now);
  const left = secondsUntil(offer.expires_at, now);
  const total = Math.max(1, (Date.parse(offer.expires_at) - offerSeenAt.get(offer.offer_id)!) / 1000);
  const share = Math.max(0, Math.min(1, left / total));
  return (
    <section class="panel offer" data-testid="offer" data-offer-id={offer.offer_id}>
      <div class="offer-bar" style={{ width: `${share * 100}%` }} />
      <div class="offer-body">
        <div class="offer-info">
          <div class="offer-kicker">
            {t("Incoming {kind}", { kind: t(offer.kind) })} · {offer.queue_name}
          </div>
          <div class="offer-name" data-testid="offer-name">
            {offer.customer_name || t("Unknown caller")}
          </div>
          <div class="offer-meta">
            <span data-testid="offer-phone">{offer.phone}</span>
            {offer.topic && <span data-testid="offer-topic"> · {offer.topic}</span>}
          </div>
        </div>
        <div class={"countdown" + (left <= 5 ? " urgent" : "")} data-testid="offer-countdown" data-seconds={left}>
          {t("{n}s", { n: left })}
        </div>
        <div class="offer-actions">
          <button class="btn btn-success btn-lg" onClick={() => void acceptOffer(offer)} data-testid="offer-accept">
            {t("Accept")} <kbd>Enter</kbd>
          </button>
          <button class="btn btn-lg" onClick={() => void rejectOffer(offer)} data-testid="offer-reject">
            {t("Reject")} <kbd>R</kbd>
          </button>
        </div>
      </div>
    </section>
  );
}

function Idle({ agent }: { agent: AgentState }) {
  const msg =
    agent.status === "available"
      ? t("You are available. The next contact will pop up here.")
      : agent.status === "break"
        ? t("You are on a break. Press A (or Available) when you are back.")
        : agent.status === "wrap_up"
          ? t("Wrap-up time. You will be available again shortly.")
          : t("You are offline. Press A (or Available) to start taking contacts.");
  return (
    <section class="panel idle" data-testid="agent-idle">
      <div class="idle-icon">☎</div>
      <div>{msg}</div>
    </section>
  );
}

const CALL_STEPS: { state: InteractionState; label: string }[] = [
  { state: "dialing_agent", label: "Dialing agent" },
  { state: "dialing_customer", label: "Dialing customer" },
  { state: "connected", label: "Connected" },
  { state: "ended", label: "Ended" },
];

interface SavedWrapUp {
  id: number;
  disposition: string;
}

function WrapUpSaved({ saved }: { saved: SavedWrapUp }) {
  return (
    <section class="panel">
      <div class="script-done" data-testid="disposition-saved" data-interaction-id={saved.id}>
        ✓ {t("Wrap-up of callback #{id} saved:", { id: saved.id })} {saved.disposition}
      </div>
    </section>
  );
}

function InteractionWorkspace({ it, onSaved }: { it: Interaction; onSaved: (disposition: string) => void }) {
  return (
    <div class="workspace" data-testid="interaction" data-interaction-id={it.id}>
      <div class="col">
        <CallPanel it={it} />
        <CardPanel card={it.card} />
      </div>
      <div class="col">
        {it.card.script && (
          <section class="panel">
            <h3>
              {t("Script")} <span class="muted">· {it.card.script.name}</span>
            </h3>
            <ScriptRunner def={it.card.script} storageKey={String(it.id)} />
          </section>
        )}
        <Disposition it={it} onSaved={onSaved} />
      </div>
    </div>
  );
}

function CallPanel({ it }: { it: Interaction }) {
  const now = useNow();
  const idx = CALL_STEPS.findIndex((s) => s.state === it.state);
  const label = t(CALL_STEPS[idx]?.label ?? it.state);
  return (
    <section class={"panel call call-" + it.state} data-testid="call-panel">
      <div class="call-head">
        <div>
          <div class="call-kicker">
            {t(it.kind)} #{it.id} · {it.card.queue_name}
          </div>
          <div class="call-state" data-testid="call-state" data-state={it.state}>
            {label}
          </div>
        </div>
        <div class="call-timer timer" data-testid="call-timer">
          {fmtDuration(secondsSince(it.state_since, now))}
        </div>
        {it.state !== "ended" && (
          <button class="btn btn-danger" onClick={() => void hangUp(it)} data-testid="hangup">
            {t("Hang up")} <kbd>H</kbd>
          </button>
        )}
      </div>
      <ol class="stepper">
        {CALL_STEPS.map((s, i) => (
          <li key={s.state} class={i < idx ? "done" : i === idx ? "current" : ""}>
            {t(s.label)}
          </li>
        ))}
      </ol>
      {it.state === "connected" && <Keypad it={it} />}
    </section>
  );
}

export function CardPanel({ card }: { card: Card }) {
  const custom = Object.entries(card.custom_fields ?? {});
  return (
    <section class="panel card" data-testid="card">
      <div class="card-head">
        <div class="avatar">{initials(card.customer.name)}</div>
        <div>
          <div class="card-name" data-testid="card-name">
            {card.customer.name || t("Unknown customer")}
          </div>
          <a class="card-phone" href={"tel:" + card.customer.phone} data-testid="card-phone">
            {card.customer.phone}
          </a>
        </div>
        <div class="card-attempt" data-testid="card-attempt" title={t("Attempt number")}>
          {t("Attempt {n}", { n: card.attempt })}
        </div>
      </div>
      <dl class="kv">
        <dt>{t("Topic")}</dt>
        <dd data-testid="card-topic">{card.topic || "—"}</dd>
        <dt>{t("Page")}</dt>
        <dd>
          {card.page_url ? (
            <a href={safeUrl(card.page_url)} target="_blank" rel="noopener noreferrer" data-testid="card-page">
              {card.page_url}
            </a>
          ) : (
            <span data-testid="card-page">—</span>
          )}
        </dd>
        <dt>{t("Queue")}</dt>
        <dd data-testid="card-queue">{card.queue_name}</dd>
        {card.recording_url && (
          <Fragment>
            <dt>{t("Recording")}</dt>
            <dd>
              <a href={card.recording_url} data-testid="card-recording">
                {t("Download")}
              </a>
            </dd>
          </Fragment>
        )}
        <dt>{t("Requested")}</dt>
        <dd data-testid="card-requested">{fmtTime(card.requested_at)}</dd>
        <dt>{t("Preferred")}</dt>
        <dd data-testid="card-preferred">{card.preferred_at ? fmtTime(card.preferred_at) : t("As soon as possible")}</dd>
        {custom.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd data-testid={"card-field-" + k}>{v}</dd>
          </Fragment>
        ))}
      </dl>
      <h4>{t("Earlier contacts")}</h4>
      {card.history.length === 0 ? (
        <div class="muted" data-testid="card-history-empty">
          {t("No earlier contacts.")}
        </div>
      ) : (
        <ul class="timeline" data-testid="card-history">
          {card.history.map((h) => (
            <li key={h.interaction_id} data-testid="card-history-item">
              <span class="muted">{fmtTime(h.started_at)}</span> {h.topic ?? h.kind} ·{" "}
              <span class={"outcome outcome-" + h.outcome}>{h.outcome}</span>
              {h.disposition && <span> · {h.disposition}</span>}
              {h.agent_name && <span class="muted"> · {h.agent_name}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Disposition({ it, onSaved }: { it: Interaction; onSaved: (disposition: string) => void }) {
  const { card } = it;
  const [disposition, setDisposition] = useState("");
  const [notes, setNotes] = useState("");
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  // The server takes the wrap-up once the call has ended; it can be filled in before.
  const live = it.state !== "ended";

  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!disposition) {
      setErr(t("Choose a disposition"));
      return;
    }
    setErr(null);
    setBusy(true);
    const answers = card.script ? answersOnPath(loadProgress(String(it.id), card.script)) : {};
    const ok = await act(
      () => post(`/api/v1/interactions/${it.id}/wrapup`, { disposition, notes, answers }),
      refreshAgent,
    );
    setBusy(false);
    if (ok) {
      clearProgress(String(it.id));
      onSaved(disposition);
      setSaved(true);
      toast(t("Wrap-up saved"), "info");
    }
  };

  if (saved) {
    return (
      <section class="panel">
        <h3>{t("Disposition")}</h3>
        <div class="script-done" data-testid="disposition-saved">
          ✓ {t("Saved:")} {disposition}
        </div>
      </section>
    );
  }

  return (
    <section class="panel">
      <h3>{t("Disposition")}</h3>
      <form class="disposition" onSubmit={submit} data-testid="disposition-form">
        <DispositionFields
          dispositions={card.dispositions}
          disposition={disposition}
          setDisposition={setDisposition}
          notes={notes}
          setNotes={setNotes}
        />
        {err && <div class="field-error">{err}</div>}
        <div class="row">
          <button class="btn btn-primary" type="submit" disabled={busy || live} data-testid="disposition-submit">
            {t("Save wrap-up")}
          </button>
          {live && <span class="muted small">{t("Available once the call has ended.")}</span>}
        </div>
      </form>
    </section>
  );
}

const HISTORY_LIMIT = 20;

// What the history's kind column says for each kind the API sends.
const KIND_LABEL: Record<string, string> = {
  callback: "Callback",
  inbound: "Inbound call",
  campaign: "Campaign call",
};

function History({ agent }: { agent: AgentState }) {
  const [items, setItems] = useState<HistoryItem[] | null>(null);
  // Reload whenever a contact starts or ends: the interactions on screen, the campaign call's
  // phase, or the status (a campaign wrap-up saved ends after-call work).
  const sig = [agent.interactions.map((i) => i.id).join(","), agent.campaign_phase ?? "", agent.status].join("|");
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    get<HistoryItem[]>(`/api/v1/agent/history?limit=${HISTORY_LIMIT}`)
      .then((h) => mine === seq.current && setItems(h))
      .catch(() => mine === seq.current && setItems([]));
  }, [sig]);

  return (
    <section class="panel">
      <h3>{t("Recent contacts")}</h3>
      {items === null ? (
        <div class="muted">{t("Loading…")}</div>
      ) : items.length === 0 ? (
        <div class="muted" data-testid="history-empty">
          {t("No contacts yet.")}
        </div>
      ) : (
        <table class="table" data-testid="history">
          <thead>
            <tr>
              <th>{t("Started")}</th>
              <th>{t("Kind")}</th>
              <th>{t("Topic")}</th>
              <th>{t("Outcome")}</th>
              <th>{t("Disposition")}</th>
              <th class="num">{t("Duration")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((h) => (
              <tr key={h.interaction_id} data-testid="history-row" data-interaction-id={h.interaction_id}>
                <td>{fmtTime(h.started_at)}</td>
                <td>{t(KIND_LABEL[h.kind] ?? h.kind)}</td>
                <td>{h.topic ?? "—"}</td>
                <td>
                  <span class={"outcome outcome-" + h.outcome}>{h.outcome}</span>
                </td>
                <td>{h.disposition ?? "—"}</td>
                <td class="num">
                  {h.ended_at ? fmtDuration((Date.parse(h.ended_at) - Date.parse(h.started_at)) / 1000) : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return (parts[0]?.[0] ?? "?").toUpperCase() + (parts[1]?.[0] ?? "").toUpperCase();
}

// Only http(s) links from customer input become clickable; anything else is shown inert.
function safeUrl(u: string): string | undefined {
  try {
    const p = new URL(u);
    return p.protocol === "http:" || p.protocol === "https:" ? p.href : undefined;
  } catch {
    return undefined;
  }
}
