import { useState } from "preact/hooks";
import { ApiError } from "../api";
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
        <p class="muted">Sign in to the contact center console.</p>
        <label class="field">
          <span>Login</span>
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
          <span>Password</span>
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
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
