// The outcome and notes of a wrap-up, shared by the callback card and the campaign card. With
// no disposition list configured, the outcome is free text.
import { t } from "../i18n";

export function DispositionFields({
  dispositions,
  disposition,
  setDisposition,
  notes,
  setNotes,
  testPrefix = "",
}: {
  dispositions: string[];
  disposition: string;
  setDisposition: (v: string) => void;
  notes: string;
  setNotes: (v: string) => void;
  /** Prefixed to the fields' test ids (`disposition-select`, `disposition-notes`). */
  testPrefix?: string;
}) {
  return (
    <>
      <label class="field">
        <span>{t("Outcome")}</span>
        {dispositions.length > 0 ? (
          <select
            value={disposition}
            onChange={(e) => setDisposition(e.currentTarget.value)}
            data-testid={`${testPrefix}disposition-select`}
          >
            <option value="">{t("Choose…")}</option>
            {dispositions.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        ) : (
          <input
            value={disposition}
            onInput={(e) => setDisposition(e.currentTarget.value)}
            data-testid={`${testPrefix}disposition-select`}
          />
        )}
      </label>
      <label class="field">
        <span>{t("Notes")}</span>
        <textarea
          rows={3}
          value={notes}
          maxLength={4000}
          onInput={(e) => setNotes(e.currentTarget.value)}
          data-testid={`${testPrefix}disposition-notes`}
        />
      </label>
    </>
  );
}
