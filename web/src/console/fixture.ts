// Dev-only sample data for ?fixture=1 (a live call with a script) and ?fixture=offer (an
// incoming offer). Loaded as a separate chunk only when that query parameter is present.
import { ApiError, installMock } from "./api";
import { navigate, currentRoute } from "./router";
import { getState, setState } from "./store";
import type { AgentState, HistoryItem, Overview, StatsReport, StatsRow } from "./types";

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const ahead = (s: number) => new Date(Date.now() + s * 1000).toISOString();

const history: HistoryItem[] = [
  { interaction_id: 41, kind: "callback", started_at: ago(3600 * 26), ended_at: ago(3600 * 26 - 245), outcome: "connected", disposition: "Resolved", agent_name: "Maria Keller", topic: "Delivery date", answers: {} },
  { interaction_id: 37, kind: "callback", started_at: ago(3600 * 50), ended_at: ago(3600 * 50 - 30), outcome: "no_answer", disposition: null, agent_name: null, topic: "Return label", answers: {} },
];

function agentState(kind: string): AgentState {
  const base: AgentState = {
    agent_id: 7,
    name: "Anna Schmidt",
    phone: "registered",
    status: "available",
    reason: null,
    status_since: ago(754),
    wrap_up_until: null,
    offers: [],
    interactions: [],
    campaign_phase: null,
  };
  if (kind === "offer") {
    base.offers = [
      { offer_id: 901, interaction_id: 77, expires_at: ahead(14), kind: "callback", queue_name: "Parcel support", customer_name: "Jonas Becker", phone: "+49 30 901820", topic: "Where is my parcel?" },
    ];
    return base;
  }
  base.interactions = [
    {
      id: 77,
      kind: "callback",
      state: "connected",
      state_since: ago(83),
      card: {
        interaction_id: 77,
        callback_id: 12,
        queue_name: "Parcel support",
        recording_url: null,
        customer: { name: "Jonas Becker", phone: "+49 30 901820" },
        topic: "Where is my parcel?",
        page_url: "https://shop.acme.example/orders/10442",
        custom_fields: { order_number: "10442", language: "German" },
        requested_at: ago(140),
        preferred_at: null,
        attempt: 2,
        history,
        script: {
          id: 3,
          name: "Parcel enquiry",
          start: "greet",
          steps: [
            { id: "greet", kind: "yes_no", prompt: "Greet the customer: “Hello, this is Anna from Acme, you asked us to call back. Is now a good time?”", options: [], next: "reason", branches: { no: "later" } },
            { id: "reason", kind: "choice", prompt: "What is the call about?", options: ["Delivery status", "Damaged parcel", "Return", "Something else"], next: "notes", branches: { "Delivery status": "order" } },
            { id: "order", kind: "number", prompt: "Ask for the order number.", options: [], next: "notes", branches: {} },
            { id: "notes", kind: "text", prompt: "Summarise what the customer needs.", options: [], next: "end", branches: {} },
            { id: "later", kind: "end", prompt: "Offer to call back at a better time, then end the call politely.", options: [], next: null, branches: {} },
            { id: "end", kind: "end", prompt: "Thank the customer and choose a disposition.", options: [], next: null, branches: {} },
          ],
        },
        dispositions: ["Resolved", "Escalated", "Call back later", "Wrong number"],
      },
    },
  ];
  return base;
}

const overview = (): Overview => ({
  queues: [
    { id: 1, name: "Parcel support", waiting: 3, longest_wait_s: 47, offered: 128, assigned: 121, agents_free: 1, service_level: 0.86 },
    { id: 2, name: "Returns", waiting: 0, longest_wait_s: 0, offered: 41, assigned: 41, agents_free: 2, service_level: 0.93 },
    { id: 3, name: "Business customers", waiting: 2, longest_wait_s: 95, offered: 19, assigned: 15, agents_free: 0, service_level: 0.58 },
  ],
  agents: [
    { id: 7, name: "Anna Schmidt", status: "available", reason: null, status_since: ago(83), interaction_id: 77, load_voice: 1 },
    { id: 8, name: "Maria Keller", status: "available", reason: null, status_since: ago(312), interaction_id: null, load_voice: 0 },
    { id: 9, name: "Luca Rossi", status: "break", reason: "Lunch", status_since: ago(1260), interaction_id: null, load_voice: 0 },
    { id: 10, name: "Sofia Novak", status: "wrap_up", reason: null, status_since: ago(12), interaction_id: 75, load_voice: 0 },
    { id: 11, name: "Tom Baker", status: "offline", reason: null, status_since: ago(7200), interaction_id: null, load_voice: 0 },
    { id: 12, name: "Emma Dubois", status: "available", reason: null, status_since: ago(41), interaction_id: null, load_voice: 0 },
  ],
});

