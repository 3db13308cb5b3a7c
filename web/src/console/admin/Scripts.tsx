import { useMemo } from "preact/hooks";
import { t } from "../i18n";
import { ScriptRunner } from "../views/ScriptRunner";
import type { AdminScript, ScriptDefinition } from "../types";
import { Crud, Field, type FormProps } from "./Crud";

interface ScriptDraft {
  id?: number;
  name: string;
  definition: string;
}

const SAMPLE: ScriptDefinition = {
  start: "greet",
  steps: [
    { id: "greet", kind: "text", prompt: "Hello, this is Acme calling back about your request. Who am I speaking with?", options: [], next: "reason", branches: {} },
    { id: "reason", kind: "choice", prompt: "What is the call about?", options: ["Delivery", "Return", "Other"], next: "done", branches: { Delivery: "tracking" } },
    { id: "tracking", kind: "yes_no", prompt: "Do you have the tracking number?", options: [], next: "done", branches: { no: "done" } },
    { id: "done", kind: "end", prompt: "Thank the customer and choose a disposition.", options: [], next: null, branches: {} },
  ],
};

// Parses the textarea; returns the definition or a message pointing at the problem.
function parse(text: string): { def: ScriptDefinition | null; problem: string | null } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { def: null, problem: t("Not valid JSON: {error}", { error: e instanceof Error ? e.message : String(e) }) };
  }
  const d = v as ScriptDefinition;
  if (!d || typeof d !== "object" || typeof d.start !== "string" || !Array.isArray(d.steps)) {
    return { def: null, problem: t('Expected an object with "start" (a step id) and "steps" (a list)') };
  }
  if (!d.steps.some((s) => s && s.id === d.start)) return { def: d, problem: t('No step has the start id "{id}"', { id: d.start }) };
  return { def: d, problem: null };
}

export function ScriptsPage() {
  return (
    <Crud<AdminScript, ScriptDraft>
      path="/api/v1/admin/scripts"
      noun="Script"
      columns={[
        { label: "Name", render: (s) => s.name },
        { label: "Steps", render: (s) => s.definition?.steps?.length ?? 0, cls: "num" },
        { label: "Start", render: (s) => <code>{s.definition?.start}</code> },
      ]}
      blank={() => ({ name: "", definition: JSON.stringify(SAMPLE, null, 2) })}
      fromItem={(s) => ({ id: s.id, name: s.name, definition: JSON.stringify(s.definition, null, 2) })}
      toBody={(d) => {
        const { def, problem } = parse(d.definition);
        if (!def) throw new Error(problem ?? t("Invalid definition"));
        return { name: d.name.trim(), definition: def };
      }}
      Form={ScriptForm}
    />
  );
}

function ScriptForm({ value: v, set, error }: FormProps<ScriptDraft>) {
  const { def, problem } = useMemo(() => parse(v.definition), [v.definition]);
  // A fresh preview run whenever the definition text changes.
  const previewKey = useMemo(() => "preview-" + hash(v.definition), [v.definition]);
  const serverMsg = error && (error.field === null || error.field.startsWith("definition")) ? error.message : null;
  return (
    <div class="script-editor">
      <Field label="Name" name="name" error={error}>
        <input required value={v.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="f-name" />
      </Field>
      <Field label="Definition (JSON)" name="definition_text" error={null}>
        <textarea
          class="code"
          rows={18}
          spellcheck={false}
          value={v.definition}
          onInput={(e) => set({ definition: e.currentTarget.value })}
          data-testid="f-definition"
        />
      </Field>
      <div class="row">
        <button
          type="button"
          class="btn btn-sm"
          disabled={!def}
          onClick={() => def && set({ definition: JSON.stringify(def, null, 2) })}
          data-testid="script-format"
        >
          {t("Format")}
        </button>
        <span class="muted small">
          {t("Step kinds: text, choice, yes_no, number, end. After an answer: branches[answer], else next.")}
        </span>
      </div>
      {problem && (
        <div class="form-error" data-testid="script-json-error">
          {problem}
        </div>
      )}
      {serverMsg && (
        <div class="form-error" data-testid="script-server-error">
          {t("Server:")} {serverMsg}
        </div>
      )}
      {def && !problem && (
        <div class="preview">
          <div class="muted small">{t("Preview")}</div>
          <ScriptRunner key={previewKey} def={def} storageKey={previewKey} />
        </div>
      )}
    </div>
  );
}

function hash(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}
