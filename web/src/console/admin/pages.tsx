import { Crud, Field, IdChecks, lines, skillsToText, textToSkills, useList, type FormProps } from "./Crud";
import { t } from "../i18n";
import type { AdminQueue, AdminScript, AdminUser, AdminWidget, Department, Role, Weekday } from "../types";

// ---------- Users ----------

interface UserDraft {
  id?: number;
  login: string;
  name: string;
  role: Role;
  password: string;
  skills: string;
  department_ids: number[];
  queue_ids: number[];
  chat_capacity: string;
}

export function UsersPage() {
  return (
    <Crud<AdminUser, UserDraft>
      path="/api/v1/admin/users"
      noun="User"
      columns={[
        { label: "Login", render: (u) => u.login },
        { label: "Full name", render: (u) => u.name },
        { label: "Role", render: (u) => <span class={"tag tag-" + u.role}>{t(u.role)}</span> },
        { label: "Skills", render: (u) => skillsToText(u.skills) || <span class="muted">—</span> },
        { label: "Queues", render: (u) => (u.queue_ids ?? []).length, cls: "num" },
      ]}
      blank={() => ({
        login: "",
        name: "",
        role: "agent",
        password: "",
        skills: "",
        department_ids: [],
        queue_ids: [],
        chat_capacity: "1",
      })}
      fromItem={(u) => ({
        id: u.id,
        login: u.login,
        name: u.name,
        role: u.role,
        password: "",
        skills: skillsToText(u.skills),
        department_ids: u.department_ids ?? [],
        queue_ids: u.queue_ids ?? [],
        chat_capacity: String(u.chat_capacity ?? 1),
      })}
      toBody={(d, creating) => {
        const body: Record<string, unknown> = {
          login: d.login.trim(),
          name: d.name.trim(),
          role: d.role,
          skills: textToSkills(d.skills),
          department_ids: d.department_ids,
          queue_ids: d.queue_ids,
          chat_capacity: Number(d.chat_capacity),
        };
        if (creating || d.password) body.password = d.password;
        return body;
      }}
      Form={UserForm}
    />
  );
}

