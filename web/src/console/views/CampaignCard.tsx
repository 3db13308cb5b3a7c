// The agent's screen pop for an outbound campaign call: the contact card (every column of the
// contact's CSV row) and the campaign's script; in preview mode, Dial and Skip. It re-reads the
// card whenever the agent's state changes (the WebSocket pushes it) and while a card is shown.
import { useEffect, useState } from "preact/hooks";
import { get, post } from "../api";
import { t } from "../i18n";
import { toast } from "../store";
import type { AgentState } from "../types";
import { label } from "./Campaigns";
import { DispositionFields } from "./DispositionFields";

interface CampaignCardData {
  call: number;
  campaign_id: number;
  campaign_name: string;
  phase: string;
  attempt: number;
  phone: string;
  name: string | null;
  fields: Record<string, string>;
  script: string | null;
  message: string | null;
  dispositions: string[];
}

const POLL_MS = 2_000;

export function CampaignCard({ agent, onCard }: { agent: AgentState; onCard?: (shown: boolean) => void }) {
  const [card, setCard] = useState<CampaignCardData | null>(null);
  const [busy, setBusy] = useState(false);
  const shown = card !== null;
  useEffect(() => onCard?.(shown), [shown]);

  useEffect(() => {
    let live = true;
    const load = () =>
      get<CampaignCardData | null>("/api/v1/agent/campaign-card")
        .then((c) => live && setCard(c))
        .catch(() => live && setCard(null));
    void load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [agent]);

  if (!card) return null;
  const decide = async (what: "dial" | "skip" | "hangup") => {
    setBusy(true);
    try {
      await post(`/api/v1/agent/campaign-card/${card.call}/${what}`);
      setCard(await get<CampaignCardData | null>("/api/v1/agent/campaign-card"));
    } catch (e) {
      toast((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel campaign-card" data-testid="campaign-card" data-phase={card.phase}>
      <div class="toolbar">
        <strong>
          {t("Campaign")}: {card.campaign_name}
        </strong>
        <span class="muted"> · {label(card.phase)} · {t("attempt {n}", { n: card.attempt })}</span>
        <div class="spacer" />
        {card.phase === "preview" && (
          <>
            <button class="btn btn-primary" disabled={busy} onClick={() => decide("dial")} data-testid="campaign-dial">
              {t("Dial")}
            </button>
            <button class="btn" disabled={busy} onClick={() => decide("skip")} data-testid="campaign-skip">
              {t("Skip")}
            </button>
          </>
        )}
        {card.phase !== "preview" && card.phase !== "wrap_up" && (
          <button class="btn btn-danger" disabled={busy} onClick={() => decide("hangup")} data-testid="campaign-hangup">
            {t("Hang up")}
          </button>
        )}
      </div>
      <dl class="card-fields" style={{ display: "grid", gridTemplateColumns: "max-content 1fr", gap: "4px 16px" }}>
        <dt>{t("Name")}</dt>
        <dd style={{ margin: 0 }}>{card.name ?? "—"}</dd>
        <dt>{t("Phone")}</dt>
        <dd style={{ margin: 0 }}>{card.phone}</dd>
        {Object.entries(card.fields)
          .filter(([k]) => k !== "name" && k !== "phone")
          .map(([k, v]) => (
            <>
              <dt key={"k" + k}>{k}</dt>
              <dd key={"v" + k} style={{ margin: 0 }}>
                {v}
              </dd>
            </>
          ))}
      </dl>
      {card.script && (
        <div class="campaign-script" data-testid="campaign-script">
          <div class="muted">{t("Script")}</div>
          <p>{card.script}</p>
        </div>
      )}
      {card.phase === "wrap_up" && (
        <CampaignDisposition
          key={card.call}
          card={card}
          onSaved={async () => setCard(await get<CampaignCardData | null>("/api/v1/agent/campaign-card"))}
        />
      )}
    </section>
  );
}

// After a campaign conversation: the disposition (the campaign queue's list) and notes, saved
// before after-call work ends.
function CampaignDisposition({ card, onSaved }: { card: CampaignCardData; onSaved: () => Promise<void> }) {
  const [disposition, setDisposition] = useState("");
  const [notes, setNotes] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!disposition) {
      setErr(t("Choose a disposition"));
      return;
    }
    setErr(null);
    setBusy(true);
    try {
      await post(`/api/v1/agent/campaign-card/${card.call}/wrapup`, { disposition, notes });
      toast(t("Wrap-up saved"), "info");
      await onSaved();
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="disposition" onSubmit={submit} data-testid="campaign-disposition-form">
      <h3>{t("Disposition")}</h3>
      <DispositionFields
        dispositions={card.dispositions}
        disposition={disposition}
        setDisposition={(d) => {
          setDisposition(d);
          if (d) setErr(null);
        }}
        notes={notes}
        setNotes={setNotes}
        testPrefix="campaign-"
      />
      {err && <div class="field-error">{err}</div>}
      <button class="btn btn-primary" type="submit" disabled={busy} data-testid="campaign-disposition-save">
        {t("Save wrap-up")}
      </button>
    </form>
  );
}
