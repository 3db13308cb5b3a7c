import { useEffect, useState } from "preact/hooks";
import { intlLocale } from "./i18n";

// Offset of the server clock from the client clock in ms, estimated from HTTP Date headers so
// that countdowns to server deadlines (offer expiry) stay right on a skewed workstation.
let skewMs = 0;

export function noteServerDate(header: string | null): void {
  if (!header) return;
  const server = Date.parse(header);
  if (Number.isNaN(server)) return;
  const skew = server - Date.now();
  // The header has one-second resolution: ignore differences that small.
  skewMs = Math.abs(skew) > 1500 ? skew : 0;
}

export function serverNow(): number {
  return Date.now() + skewMs;
}

const subscribers = new Set<(t: number) => void>();
let timer: number | undefined;

function tick(): void {
  const t = serverNow();
  subscribers.forEach((s) => s(t));
}

// Re-renders the caller once a second, aligned to the wall-clock second.
export function useNow(): number {
  const [now, setNow] = useState(serverNow());
  useEffect(() => {
    subscribers.add(setNow);
    if (timer === undefined) {
      const start = () => {
        tick();
        timer = window.setInterval(tick, 1000);
      };
      timer = window.setTimeout(start, 1000 - (Date.now() % 1000));
    }
    return () => {
      subscribers.delete(setNow);
      if (subscribers.size === 0 && timer !== undefined) {
        clearTimeout(timer);
        clearInterval(timer);
        timer = undefined;
      }
    };
  }, []);
  return now;
}

export function secondsSince(iso: string | null | undefined, now: number): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.max(0, Math.floor((now - t) / 1000));
}

export function secondsUntil(iso: string | null | undefined, now: number): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.max(0, Math.ceil((t - now) / 1000));
}

export function fmtDuration(totalS: number | null | undefined): string {
  if (totalS === null || totalS === undefined || !Number.isFinite(totalS)) return "–";
  const s = Math.max(0, Math.round(totalS));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, "0");
  const ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

const dateTimes = new Map<string, Intl.DateTimeFormat>();

function dateTime(): Intl.DateTimeFormat {
  const locale = intlLocale();
  const key = locale ?? "";
  let f = dateTimes.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    dateTimes.set(key, f);
  }
  return f;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime().format(new Date(t));
}
