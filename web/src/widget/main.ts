// Switchboard callback widget. Embedded with one tag:
//   <script src="https://switchboard.example/widget.js" data-key="KEY" async></script>
// The API origin is the origin this script was loaded from (never the host page's origin).
// Everything renders in a shadow root so that page styles and ours never mix.
import { CSS } from "./style";

interface Field {
  name: string;
  label: string;
  required: boolean;
}

interface Config {
  title?: string;
  button_text?: string;
  open_now?: boolean;
  next_open_at?: string | null;
  fields?: Field[];
}

interface Created {
  id: number;
  status_token: string;
  status: Status;
  status_url: string;
  scheduled_for: string | null;
}

type Status = "waiting" | "scheduled" | "calling" | "done" | "failed";

interface Tracked {
  id: number;
  url: string;
  status: Status;
  scheduled_for: string | null;
}

const POLL_MS = 3000;
// One hour of polling at most; after that the customer can reload the page.
const POLLS_MAX = 1200;
const BUILT_IN = ["name", "phone", "topic", "when", "preferred_at", "consent"];

// Captured synchronously while this script runs: currentScript is null later (and for async
// scripts it is only set during this first run).
const me =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>('script[data-key][src*="widget.js"]');

if (me && me.src) start(me);

function start(script: HTMLScriptElement): void {
  const origin = new URL(script.src, location.href).origin;
  const key = script.getAttribute("data-key") || "";
  const api = origin + "/api/v1/public";
  const storeKey = "sb-callback-" + key;
  const w = window as unknown as Record<string, unknown>;
  const flag = "__switchboard_" + key;
  if (w[flag]) return;
  w[flag] = 1;

  let cfg: Config = {};
  let tracked: Tracked | null = load();
  let idemKey: string | null = null;
  let polls = 0;
  let pollTimer = 0;

  const host = document.createElement("div");
  host.setAttribute("data-switchboard-widget", key);
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = CSS;
  const open = el("button", { class: "fab", "data-testid": "sb-open", type: "button", "aria-expanded": "false" });
  const panel = el("div", { class: "panel", role: "dialog", hidden: "" });
  root.append(style, open, panel);
  open.textContent = "Call me back";
  open.onclick = () => toggle(panel.hidden);

  const mount = () => document.body.appendChild(host);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  fetch(`${api}/widgets/${encodeURIComponent(key)}`, { credentials: "omit" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((c: Config) => {
      cfg = c || {};
      if (cfg.button_text) open.textContent = cfg.button_text;
      if (!panel.hidden) render();
    })
    .catch(() => {
      // The form still works without its texts; a real problem shows on submit.
    });

  if (tracked && !final(tracked.status)) poll();

  root.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape") toggle(false);
  });

  function toggle(show: boolean): void {
    panel.hidden = !show;
    open.setAttribute("aria-expanded", String(show));
    if (show) {
      render();
      (panel.querySelector("input") as HTMLInputElement | null)?.focus();
    }
  }

  function render(): void {
    panel.textContent = "";
    const close = el("button", { class: "x", type: "button", "aria-label": "Close" });
    close.textContent = "×";
    close.onclick = () => toggle(false);
    const h = el("div", { class: "head" });
    h.append(text("b", cfg.title || "We'll call you back"), close);
    panel.setAttribute("aria-label", cfg.title || "Call me back");
    panel.append(h, tracked ? statusView(tracked) : form());
  }

  function form(): HTMLElement {
    const f = el("form", { novalidate: "" }) as HTMLFormElement;
    const spec = (name: string, label: string, required: boolean): Field => {
      const o = (cfg.fields || []).find((x) => x.name === name);
      return { name, label: o?.label || label, required: o ? o.required : required };
    };
    if (cfg.open_now === false) {
      const note = el("p", { class: "note", "data-testid": "sb-closed" });
      note.textContent = cfg.next_open_at
        ? `We're closed right now. We can call you when we open: ${fmt(cfg.next_open_at)}.`
        : "We're closed right now. Leave your number and we'll call you when we open.";
      f.append(note);
    }
    f.append(
      row(spec("name", "Your name", true), input("text", "sb-name", "name", "name")),
      row(spec("phone", "Phone", true), input("tel", "sb-phone", "phone", "tel")),
      row(spec("topic", "What is it about?", false), input("text", "sb-topic", "topic", "off")),
    );
    const custom: Field[] = (cfg.fields || []).filter((x) => BUILT_IN.indexOf(x.name) < 0);
    for (const c of custom) f.append(row(c, input("text", "sb-field-" + c.name, "cf_" + c.name, "off")));
    const when = input("datetime-local", "sb-when", "preferred_at", "off");
    when.min = localInput(new Date());
    if (cfg.open_now === false && cfg.next_open_at) when.value = localInput(new Date(cfg.next_open_at));
    f.append(row(spec("preferred_at", "Preferred time (optional)", false), when));
    const consent = input("checkbox", "sb-consent", "consent", "off");
    const cl = el("label", { class: "consent" });
    cl.append(consent, document.createTextNode(" I agree to be called back about this request."));
    const ce = el("div", { class: "ferr", "data-for": "consent" });
    f.append(cl, ce);
    const err = el("div", { class: "err", "data-testid": "sb-error", role: "alert", hidden: "" });
    const submit = el("button", { type: "submit", class: "go", "data-testid": "sb-submit" }) as HTMLButtonElement;
    submit.textContent = "Call me back";
    f.append(err, submit);
    // Editing the form after a network failure makes it a new request with a new key.
    f.oninput = () => (idemKey = null);
    f.onsubmit = (e) => {
      e.preventDefault();
      void send(f, submit, err, custom);
    };
    return f;
  }

  async function send(f: HTMLFormElement, submit: HTMLButtonElement, err: HTMLElement, custom: Field[]) {
    const v = (n: string) => ((f.elements.namedItem(n) as HTMLInputElement | null)?.value || "").trim();
    const consent = (f.elements.namedItem("consent") as HTMLInputElement).checked;
    clearErrors(f, err);
    if (!v("name")) return fail(f, err, "name", "Please enter your name.");
    if (!v("phone")) return fail(f, err, "phone", "Please enter your phone number.");
    if (!consent) return fail(f, err, "consent", "Please agree to be called back.");
    const fields: Record<string, string> = {};
    for (const c of custom) {
      const val = v("cf_" + c.name);
      if (c.required && !val) return fail(f, err, "cf_" + c.name, `Please fill in “${c.label}”.`);
      if (val) fields[c.name] = val;
    }
    const when = v("preferred_at");
    const body = {
      widget_key: key,
      name: v("name"),
      phone: v("phone"),
      topic: v("topic"),
      page_url: location.href,
      preferred_at: when ? new Date(when).toISOString() : null,
      custom_fields: fields,
      consent: true,
    };
    idemKey = idemKey || uuid();
    submit.disabled = true;
    submit.textContent = "Sending…";
    try {
      const r = await fetch(api + "/callbacks", {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", "Idempotency-Key": idemKey },
        body: JSON.stringify(body),
      });
      const data = await r.json().catch(() => null);
      if (r.ok && data) {
        const c = data as Created;
        idemKey = null;
        tracked = {
          id: c.id,
          url: new URL(c.status_url || `/api/v1/public/callbacks/${c.id}?token=${c.status_token}`, origin).href,
          status: c.status,
          scheduled_for: c.scheduled_for,
        };
        save();
        render();
        poll();
        return;
      }
      idemKey = null;
      const e = data && data.error;
      let msg: string = (e && e.message) || "Something went wrong. Please try again.";
      if (r.status === 429) {
        const s = r.headers.get("Retry-After");
        msg = "Too many requests." + (s ? ` Please try again in ${s} s.` : " Please try again later.");
      }
      const field: string | null = (e && e.field) || null;
      const cf = field && field.indexOf("custom_fields.") === 0 ? field.slice(14) : null;
      fail(f, err, cf || custom.some((c) => c.name === field) ? "cf_" + (cf || field) : field, msg);
    } catch {
      // The request may have arrived: keep the idempotency key so a retry cannot duplicate it.
      fail(f, err, null, "We could not reach the server. Please check your connection and try again.");
    } finally {
      submit.disabled = false;
      submit.textContent = "Call me back";
    }
  }

  function statusView(t: Tracked): HTMLElement {
    const box = el("div", { class: "status s-" + t.status });
    const s = el("p", { "data-testid": "sb-status", "data-status": t.status, role: "status" });
    s.textContent = describe(t);
    box.append(s);
    if (final(t.status)) {
      const again = el("button", { type: "button", class: "go", "data-testid": "sb-again" });
      again.textContent = "New request";
      again.onclick = () => {
        tracked = null;
        save();
        render();
      };
      box.append(again);
    }
    return box;
  }

  function poll(): void {
    clearTimeout(pollTimer);
    if (!tracked || final(tracked.status) || polls >= POLLS_MAX) return;
    pollTimer = window.setTimeout(async () => {
      polls++;
      const t = tracked;
      if (!t) return;
      try {
        const r = await fetch(t.url, { credentials: "omit" });
        if (r.ok) {
          const d = (await r.json()) as { status: Status };
          if (tracked === t && d.status && d.status !== t.status) {
            t.status = d.status;
            save();
            if (!panel.hidden) render();
            if (final(t.status)) open.setAttribute("data-status", t.status);
          }
        } else if (r.status === 404) {
          tracked = null;
          save();
          return;
        }
      } catch {
        // Offline for a moment: try again on the next tick.
      }
      poll();
    }, POLL_MS);
  }

  function save(): void {
    try {
      if (tracked) sessionStorage.setItem(storeKey, JSON.stringify(tracked));
      else sessionStorage.removeItem(storeKey);
    } catch {
      // Storage may be blocked; the status then lasts for this page view only.
    }
  }

  function load(): Tracked | null {
    try {
      const raw = sessionStorage.getItem(storeKey);
      return raw ? (JSON.parse(raw) as Tracked) : null;
    } catch {
      return null;
    }
  }
}

