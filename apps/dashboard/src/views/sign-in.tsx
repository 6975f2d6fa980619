import { useState } from "preact/hooks";
import { post } from "../api";
import { ErrorBox } from "../components";
import type { SessionInfo } from "../types";

/**
 * Trades an API token for a session cookie once. The token lives only in the
 * form field until it is sent; it is cleared at once and never stored.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = form.elements.namedItem("token") as HTMLInputElement;
    const token = field.value.trim();
    field.value = "";
    setBusy(true);
    try {
      onSignedIn(await post<SessionInfo>("/session", { token }));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form class="card" onSubmit={submit}>
        <h1>PWDR</h1>
        <p>
          Sign in with an API token (<code>pwdr-controller api-token create</code>).
        </p>
        <label>
          API token
          <input name="token" type="password" autocomplete="off" required spellcheck={false} />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorBox error={error} />
        <p class="muted small">
          The token is exchanged for a session cookie that scripts cannot read; it is not stored in the
          browser.
        </p>
      </form>
    </main>
  );
}
