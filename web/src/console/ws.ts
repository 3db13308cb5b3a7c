import { getState, setState } from "./store";
import type { WsMessage } from "./types";

// One WebSocket to /api/v1/ws, reconnected with capped exponential backoff and jitter.
const BACKOFF_MS_MIN = 1000;
const BACKOFF_MS_MAX = 30000;
const PING_MS = 25000;

let socket: WebSocket | null = null;
let attempt = 0;
let wanted = false;
let retryTimer: number | undefined;
let pingTimer: number | undefined;
let onLost: () => void = () => {};

export function startLive(lost: () => void): void {
  onLost = lost;
  wanted = true;
  if (!socket) connect();
}

export function stopLive(): void {
  wanted = false;
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  const s = socket;
  socket = null;
  s?.close();
  setState({ link: "down", retryAt: null });
}

function connect(): void {
  clearTimeout(retryTimer);
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const s = new WebSocket(`${proto}//${location.host}/api/v1/ws`);
  socket = s;
  setState({ link: attempt === 0 ? "connecting" : "retrying", retryAt: null });
  s.onopen = () => {
    attempt = 0;
    setState({ link: "open", retryAt: null });
    clearInterval(pingTimer);
    pingTimer = window.setInterval(() => send({ type: "ping" }), PING_MS);
  };
  s.onmessage = (ev) => {
    let msg: WsMessage;
    try {
      msg = JSON.parse(String(ev.data)) as WsMessage;
    } catch {
      return;
    }
    if (msg.type === "agent_state") setState({ agent: msg.state });
    else if (msg.type === "overview") setState({ overview: msg.overview, overviewAt: Date.now() });
  };
  s.onclose = () => {
    if (socket !== s) return;
    socket = null;
    clearInterval(pingTimer);
    if (!wanted) return;
    attempt += 1;
    const base = Math.min(BACKOFF_MS_MAX, BACKOFF_MS_MIN * 2 ** (attempt - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    setState({ link: "retrying", retryAt: Date.now() + delay });
    retryTimer = window.setTimeout(connect, delay);
    // A refused upgrade looks like any other close: let the caller check the session.
    if (attempt >= 2) onLost();
  };
}

function send(msg: unknown): void {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

export function linkIsOpen(): boolean {
  return getState().link === "open";
}
