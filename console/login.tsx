/// <reference lib="dom" />
// The login form: SafeKit's form fields, the node's own refusal message (wrong password, throttled, no
// user set yet) shown as an alert.
import { useState } from "preact/hooks";
import { login } from "./api.ts";

export function Login() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    try {
      await login(String(data.get("user") ?? ""), String(data.get("password") ?? ""));
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>SafeKit</h1>
      <form onSubmit={submit} aria-labelledby="login-title">
        <h2 id="login-title">Log in</h2>
        <label for="login-user">User name</label>
        <input id="login-user" name="user" autocomplete="username" required autofocus />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required />
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" id="login-submit" disabled={busy}>{busy ? "Logging in…" : "Log in"}</button>
      </form>
    </main>
  );
}
