import { useEffect, useRef } from "preact/hooks";

// Single-key shortcuts. Keys are KeyboardEvent.key values, lower-cased for letters.
export type KeyMap = Record<string, () => void>;

export const SHORTCUTS: { keys: string; what: string }[] = [
  { keys: "A", what: "Set status: available" },
  { keys: "B", what: "Set status: break (with the selected reason)" },
  { keys: "O", what: "Set status: offline" },
  { keys: "Enter / Y", what: "Accept the incoming offer" },
  { keys: "R / Esc", what: "Reject the incoming offer" },
  { keys: "H", what: "Hang up the live call" },
  { keys: "1 – 9", what: "Pick a script option" },
  { keys: "G then A / S / T", what: "Go to agent / supervisor / stats" },
  { keys: "?", what: "Show or hide this help" },
];

function typingIn(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

const G_WINDOW_MS = 1500;

// "g" then a letter goes to a page. Installed once, in the capture phase, so that the second
// letter never reaches a view's own single-key shortcuts (on the agent page "a" means available).
export function installGoKeys(routes: Record<string, string>, go: (route: string) => void, blocked: () => boolean): void {
  let pendingUntil = 0;
  window.addEventListener(
    "keydown",
    (ev) => {
      if (blocked() || ev.ctrlKey || ev.metaKey || ev.altKey || typingIn(ev.target)) return;
      const key = ev.key.toLowerCase();
      const pending = Date.now() < pendingUntil;
      pendingUntil = 0;
      if (pending && routes[key]) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        go(routes[key]);
      } else if (key === "g" && !pending) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        pendingUntil = Date.now() + G_WINDOW_MS;
      }
    },
    true,
  );
}

// Registers shortcuts while the calling component is mounted. Keys typed into a form field
// are left alone, and so is Enter on a focused button (it presses that button instead).
export function useShortcuts(map: KeyMap): void {
  const ref = useRef(map);
  ref.current = map;
  useEffect(() => {
    const on = (ev: KeyboardEvent) => {
      if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (typingIn(ev.target)) return;
      const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
      if (key === "Enter" && (ev.target as HTMLElement | null)?.tagName === "BUTTON") return;
      const f = ref.current[key];
      if (f) {
        ev.preventDefault();
        f();
      }
    };
    window.addEventListener("keydown", on);
    return () => window.removeEventListener("keydown", on);
  }, []);
}
