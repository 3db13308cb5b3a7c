import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { t } from "../i18n";
import { login } from "../session";

export function LoginView() {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(name.trim(), password);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login-page">
      <form class="login-card" onSubmit={submit} data-testid="login-form">
        <div class="brand brand-lg">
          <span class="brand-mark">◎</span> Switchboard
        </div>
        <p class="muted">{t("Sign in to the contact center console.")}</p>
        <label class="field">
          <span>{t("Login")}</span>
          <input
            name="login"
            autoComplete="username"
            autoFocus
            required
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            data-testid="login-name"
          />
        </label>
        <label class="field">
          <span>{t("Password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="login-password"
          />
        </label>
        {error && (
          <div class="form-error" data-testid="login-error" role="alert">
            {error}
          </div>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy} data-testid="login-submit">
          {busy ? t("Signing in…") : t("Sign in")}
        </button>
      </form>
    </div>
  );
}
