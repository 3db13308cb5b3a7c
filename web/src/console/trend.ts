import type { Sample } from "./views/charts";
import { getState, subscribe } from "./store";

// Each queue's "waiting" count over the last few minutes, kept in the browser from the overview
// pushes (the API has no history of it) for the wallboard sparklines. Starts empty on load.
export const TREND_WINDOW_MS = 5 * 60 * 1000;

const byQueue = new Map<number, Sample[]>();
let seen: unknown = null;

function note(): void {
  const { overview, overviewAt } = getState();
  if (overview === seen) return;
  seen = overview;
  if (!overview) {
    byQueue.clear();
    return;
  }
  const live = new Set<number>();
  for (const q of overview.queues) {
    live.add(q.id);
    const samples = byQueue.get(q.id) ?? [];
    // A step line only needs the changes.
    if (samples.length === 0 || samples[samples.length - 1].v !== q.waiting) samples.push({ t: overviewAt, v: q.waiting });
    byQueue.set(q.id, prune(samples, overviewAt));
  }
  for (const id of [...byQueue.keys()]) if (!live.has(id)) byQueue.delete(id);
}

// Drops samples that ended before the window, keeping the one in force at its start.
function prune(samples: Sample[], now: number): Sample[] {
  let i = 0;
  while (i + 1 < samples.length && samples[i + 1].t <= now - TREND_WINDOW_MS) i++;
  return i > 0 ? samples.slice(i) : samples;
}

export function waitingTrend(queueId: number, now: number): Sample[] {
  return prune(byQueue.get(queueId) ?? [], now);
}

subscribe(note);
note();
