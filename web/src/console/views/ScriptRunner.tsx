import { useEffect, useState } from "preact/hooks";
import { useShortcuts } from "../keys";
import { t } from "../i18n";
import {
  answer,
  back,
  END,
  initialProgress,
  isFinished,
  loadProgress,
  saveProgress,
  stepById,
  type Progress,
} from "../script";
import type { ScriptDefinition } from "../types";

// Runs an agent script. `storageKey` identifies the run (the interaction) so that answers
// survive re-renders, navigation and reloads; `onProgress` reports every change.
export function ScriptRunner(props: {
  def: ScriptDefinition;
  storageKey: string;
  onProgress?: (p: Progress) => void;
}) {
  const { def, storageKey } = props;
  const [p, setP] = useState<Progress>(() => loadProgress(storageKey, def));
  const [draft, setDraft] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);

  useEffect(() => {
    setP(loadProgress(storageKey, def));
  }, [storageKey]);

  const current = p.path[p.path.length - 1];
  const step = current === END ? undefined : stepById(def, current);

  // Pre-fill the input with an earlier answer when the agent comes back to a step.
  useEffect(() => {
    setDraft(p.answers[current] ?? "");
    setInvalid(null);
  }, [current, p.path.length]);

  const update = (np: Progress) => {
    saveProgress(storageKey, np);
    setP(np);
    props.onProgress?.(np);
  };
  const give = (value: string) => update(answer(def, p, value));

  const keys: Record<string, () => void> = {};
  if (step?.kind === "choice") {
    (step.options ?? []).slice(0, 9).forEach((o, i) => (keys[String(i + 1)] = () => give(o)));
  } else if (step?.kind === "yes_no") {
    keys["1"] = () => give("yes");
    keys["2"] = () => give("no");
  }
  useShortcuts(keys);

  // Not a <form>: the runner also previews inside the script editor's form.
  const submitDraft = () => {
    if (!step) return;
    const v = draft.trim();
    if (step.kind === "number") {
      if (v === "" || !Number.isFinite(Number(v))) {
        setInvalid(t("Enter a number"));
        return;
      }
    }
    give(v);
  };

  const finished = isFinished(def, p);
  const chosen = p.answers[current];
  const stepNo = p.path.length;

  return (
    <div class="script" data-testid="script-runner" data-step-id={step?.id ?? ""} data-finished={String(finished)}>
      <div class="script-head">
        <span class="muted">{t("Step {n}", { n: stepNo })}</span>
        <div class="script-nav">
          <button
            class="btn btn-sm btn-ghost"
            disabled={p.path.length <= 1}
            onClick={() => update(back(p))}
            data-testid="script-back"
          >
            ← {t("Back")}
          </button>
          <button
            class="btn btn-sm btn-ghost"
            disabled={p.path.length <= 1}
            onClick={() => update({ ...initialProgress(def), answers: p.answers })}
            data-testid="script-restart"
          >
            {t("Restart")}
          </button>
        </div>
      </div>
      {current !== END && !step ? (
        <div class="form-error">{t("This script has no step “{id}”.", { id: current })}</div>
      ) : (
        <>
          {step && (
            <div class="script-prompt" data-testid="script-prompt" data-kind={step.kind}>
              {step.prompt}
            </div>
          )}
          {step?.kind === "choice" && (
            <div class="script-options">
              {(step.options ?? []).map((o, i) => (
                <button
                  key={o}
                  class={"btn option" + (chosen === o ? " chosen" : "")}
                  onClick={() => give(o)}
                  data-testid={"script-option-" + i}
                  data-value={o}
                >
                  {i < 9 && <kbd>{i + 1}</kbd>} {o}
                </button>
              ))}
            </div>
          )}
          {step?.kind === "yes_no" && (
            <div class="script-options">
              <button class={"btn option" + (chosen === "yes" ? " chosen" : "")} onClick={() => give("yes")} data-testid="script-yes">
                <kbd>1</kbd> {t("Yes")}
              </button>
              <button class={"btn option" + (chosen === "no" ? " chosen" : "")} onClick={() => give("no")} data-testid="script-no">
                <kbd>2</kbd> {t("No")}
              </button>
            </div>
          )}
          {(step?.kind === "text" || step?.kind === "number") && (
            <div class="script-input">
              <input
                type={step.kind === "number" ? "number" : "text"}
                step="any"
                value={draft}
                onInput={(e) => setDraft(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") {
                    e.preventDefault();
                    submitDraft();
                  }
                }}
                placeholder={step.kind === "number" ? t("Number") : t("Answer (optional)")}
                data-testid="script-input"
              />
              <button class="btn btn-primary" type="button" onClick={submitDraft} data-testid="script-next">
                {t("Next")} →
              </button>
              {invalid && <div class="field-error">{invalid}</div>}
            </div>
          )}
          {finished && (
            <div class="script-done" data-testid="script-done">
              ✓ {t("Script complete. Choose a disposition below.")}
            </div>
          )}
        </>
      )}
      <Answers def={def} p={p} />
    </div>
  );
}

function Answers({ def, p }: { def: ScriptDefinition; p: Progress }) {
  const rows = p.path.slice(0, -1).filter((id) => id in p.answers);
  if (rows.length === 0) return null;
  return (
    <dl class="script-answers" data-testid="script-answers">
      {rows.map((id) => (
        <div key={id} class="qa">
          <dt>{stepById(def, id)?.prompt ?? id}</dt>
          <dd data-testid={"script-answer-" + id}>{p.answers[id] || "—"}</dd>
        </div>
      ))}
    </dl>
  );
}
