import { useEffect, useState } from "preact/hooks";
import type { AgentState, Overview, User } from "./types";

export type Link = "connecting" | "open" | "retrying" | "down";

export interface Toast {
  id: number;
  kind: "error" | "info";
  text: string;
}

export interface AppState {
  // undefined while the first /auth/me is in flight, null when signed out.
  user: User | null | undefined;
  csrf: string;
  agent: AgentState | null;
  // Why the agent state could not be loaded, shown instead of the workspace.
  agentError: string | null;
  overview: Overview | null;
  // Client clock minus this many ms estimates the server clock (from the HTTP Date header).
  overviewAt: number;
  link: Link;
  retryAt: number | null;
  toasts: Toast[];
  help: boolean;
}

const listeners = new Set<() => void>();
let state: AppState = {
  user: undefined,
  csrf: "",
  agent: null,
  agentError: null,
  overview: null,
  overviewAt: 0,
  link: "down",
  retryAt: null,
  toasts: [],
  help: false,
};

export function getState(): AppState {
  return state;
}

export function setState(patch: Partial<AppState>): void {
  state = { ...state, ...patch };
  listeners.forEach((l) => l());
}

// Calls f after every state change; returns the unsubscribe function.
export function subscribe(f: () => void): () => void {
  listeners.add(f);
  return () => {
    listeners.delete(f);
  };
}

export function useAppState(): AppState {
  const [, setTick] = useState(0);
  const seen = state;
  useEffect(() => {
    const bump = () => setTick((t) => t + 1);
    listeners.add(bump);
    // The state may have changed between this render and the subscription.
    if (state !== seen) bump();
    return () => {
      listeners.delete(bump);
    };
  }, []);
  return state;
}

const TOASTS_MAX = 4;
const TOAST_MS = 6000;
let toastSeq = 0;

export function toast(text: string, kind: Toast["kind"] = "error"): void {
  const id = ++toastSeq;
  setState({ toasts: [...state.toasts, { id, kind, text }].slice(-TOASTS_MAX) });
  setTimeout(() => dismissToast(id), TOAST_MS);
}

export function dismissToast(id: number): void {
  setState({ toasts: state.toasts.filter((t) => t.id !== id) });
}
