import { t } from "../i18n";
import type { AgentState } from "../types";

// What the agent is doing, as shown to people: "on_call" is derived from a live interaction.
export type ShownStatus = "offline" | "available" | "break" | "wrap_up" | "on_call" | string;

export function displayStatus(a: AgentState): ShownStatus {
  if (a.interactions.some((i) => i.state !== "ended")) return "on_call";
  // A campaign call counts from its dial to its end (a preview card is not a call yet).
  if (["dialing", "answered", "bridged"].includes(a.campaign_phase ?? "")) return "on_call";
  return a.status;
}

const LABEL: Record<string, string> = {
  offline: "Offline",
  available: "Available",
  break: "Break",
  wrap_up: "Wrap-up",
  on_call: "On call",
  busy: "On call",
};

export function statusLabel(s: string): string {
  return LABEL[s] ? t(LABEL[s]) : s.replace(/_/g, " ");
}

export function statusClass(s: string): string {
  if (s === "available") return "st-available";
  if (s === "break" || s === "wrap_up") return "st-amber";
  if (s === "on_call" || s === "busy" || s === "reserved") return "st-call";
  return "st-offline";
}

export function StatusPill(props: { status: string; raw?: string; reason?: string | null; testid?: string }) {
  return (
    <span
      class={"pill " + statusClass(props.status)}
      data-testid={props.testid}
      data-status={props.status}
      data-raw-status={props.raw ?? props.status}
    >
      <span class="dot" />
      {statusLabel(props.status)}
      {props.status === "break" && props.reason ? <span class="pill-reason"> · {props.reason}</span> : null}
    </span>
  );
}
