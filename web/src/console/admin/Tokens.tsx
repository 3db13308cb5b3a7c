import { useState } from "preact/hooks";
import { ApiError, post } from "../api";
import { toast } from "../store";
import { t } from "../i18n";
import type { Role } from "../types";

// API tokens for integrations. The secret is shown once, right after creation. The API has
// no way to list or revoke tokens, so this page only creates them.
export function TokensPage() {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    try {
      const r = await post<{ id: number; token: string }>("/api/v1/admin/tokens", { name: name.trim(), role });
      setCreated({ name: name.trim(), token: r.token });
      setName("");
    } catch (e) {
      toast(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="admin-page">
      <div class="admin-list">
        <section class="panel">
          <h3>{t("New API token")}</h3>
          <form class="row" onSubmit={create} data-testid="token-form">
            <input required placeholder={t("Name, e.g. CRM sync")} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="f-name" />
            <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} data-testid="f-role">
              <option value="agent">{t("Agent")}</option>
              <option value="supervisor">{t("Supervisor")}</option>
              <option value="admin">{t("Admin")}</option>
            </select>
            <button class="btn btn-primary" type="submit" disabled={busy} data-testid="admin-save">
              {t("Create token")}
            </button>
          </form>
          {created && (
            <div class="callout" data-testid="token-created">
              {t("Token for")} <b>{created.name}</b> {t("(copy it now, it is not shown again):")}
              <div class="snippet">
                <code data-testid="token-value">{created.token}</code>
                <button class="btn btn-xs" onClick={() => void navigator.clipboard?.writeText(created.token)}>
                  {t("Copy")}
                </button>
              </div>
              <div class="muted small">
                {t("Send it as")} <code>Authorization: Bearer TOKEN</code>.
              </div>
            </div>
          )}
        </section>
      </div>
    </div>
  );
}
