import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { call } from '../lib/api';
import { sessionStore } from '../lib/session';
import type { Token, User } from '../lib/types';
import { ErrorNotice, retryAtOf } from '../components/ErrorNotice';
import { useCountdown } from '../components/use-countdown';

async function logIn(email: string, password: string): Promise<void> {
  const { body } = await call<Token>('/api/users/login', { method: 'POST', body: { email, password } });
  sessionStore.set({ token: body.token, email: email.trim().toLowerCase(), expiresAt: Date.now() + body.expiresIn * 1000 });
}

function useSubmit(action: () => Promise<void>, after: () => void) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ error: unknown; retryAt: number | undefined } | undefined>();
  const wait = useCountdown(failure?.retryAt);
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy || wait > 0) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await action();
      after();
    } catch (error) {
      setFailure({ error, retryAt: retryAtOf(error) });
    } finally {
      setBusy(false);
    }
  };
  return { busy, failure, wait, onSubmit };
}

export function LoginPage() {
  const [, navigate] = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, failure, wait, onSubmit } = useSubmit(
    () => logIn(email, password),
    () => navigate('/'),
  );
  return (
    <section aria-labelledby="login-title" className="narrow">
      <h1 id="login-title">Log in</h1>
      <form onSubmit={(e) => void onSubmit(e)} className="stack">
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={busy || wait > 0}>
          {wait > 0 ? `Log in (in ${wait} s)` : 'Log in'}
        </button>
      </form>
      {failure && <ErrorNotice error={failure.error} retryAt={failure.retryAt} />}
      <p>
        New here? <Link href="/register">Create an account</Link>.
      </p>
    </section>
  );
}

export function RegisterPage() {
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, failure, wait, onSubmit } = useSubmit(
    async () => {
      await call<User>('/api/users/register', { method: 'POST', body: { name: name.trim(), email, password } });
      await logIn(email, password);
    },
    () => navigate('/'),
  );
  return (
    <section aria-labelledby="register-title" className="narrow">
      <h1 id="register-title">Create an account</h1>
      <form onSubmit={(e) => void onSubmit(e)} className="stack">
        <label>
          Name
          <input name="name" autoComplete="name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password (at least 8 characters)
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={busy || wait > 0}>
          Create account
        </button>
      </form>
      {failure && <ErrorNotice error={failure.error} retryAt={failure.retryAt} />}
      <p>
        Already have an account? <Link href="/login">Log in</Link>.
      </p>
    </section>
  );
}
