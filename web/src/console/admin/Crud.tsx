import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, put } from "../api";
import { t } from "../i18n";
import { toast } from "../store";

export interface FormError {
  message: string;
  field: string | null;
}

export interface FormProps<T> {
  value: T;
  set: (patch: Partial<T>) => void;
  error: FormError | null;
  creating: boolean;
}

export interface Column<T> {
  label: string;
  render: (item: T) => ComponentChildren;
  cls?: string;
}

// Loads a list resource; `reload` fetches it again.
export function useList<T>(path: string): { items: T[] | null; reload: () => void } {
  const [items, setItems] = useState<T[] | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let stale = false;
    get<T[]>(path)
      .then((r) => !stale && setItems(Array.isArray(r) ? r : []))
      .catch((e) => {
        if (stale) return;
        setItems([]);
        if (!(e instanceof ApiError && e.status === 401)) toast(e.message);
      });
    return () => {
      stale = true;
    };
  }, [path, n]);
  return { items, reload: () => setN((x) => x + 1) };
}

// A list of one admin resource with a create/edit form beside it. The form edits a draft D
// (strings where people type lists); PUT replaces the whole resource, so toBody sends it all.
export function Crud<T extends { id: number }, D extends { id?: number }>(props: {
  path: string;
  noun: string;
  columns: Column<T>[];
  blank: () => D;
  fromItem: (item: T) => D;
  toBody: (d: D, creating: boolean) => unknown;
  Form: (p: FormProps<D>) => JSX.Element;
  intro?: ComponentChildren;
  onSaved?: (saved: T) => void;
}) {
  const { items, reload } = useList<T>(props.path);
  const [editing, setEditing] = useState<D | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const creating = editing !== null && editing.id === undefined;

  const open = (v: D | null) => {
    setError(null);
    setEditing(v);
  };

  const save = async (ev: Event) => {
    ev.preventDefault();
    if (!editing) return;
    setBusy(true);
    setError(null);
    try {
      const body = props.toBody(editing, creating);
      const saved = creating
        ? await post<T>(props.path, body)
        : await put<T>(`${props.path}/${editing.id}`, body);
      toast(t(`${props.noun} saved`), "info");
      setEditing(null);
      reload();
      if (saved) props.onSaved?.(saved);
    } catch (e) {
      const err = e instanceof ApiError ? { message: e.message, field: e.field } : { message: String(e), field: null };
      setError(err);
      toast(err.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="admin-page">
      <div class="admin-list">
        <section class="panel">
          <div class="panel-head">
            <h3>{t(props.noun + "s")}</h3>
            <button class="btn btn-primary btn-sm" onClick={() => open(props.blank())} data-testid="admin-new">
              {t("+ New " + props.noun.toLowerCase())}
            </button>
          </div>
          {props.intro}
          {items === null ? (
            <div class="muted">{t("Loading…")}</div>
          ) : items.length === 0 ? (
            <div class="muted" data-testid="admin-empty">
              {t("None yet.")}
            </div>
          ) : (
            <div class="table-wrap">
              <table class="table" data-testid="admin-table">
                <thead>
                  <tr>
                    <th class="num">{t("Id")}</th>
                    {props.columns.map((c) => (
                      <th key={c.label} class={c.cls}>
                        {t(c.label)}
                      </th>
                    ))}
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {items.map((it) => (
                    <tr key={it.id} data-testid="admin-row" data-id={it.id} class={editing?.id === it.id ? "selected" : ""}>
                      <td class="num muted">{it.id}</td>
                      {props.columns.map((c) => (
                        <td key={c.label} class={c.cls}>
                          {c.render(it)}
                        </td>
                      ))}
                      <td class="actions">
                        <button class="btn btn-xs" onClick={() => open(props.fromItem(it))} data-testid="admin-edit">
                          {t("Edit")}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
      {editing && (
        <section class="panel admin-editor">
          <h3>
            {creating
              ? t("New " + props.noun.toLowerCase())
              : t("Edit " + props.noun.toLowerCase() + " #{id}", { id: editing.id ?? "" })}
          </h3>
          <form onSubmit={save} data-testid="admin-form">
            <props.Form
              value={editing}
              set={(patch) => setEditing({ ...editing, ...patch })}
              error={error}
              creating={creating}
            />
            {error && (
              <div class="form-error" data-testid="admin-form-error" role="alert">
                {error.message}
              </div>
            )}
            <div class="row">
              <button class="btn btn-primary" type="submit" disabled={busy} data-testid="admin-save">
                {busy ? t("Saving…") : t("Save")}
              </button>
              <button class="btn" type="button" onClick={() => open(null)} data-testid="admin-cancel">
                {t("Cancel")}
              </button>
            </div>
          </form>
        </section>
      )}
    </div>
  );
}

// A labelled form field that shows the server's message when it names this field.
export function Field(props: {
  label: string;
  name: string;
  error: FormError | null;
  hint?: string;
  children: ComponentChildren;
  // A group of controls (checkboxes) must not sit inside one <label>.
  group?: boolean;
}) {
  const Tag = props.group ? "div" : "label";
  const bad = props.error?.field !== null && props.error?.field !== undefined && fieldMatches(props.error.field, props.name);
  return (
    <Tag class={"field" + (bad ? " invalid" : "")}>
      <span>{t(props.label)}</span>
      {props.children}
      {props.hint && !bad && <small class="muted">{t(props.hint)}</small>}
      {bad && (
        <small class="field-error" data-testid={"field-error-" + props.name}>
          {props.error!.message}
        </small>
      )}
    </Tag>
  );
}

function fieldMatches(field: string, name: string): boolean {
  return field === name || field.startsWith(name + ".") || field.startsWith(name + "[");
}

// "sales=5, billing=3" <-> { sales: 5, billing: 3 }
export function skillsToText(s: Record<string, number> | undefined): string {
  return Object.entries(s ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

export function textToSkills(t: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of t.split(/[,;\n]/)) {
    const p = part.trim();
    if (!p) continue;
    const [k, v] = p.split("=").map((x) => x.trim());
    out[k] = v === undefined || v === "" ? 1 : Number(v);
  }
  return out;
}

export function lines(t: string): string[] {
  return t
    .split(/\n/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export function IdChecks(props: {
  options: { id: number; name: string }[] | null;
  value: number[];
  onChange: (v: number[]) => void;
  testid: string;
}) {
  if (props.options === null) return <div class="muted">{t("Loading…")}</div>;
  if (props.options.length === 0) return <div class="muted">{t("None defined yet.")}</div>;
  return (
    <div class="checks" data-testid={props.testid}>
      {props.options.map((o) => (
        <label key={o.id} class="check">
          <input
            type="checkbox"
            checked={props.value.includes(o.id)}
            onChange={(e) =>
              props.onChange(
                e.currentTarget.checked ? [...props.value, o.id] : props.value.filter((x) => x !== o.id),
              )
            }
            data-testid={`${props.testid}-${o.id}`}
          />
          {o.name}
        </label>
      ))}
    </div>
  );
}