function row(key: string, label: string, requests: number, p50: number): StatsRow {
  const dialed = Math.round(requests * 0.97);
  const connected = Math.round(requests * 0.78);
  return {
    key, label, requests, dialed, connected,
    connect_rate: connected / requests, attempts_per_request: 1.3,
    first_dial_p50_s: p50, first_dial_p90_s: p50 * 2.6, asr: 0.74, acd_s: 212, aht_s: 251,
    failed: requests - connected - 2, abandoned: 2,
  };
}

const stats = (groupBy: string): StatsReport => {
  const rows =
    groupBy === "day"
      ? Array.from({ length: 7 }, (_, i) => {
          const d = new Date(Date.now() - (6 - i) * 86400000).toISOString().slice(0, 10);
          return row(d, d, 30 + ((i * 17) % 23), 8 + ((i * 5) % 9));
        })
      : groupBy === "agent"
        ? [row("7", "Anna Schmidt", 61, 7), row("8", "Maria Keller", 54, 9), row("9", "Luca Rossi", 38, 12), row("12", "Emma Dubois", 44, 6)]
        : [row("1", "Parcel support", 128, 9), row("2", "Returns", 41, 5), row("3", "Business customers", 19, 21)];
  return { group_by: groupBy as StatsReport["group_by"], rows, totals: row("total", "Total", rows.reduce((s, r) => s + r.requests, 0), 9) };
};

const admin: Record<string, unknown[]> = {
  users: [
    { id: 1, login: "admin", name: "Ada Admin", role: "admin", skills: {}, department_ids: [], queue_ids: [], chat_capacity: 1 },
    { id: 7, login: "anna", name: "Anna Schmidt", role: "agent", skills: { parcels: 8, german: 10 }, department_ids: [1], queue_ids: [1, 2], chat_capacity: 3 },
    { id: 2, login: "sam", name: "Sam Supervisor", role: "supervisor", skills: { parcels: 5 }, department_ids: [1], queue_ids: [1], chat_capacity: 2 },
  ],
  departments: [{ id: 1, name: "Customer service" }, { id: 2, name: "Sales" }],
  queues: [
    { id: 1, name: "Parcel support", department_id: 1, strategy: "longest_idle", skills: { parcels: 3 }, priority: 10, offer_timeout_s: 15, wrap_up_s: 30, script_id: 3, dispositions: ["Resolved", "Escalated"], callback: { order: "agent_first", max_attempts: 3, retry_delays_s: [60, 300], time_zone: "Europe/Berlin", hours: { mon: ["09:00", "18:00"], tue: ["09:00", "18:00"], wed: ["09:00", "18:00"], thu: ["09:00", "18:00"], fri: ["09:00", "16:00"] } } },
  ],
  scripts: [{ id: 3, name: "Parcel enquiry", definition: { start: "greet", steps: [{ id: "greet", kind: "end", prompt: "Hello", options: [], next: null, branches: {} }] } }],
  widgets: [{ id: 1, key: "demo-shop", name: "Acme shop", queue_id: 1, title: "We'll call you back", button_text: "Call me back", default_region: "DE", allowed_origins: ["http://127.0.0.1:8081"] }],
  tokens: [{ id: 1, name: "CRM sync", role: "supervisor" }],
};

export function startFixture(kind: string): void {
  installMock((method, path, body) => {
    const p = path.split("?")[0];
    const q = new URLSearchParams(path.split("?")[1] ?? "");
    if (method === "GET") {
      if (p === "/api/v1/agent/history") return history;
      if (p === "/api/v1/agent/state") return getState().agent;
      if (p === "/api/v1/supervisor/overview") return overview();
      if (p === "/api/v1/stats/callbacks") return stats(q.get("group_by") ?? "queue");
      const m = /^\/api\/v1\/admin\/(\w+)$/.exec(p);
      if (m) return admin[m[1]] ?? [];
    }
    if (method === "POST" && p === "/api/v1/agent/status") {
      const b = body as { status: AgentState["status"]; reason: string | null };
      const a = getState().agent!;
      setState({ agent: { ...a, status: b.status, reason: b.reason, status_since: new Date().toISOString() } });
      return {};
    }
    if (method === "POST" && p.startsWith("/api/v1/admin/scripts")) {
      return new ApiError(400, "invalid_field", 'definition.steps[1].next: unknown step "nowhere"', "definition");
    }
    return {};
  });
  setState({
    user: { id: 1, login: "admin", name: "Ada Admin", role: "admin" },
    csrf: "fixture",
    agent: agentState(kind),
    overview: overview(),
    overviewAt: Date.now(),
    link: "open",
  });
  if (currentRoute() === "/" || currentRoute() === "/login") navigate("/agent");
}