function UserForm({ value: v, set, error, creating }: FormProps<UserDraft>) {
  const deps = useList<Department>("/api/v1/admin/departments").items;
  const queues = useList<AdminQueue>("/api/v1/admin/queues").items;
  return (
    <div class="form-grid">
      <Field label="Login" name="login" error={error}>
        <input required value={v.login} onInput={(e) => set({ login: e.currentTarget.value })} data-testid="f-login" />
      </Field>
      <Field label="Full name" name="name" error={error}>
        <input required value={v.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="f-name" />
      </Field>
      <Field label="Role" name="role" error={error}>
        <select value={v.role} onChange={(e) => set({ role: e.currentTarget.value as Role })} data-testid="f-role">
          <option value="agent">{t("Agent")}</option>
          <option value="supervisor">{t("Supervisor")}</option>
          <option value="admin">{t("Admin")}</option>
        </select>
      </Field>
      <Field label="Password" name="password" error={error} hint={creating ? undefined : "Leave blank to keep the current one"}>
        <input
          type="password"
          autoComplete="new-password"
          required={creating}
          value={v.password}
          onInput={(e) => set({ password: e.currentTarget.value })}
          data-testid="f-password"
        />
      </Field>
      <Field label="Skills" name="skills" error={error} hint="name=level (1–10), comma separated, e.g. sales=7, billing=3">
        <input value={v.skills} onInput={(e) => set({ skills: e.currentTarget.value })} data-testid="f-skills" placeholder="sales=7, billing=3" />
      </Field>
      <Field label="Chat capacity" name="chat_capacity" error={error}>
        <input type="number" min={0} max={10} value={v.chat_capacity} onInput={(e) => set({ chat_capacity: e.currentTarget.value })} data-testid="f-chat-capacity" />
      </Field>
      <Field label="Departments" name="department_ids" error={error} group>
        <IdChecks options={deps} value={v.department_ids} onChange={(x) => set({ department_ids: x })} testid="f-departments" />
      </Field>
      <Field label="Queues" name="queue_ids" error={error} group>
        <IdChecks options={queues} value={v.queue_ids} onChange={(x) => set({ queue_ids: x })} testid="f-queues" />
      </Field>
    </div>
  );
}

// ---------- Departments ----------

interface DeptDraft {
  id?: number;
  name: string;
}

export function DepartmentsPage() {
  return (
    <Crud<Department, DeptDraft>
      path="/api/v1/admin/departments"
      noun="Department"
      columns={[{ label: "Name", render: (d) => d.name }]}
      blank={() => ({ name: "" })}
      fromItem={(d) => ({ id: d.id, name: d.name })}
      toBody={(d) => ({ name: d.name.trim() })}
      Form={({ value, set, error }) => (
        <Field label="Name" name="name" error={error}>
          <input required value={value.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="f-name" />
        </Field>
      )}
    />
  );
}

// ---------- Queues ----------

export const WEEKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

interface QueueDraft {
  id?: number;
  // The queue as loaded: PUT replaces the whole queue, so settings this form does not show
  // (overflow, aging, ring time, caller id) are sent back unchanged.
  orig?: Record<string, unknown>;
  name: string;
  department_id: number | null;
  strategy: AdminQueue["strategy"];
  skills: string;
  priority: string;
  offer_timeout_s: string;
  wrap_up_s: string;
  script_id: number | null;
  dispositions: string;
  order: AdminQueue["callback"]["order"];
  max_attempts: string;
  retry_delays_s: string;
  time_zone: string;
  hours: Record<Weekday, { open: boolean; from: string; to: string }>;
}

function hoursDraft(h: AdminQueue["callback"]["hours"] | undefined): QueueDraft["hours"] {
  const out = {} as QueueDraft["hours"];
  for (const d of WEEKDAYS) {
    const span = h?.[d];
    out[d] = span ? { open: true, from: span[0], to: span[1] } : { open: false, from: "09:00", to: "18:00" };
  }
  return out;
}

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function QueuesPage() {
  return (
    <Crud<AdminQueue, QueueDraft>
      path="/api/v1/admin/queues"
      noun="Queue"
      columns={[
        { label: "Name", render: (q) => q.name },
        { label: "Strategy", render: (q) => t(q.strategy.replace("_", " ")) },
        { label: "Skills", render: (q) => skillsToText(q.skills) || <span class="muted">—</span> },
        { label: "Order", render: (q) => (q.callback?.order ? t(q.callback.order.replace("_", " ")) : null) },
        { label: "Attempts", render: (q) => q.callback?.max_attempts, cls: "num" },
        { label: "Time zone", render: (q) => q.callback?.time_zone },
      ]}
      blank={() => ({
        name: "",
        department_id: null,
        strategy: "longest_idle",
        skills: "",
        priority: "10",
        offer_timeout_s: "15",
        wrap_up_s: "30",
        script_id: null,
        dispositions: "Resolved\nCall back later\nNot interested",
        order: "agent_first",
        max_attempts: "3",
        retry_delays_s: "60, 300",
        time_zone: browserZone(),
        hours: hoursDraft({
          mon: ["09:00", "18:00"],
          tue: ["09:00", "18:00"],
          wed: ["09:00", "18:00"],
          thu: ["09:00", "18:00"],
          fri: ["09:00", "18:00"],
        }),
      })}
      fromItem={(q) => ({
        id: q.id,
        orig: q as unknown as Record<string, unknown>,
        name: q.name,
        department_id: q.department_id,
        strategy: q.strategy,
        skills: skillsToText(q.skills),
        priority: String(q.priority),
        offer_timeout_s: String(q.offer_timeout_s),
        wrap_up_s: String(q.wrap_up_s),
        script_id: q.script_id,
        dispositions: (q.dispositions ?? []).join("\n"),
        order: q.callback?.order ?? "agent_first",
        max_attempts: String(q.callback?.max_attempts ?? 3),
        retry_delays_s: (q.callback?.retry_delays_s ?? []).join(", "),
        time_zone: q.callback?.time_zone ?? "",
        hours: hoursDraft(q.callback?.hours),
      })}
      toBody={(d) => {
        const hours: AdminQueue["callback"]["hours"] = {};
        for (const day of WEEKDAYS) if (d.hours[day].open) hours[day] = [d.hours[day].from, d.hours[day].to];
        const { id: _id, name: _name, ...kept } = d.orig ?? {};
        const keptCallback = (kept.callback ?? {}) as Record<string, unknown>;
        return {
          ...kept,
          name: d.name.trim(),
          department_id: d.department_id,
          strategy: d.strategy,
          skills: textToSkills(d.skills),
          priority: Number(d.priority),
          offer_timeout_s: Number(d.offer_timeout_s),
          wrap_up_s: Number(d.wrap_up_s),
          script_id: d.script_id,
          dispositions: lines(d.dispositions),
          callback: {
            ...keptCallback,
            order: d.order,
            max_attempts: Number(d.max_attempts),
            retry_delays_s: d.retry_delays_s
              .split(/[,\s]+/)
              .filter(Boolean)
              .map(Number),
            time_zone: d.time_zone.trim() || null,
            hours,
          },
        };
      }}
      Form={QueueForm}
    />
  );
}

const ZONES: string[] = (() => {
  const i = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    return i.supportedValuesOf ? i.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
})();

function QueueForm({ value: v, set, error }: FormProps<QueueDraft>) {
  const deps = useList<Department>("/api/v1/admin/departments").items;
  const scripts = useList<AdminScript>("/api/v1/admin/scripts").items;
  const setDay = (day: Weekday, patch: Partial<QueueDraft["hours"][Weekday]>) =>
    set({ hours: { ...v.hours, [day]: { ...v.hours[day], ...patch } } });
  return (
    <div class="form-grid">
      <Field label="Name" name="name" error={error}>
        <input required value={v.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="f-name" />
      </Field>
      <Field label="Department" name="department_id" error={error}>
        <select
          value={v.department_id === null ? "" : String(v.department_id)}
          onChange={(e) => set({ department_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}
          data-testid="f-department"
        >
          <option value="">{t("— none —")}</option>
          {(deps ?? []).map((d) => (
            <option key={d.id} value={String(d.id)}>
              {d.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Strategy" name="strategy" error={error}>
        <select value={v.strategy} onChange={(e) => set({ strategy: e.currentTarget.value as QueueDraft["strategy"] })} data-testid="f-strategy">
          <option value="longest_idle">{t("Longest idle agent")}</option>
          <option value="best_skill">{t("Best skill level")}</option>
        </select>
      </Field>
      <Field label="Required skills" name="skills" error={error} hint="name=level, comma separated">
        <input value={v.skills} onInput={(e) => set({ skills: e.currentTarget.value })} data-testid="f-skills" />
      </Field>
      <Field label="Priority" name="priority" error={error}>
        <input type="number" value={v.priority} onInput={(e) => set({ priority: e.currentTarget.value })} data-testid="f-priority" />
      </Field>
      <Field label="Offer timeout (s)" name="offer_timeout_s" error={error}>
        <input type="number" min={1} value={v.offer_timeout_s} onInput={(e) => set({ offer_timeout_s: e.currentTarget.value })} data-testid="f-offer-timeout" />
      </Field>
      <Field label="Wrap-up (s)" name="wrap_up_s" error={error}>
        <input type="number" min={0} value={v.wrap_up_s} onInput={(e) => set({ wrap_up_s: e.currentTarget.value })} data-testid="f-wrap-up" />
      </Field>
      <Field label="Agent script" name="script_id" error={error}>
        <select
          value={v.script_id === null ? "" : String(v.script_id)}
          onChange={(e) => set({ script_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}
          data-testid="f-script"
        >
          <option value="">{t("— none —")}</option>
          {(scripts ?? []).map((s) => (
            <option key={s.id} value={String(s.id)}>
              {s.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Dispositions" name="dispositions" error={error} hint="One per line">
        <textarea rows={4} value={v.dispositions} onInput={(e) => set({ dispositions: e.currentTarget.value })} data-testid="f-dispositions" />
      </Field>
      <div class="form-section span2">{t("Callback")}</div>
      <Field label="Call order" name="callback.order" error={error}>
        <select value={v.order} onChange={(e) => set({ order: e.currentTarget.value as QueueDraft["order"] })} data-testid="f-order">
          <option value="agent_first">{t("Agent first, then customer")}</option>
          <option value="customer_first">{t("Customer first, then agent")}</option>
        </select>
      </Field>
      <Field label="Max attempts" name="callback.max_attempts" error={error}>
        <input type="number" min={1} value={v.max_attempts} onInput={(e) => set({ max_attempts: e.currentTarget.value })} data-testid="f-max-attempts" />
      </Field>
      <Field label="Retry delays (s)" name="callback.retry_delays_s" error={error} hint="Comma separated, one per retry">
        <input value={v.retry_delays_s} onInput={(e) => set({ retry_delays_s: e.currentTarget.value })} data-testid="f-retry-delays" />
      </Field>
      <Field label="Time zone" name="callback.time_zone" error={error}>
        <input list="sb-zones" value={v.time_zone} onInput={(e) => set({ time_zone: e.currentTarget.value })} data-testid="f-time-zone" />
        <datalist id="sb-zones">
          {ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </Field>
      <Field label="Opening hours" name="callback.hours" error={error} group>
        <table class="hours" data-testid="f-hours">
          <tbody>
            {WEEKDAYS.map((d) => (
              <tr key={d}>
                <td>
                  <label class="check">
                    <input type="checkbox" checked={v.hours[d].open} onChange={(e) => setDay(d, { open: e.currentTarget.checked })} data-testid={"f-hours-" + d} />
                    {t(d[0].toUpperCase() + d.slice(1))}
                  </label>
                </td>
                <td>
                  <input type="time" disabled={!v.hours[d].open} value={v.hours[d].from} onInput={(e) => setDay(d, { from: e.currentTarget.value })} data-testid={`f-hours-${d}-from`} />
                </td>
                <td>–</td>
                <td>
                  <input type="time" disabled={!v.hours[d].open} value={v.hours[d].to} onInput={(e) => setDay(d, { to: e.currentTarget.value })} data-testid={`f-hours-${d}-to`} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Field>
    </div>
  );
}

// ---------- Widgets ----------

interface WidgetDraft {
  id?: number;
  key?: string;
  name: string;
  queue_id: number | null;
  title: string;
  button_text: string;
  default_region: string;
  allowed_origins: string;
}

export function embedSnippet(key: string): string {
  return `<script src="${location.origin}/widget.js" data-key="${key}" async></script>`;
}

function Snippet({ k }: { k: string }) {
  const text = embedSnippet(k);
  return (
    <div class="snippet">
      <code data-testid="widget-snippet">{text}</code>
      <button
        type="button"
        class="btn btn-xs"
        onClick={() => void navigator.clipboard?.writeText(text)}
        data-testid="widget-snippet-copy"
      >
        {t("Copy")}
      </button>
    </div>
  );
}

export function WidgetsPage() {
  const queues = useList<AdminQueue>("/api/v1/admin/queues").items;
  const queueName = (id: number) => queues?.find((q) => q.id === id)?.name ?? `#${id}`;
  return (
    <Crud<AdminWidget, WidgetDraft>
      path="/api/v1/admin/widgets"
      noun="Widget"
      intro={<p class="muted small">{t("Paste the snippet into any page of an allowed origin to show the callback button.")}</p>}
      columns={[
        { label: "Name", render: (w) => w.name },
        { label: "Key", render: (w) => <code data-testid="widget-key">{w.key}</code> },
        { label: "Queue", render: (w) => queueName(w.queue_id) },
        { label: "Origins", render: (w) => (w.allowed_origins ?? []).join(" ") || <span class="muted">—</span> },
        { label: "Embed", render: (w) => <Snippet k={w.key} /> },
      ]}
      blank={() => ({
        name: "",
        queue_id: null,
        title: "We'll call you back",
        button_text: "Call me back",
        default_region: "DE",
        allowed_origins: "",
      })}
      fromItem={(w) => ({
        id: w.id,
        key: w.key,
        name: w.name,
        queue_id: w.queue_id,
        title: w.title,
        button_text: w.button_text,
        default_region: w.default_region,
        allowed_origins: (w.allowed_origins ?? []).join("\n"),
      })}
      toBody={(d) => ({
        ...(d.key ? { key: d.key } : {}),
        name: d.name.trim(),
        queue_id: d.queue_id,
        title: d.title,
        button_text: d.button_text,
        default_region: d.default_region.trim().toUpperCase(),
        allowed_origins: lines(d.allowed_origins),
      })}
      Form={({ value: v, set, error }) => (
        <div class="form-grid">
          <Field label="Name" name="name" error={error}>
            <input required value={v.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="f-name" />
          </Field>
          <Field label="Queue" name="queue_id" error={error}>
            <select
              required
              value={v.queue_id === null ? "" : String(v.queue_id)}
              onChange={(e) => set({ queue_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}
              data-testid="f-queue"
            >
              <option value="">{t("Choose…")}</option>
              {(queues ?? []).map((q) => (
                <option key={q.id} value={String(q.id)}>
                  {q.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Title" name="title" error={error}>
            <input value={v.title} onInput={(e) => set({ title: e.currentTarget.value })} data-testid="f-title" />
          </Field>
          <Field label="Button text" name="button_text" error={error}>
            <input value={v.button_text} onInput={(e) => set({ button_text: e.currentTarget.value })} data-testid="f-button-text" />
          </Field>
          <Field label="Default region" name="default_region" error={error} hint="Two-letter country for numbers typed without +">
            <input maxLength={2} value={v.default_region} onInput={(e) => set({ default_region: e.currentTarget.value })} data-testid="f-region" />
          </Field>
          <Field label="Allowed origins" name="allowed_origins" error={error} hint="One per line, e.g. https://shop.example.com">
            <textarea rows={3} value={v.allowed_origins} onInput={(e) => set({ allowed_origins: e.currentTarget.value })} data-testid="f-origins" />
          </Field>
          {v.key && (
            <div class="span2">
              <div class="muted small">{t("Embed snippet")}</div>
              <Snippet k={v.key} />
            </div>
          )}
        </div>
      )}
    />
  );
}
