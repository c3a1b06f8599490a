import { Link } from 'wouter';
import { ApiError } from '../lib/api-error';
import { describeError } from '../lib/error-message';
import { TraceInfo } from './TraceInfo';
import { useCountdown } from './use-countdown';

/** A failed action, said the way a person wants it: what happened, what to do, when to retry, which trace. */
export function ErrorNotice({ error, retryAt, onRetry }: { error: unknown; retryAt?: number | undefined; onRetry?: () => void }) {
  const apiError = error instanceof ApiError ? error : new ApiError(0, 'CLIENT', String(error), undefined, undefined, undefined);
  const message = describeError(apiError);
  const wait = useCountdown(retryAt);
  return (
    <div className="notice error" role="alert" data-testid="error" data-code={apiError.code} data-status={apiError.status}>
      <strong>{message.title}</strong>
      {message.detail && <p>{message.detail}</p>}
      {message.needsLogin && (
        <p>
          <Link href="/login">Log in</Link>
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry} disabled={wait > 0}>
          {wait > 0 ? `Retry in ${wait} s` : 'Retry'}
        </button>
      )}
      <TraceInfo traceId={apiError.traceId} label="See this trace" />
    </div>
  );
}

/** When a retry is allowed again: now plus the server's Retry-After. */
export function retryAtOf(error: unknown): number | undefined {
  return error instanceof ApiError && error.retryAfterSeconds !== undefined ? Date.now() + error.retryAfterSeconds * 1000 : undefined;
}
