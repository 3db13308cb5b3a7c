// Shapes of the v1 API as described in docs/api.md. Times are RFC 3339 strings in UTC.

export type Role = "agent" | "supervisor" | "admin";

export interface User {
  id: number;
  login: string;
  name: string;
  role: Role;
}

export interface Session {
  user: User;
  csrf_token: string;
}

export type AgentStatus = "offline" | "available" | "break" | "wrap_up";

export interface Offer {
  offer_id: number;
  interaction_id: number;
  expires_at: string;
  kind: string;
  queue_name: string;
  customer_name: string;
  phone: string;
  topic: string;
}

export type InteractionState = "dialing_agent" | "dialing_customer" | "connected" | "ended";

export interface Interaction {
  id: number;
  kind: string;
  state: InteractionState;
  state_since: string;
  card: Card;
}

export interface AgentState {
  agent_id: number;
  name: string;
  /** The agent's phone: simulated, registered or unregistered (SIP). */
  phone: "simulated" | "registered" | "unregistered";
  status: AgentStatus;
  reason: string | null;
  status_since: string;
  wrap_up_until: string | null;
  offers: Offer[];
  interactions: Interaction[];
  /** The phase of the agent's campaign call (preview, dialing, answered, bridged), if any. */
  campaign_phase: string | null;
}

export interface HistoryItem {
  interaction_id: number;
  kind: string;
  started_at: string;
  ended_at: string | null;
  outcome: string;
  disposition: string | null;
  agent_name: string | null;
  topic: string | null;
  answers: Record<string, string>;
}

export type StepKind = "text" | "choice" | "yes_no" | "number" | "end";

export interface ScriptStep {
  id: string;
  kind: StepKind;
  prompt: string;
  options?: string[];
  next?: string | null;
  branches?: Record<string, string>;
}

export interface ScriptDefinition {
  start: string;
  steps: ScriptStep[];
}

export interface Script extends ScriptDefinition {
  id: number;
  name: string;
}

export interface Card {
  interaction_id: number;
  callback_id: number;
  queue_name: string;
  customer: { name: string; phone: string };
  topic: string;
  page_url: string;
  custom_fields: Record<string, string>;
  requested_at: string;
  preferred_at: string | null;
  attempt: number;
  history: HistoryItem[];
  script: Script | null;
  dispositions: string[];
  /** Download link of the call recording (SIP calls), once written. */
  recording_url: string | null;
}

export interface QueueOverview {
  id: number;
  name: string;
  waiting: number;
  longest_wait_s: number;
  offered: number;
  assigned: number;
  agents_free: number;
  service_level: number | null;
}

export interface AgentOverview {
  id: number;
  name: string;
  status: string;
  reason: string | null;
  status_since: string;
  interaction_id: number | null;
  load_voice: number;
}

export interface Overview {
  queues: QueueOverview[];
  agents: AgentOverview[];
}

export type GroupBy = "queue" | "agent" | "day";

export interface StatsRow {
  key: string;
  label: string;
  requests: number;
  dialed: number;
  connected: number;
  connect_rate: number | null;
  attempts_per_request: number | null;
  first_dial_p50_s: number | null;
  first_dial_p90_s: number | null;
  asr: number | null;
  acd_s: number | null;
  aht_s: number | null;
  failed: number;
  abandoned: number;
}

export interface StatsReport {
  group_by: GroupBy;
  rows: StatsRow[];
  totals: StatsRow;
}

// Admin resources: the request bodies of docs/api.md, plus the id the server gives them.
export interface AdminUser {
  id: number;
  login: string;
  name: string;
  role: Role;
  password?: string;
  skills: Record<string, number>;
  department_ids: number[];
  queue_ids: number[];
  chat_capacity: number;
}

export interface Department {
  id: number;
  name: string;
}

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

export interface AdminQueue {
  id: number;
  name: string;
  department_id: number | null;
  strategy: "longest_idle" | "best_skill";
  skills: Record<string, number>;
  priority: number;
  offer_timeout_s: number;
  wrap_up_s: number;
  script_id: number | null;
  dispositions: string[];
  callback: {
    order: "agent_first" | "customer_first";
    max_attempts: number;
    retry_delays_s: number[];
    time_zone: string | null;
    hours: Partial<Record<Weekday, [string, string]>>;
  };
}

export interface AdminScript {
  id: number;
  name: string;
  definition: ScriptDefinition;
}

export interface AdminWidget {
  id: number;
  key: string;
  name: string;
  queue_id: number;
  title: string;
  button_text: string;
  default_region: string;
  allowed_origins: string[];
}

export type WsMessage =
  | { type: "agent_state"; state: AgentState }
  | { type: "overview"; overview: Overview }
  | { type: "pong" };