function final(s: Status): boolean {
  return s === "done" || s === "failed";
}

function describe(t: Tracked): string {
  switch (t.status) {
    case "waiting":
      return "Thank you! We are connecting you with the next free agent. Your phone will ring shortly.";
    case "scheduled":
      return t.scheduled_for ? `Thank you! We will call you at ${fmt(t.scheduled_for)}.` : "Thank you! We will call you at the time you chose.";
    case "calling":
      return "Calling you now, please pick up your phone.";
    case "done":
      return "Thanks for talking to us. Your callback is complete.";
    case "failed":
      return "Sorry, we could not reach you. Please try again or call us.";
  }
  return String(t.status);
}

function el(tag: string, attrs: Record<string, string>): HTMLElement {
  const e = document.createElement(tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

function text(tag: string, s: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = s;
  return e;
}

function input(type: string, testid: string, name: string, autocomplete: string): HTMLInputElement {
  const i = el("input", { type, name, "data-testid": testid, autocomplete, id: "sb-" + name }) as HTMLInputElement;
  return i;
}

function row(f: Field, control: HTMLInputElement): HTMLElement {
  const r = el("div", { class: "row" });
  const l = el("label", { for: control.id });
  l.textContent = f.label + (f.required ? " *" : "");
  control.required = f.required;
  r.append(l, control, el("div", { class: "ferr", "data-for": control.name }));
  return r;
}

function clearErrors(f: HTMLElement, err: HTMLElement): void {
  err.hidden = true;
  err.textContent = "";
  f.querySelectorAll(".ferr").forEach((e) => (e.textContent = ""));
  f.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

function fail(f: HTMLFormElement, err: HTMLElement, field: string | null, msg: string): void {
  err.textContent = msg;
  err.hidden = false;
  const slot = field && f.querySelector(`.ferr[data-for="${field}"]`);
  if (slot) {
    slot.textContent = msg;
    const c = f.elements.namedItem(field!) as HTMLInputElement | null;
    c?.setAttribute("aria-invalid", "true");
    c?.focus();
  }
}

function fmt(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function localInput(d: Date): string {
  const p = (n: number) => (n < 10 ? "0" : "") + n;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function uuid(): string {
  const c = (window as { crypto?: Crypto }).crypto;
  if (c && c.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  c ? c.getRandomValues(b) : b.forEach((_, i) => (b[i] = (Math.random() * 256) | 0));
  return Array.from(b, (x) => (x < 16 ? "0" : "") + x.toString(16)).join("");
}
