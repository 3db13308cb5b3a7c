import type { ScriptDefinition, ScriptStep } from "./types";

// Progress through an agent script: the path of visited step ids (the last one is current)
// and every answer given so far. Going back keeps answers so they are shown again.
export interface Progress {
  path: string[];
  answers: Record<string, string>;
}

export const PATH_LEN_MAX = 200;

export function stepById(def: ScriptDefinition, id: string): ScriptStep | undefined {
  return def.steps.find((s) => s.id === id);
}

export function initialProgress(def: ScriptDefinition): Progress {
  return { path: [def.start], answers: {} };
}

// The step that follows `step` for `answer`: branches[answer] if present, else next.
export function nextStepId(step: ScriptStep, answer: string): string | null {
  const b = step.branches?.[answer];
  if (b) return b;
  return step.next ?? null;
}

export function answer(def: ScriptDefinition, p: Progress, value: string): Progress {
  const current = p.path[p.path.length - 1];
  const step = stepById(def, current);
  if (!step || step.kind === "end") return p;
  const answers = { ...p.answers, [current]: value };
  const next = nextStepId(step, value);
  if (next === null || p.path.length >= PATH_LEN_MAX) {
    // No next step: the script ends here. Mark it with a pseudo step.
    return { path: [...p.path, END], answers };
  }
  return { path: [...p.path, next], answers };
}

export function back(p: Progress): Progress {
  if (p.path.length <= 1) return p;
  return { path: p.path.slice(0, -1), answers: p.answers };
}

export const END = "\u0000end";

export function isFinished(def: ScriptDefinition, p: Progress): boolean {
  const cur = p.path[p.path.length - 1];
  return cur === END || stepById(def, cur)?.kind === "end";
}

// The answers to send with the wrap-up: those on the path actually taken.
export function answersOnPath(p: Progress): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of p.path) if (id in p.answers) out[id] = p.answers[id];
  return out;
}

// Progress survives navigation and reloads for the browser tab's lifetime.
const memory = new Map<string, Progress>();

export function loadProgress(key: string, def: ScriptDefinition): Progress {
  const m = memory.get(key);
  if (m) return m;
  try {
    const raw = sessionStorage.getItem("sb-script-" + key);
    if (raw) {
      const p = JSON.parse(raw) as Progress;
      if (Array.isArray(p.path) && p.path.length > 0 && p.answers) {
        memory.set(key, p);
        return p;
      }
    }
  } catch {
    // Storage can be unavailable (privacy modes); memory alone is fine.
  }
  return initialProgress(def);
}

export function saveProgress(key: string, p: Progress): void {
  memory.set(key, p);
  try {
    sessionStorage.setItem("sb-script-" + key, JSON.stringify(p));
  } catch {
    // See loadProgress.
  }
}

export function clearProgress(key: string): void {
  memory.delete(key);
  try {
    sessionStorage.removeItem("sb-script-" + key);
  } catch {
    // See loadProgress.
  }
}
