import type { ApiError } from './api-error';

/** What a person reads when an action fails: what happened, what to do, and how long to wait. */
export interface ErrorMessage {
  title: string;
  detail: string;
  /** Seconds before retrying makes sense (from Retry-After); the retry button waits this long. */
  retryAfterSeconds?: number;
  /** The person should log in (again) to go on. */
  needsLogin?: boolean;
}

/** A dependency's name as a person says it, with its verb: `payment` → "Payments are". */
const DEPENDENCIES: Record<string, string> = {
  payment: 'Payments are',
  catalog: 'The catalog is',
  inventory: 'Stock information is',
  order: 'Ordering is',
  user: 'Accounts are',
  notification: 'Notifications are',
};

/** An unknown name is shown as it is. */
export const dependencyPhrase = (name: string): string => DEPENDENCIES[name] ?? `${name} is`;

const seconds = (n: number): string => (n === 1 ? '1 second' : `${n} seconds`);

function validationDetail(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined;
  const lines = details
    .map((d: { path?: unknown; message?: unknown }) => [d?.path, d?.message].filter((part) => typeof part === 'string' && part !== '').join(': '))
    .filter((line) => line !== '');
  return lines.length > 0 ? lines.join('; ') : undefined;
}

function dependencyOf(details: unknown): string | undefined {
  const dependency = (details as { dependency?: unknown } | null | undefined)?.dependency;
  return typeof dependency === 'string' ? dependency : undefined;
}

/** Turns an ApiError (or anything thrown) into words; pure, so every page says the same thing. */
export function describeError(error: Pick<ApiError, 'status' | 'code' | 'message' | 'details' | 'retryAfterSeconds'>): ErrorMessage {
  const wait = error.retryAfterSeconds;
  const withWait = (message: ErrorMessage): ErrorMessage => (wait !== undefined ? { ...message, retryAfterSeconds: wait } : message);
  const waitText = wait !== undefined && wait > 0 ? ` Try again in ${seconds(wait)}.` : ' Try again in a moment.';
  switch (error.status) {
    case 0:
      return { title: 'Cannot reach the shop', detail: 'Check your connection and try again.' };
    case 400:
      return { title: 'Please check your input', detail: validationDetail(error.details) ?? error.message };
    case 401:
      if (error.code === 'AUTH.INVALID_CREDENTIALS') return { title: 'Wrong email or password', detail: 'Check both and try again.' };
      return { title: 'Please log in', detail: 'Your session has ended; log in again to go on.', needsLogin: true };
    case 403:
      return { title: 'Not allowed', detail: error.message };
    case 404:
      return { title: 'Not found', detail: 'It does not exist, or it is not yours.' };
    case 409:
      if (error.code === 'USER.EMAIL_TAKEN') return { title: 'This email already has an account', detail: 'Log in instead, or use another email.' };
      return { title: 'Conflict', detail: error.message };
    case 413:
      return { title: 'Too large', detail: error.message };
    case 422:
      switch (error.code) {
        case 'ORDER.UNKNOWN_PRODUCT':
          return { title: 'A product in your cart is no longer sold', detail: 'Remove it from the cart and try again.' };
        case 'ORDER.TOTAL_TOO_LARGE':
          return { title: 'This order is too large', detail: 'Lower some quantities and try again.' };
        case 'IDEMPOTENCY.KEY_REUSED':
          return { title: 'This checkout was already sent with other contents', detail: 'Reload the cart to start a new checkout.' };
        default:
          return { title: 'This cannot be done', detail: error.message };
      }
    case 429:
      return withWait({ title: 'Too many attempts', detail: `Please wait.${waitText}` });
    case 503:
    case 502:
    case 504: {
      const dependency = dependencyOf(error.details);
      const what = dependency ? `${dependencyPhrase(dependency)} unavailable right now` : 'The shop is partly unavailable right now';
      const reassurance = dependency === 'payment' ? ' Nothing was charged and no order was placed.' : '';
      return withWait({ title: what, detail: `${reassurance}${waitText}`.trim() });
    }
    default:
      if (error.status >= 500) return withWait({ title: 'Something went wrong on our side', detail: `It is not your fault.${waitText}` });
      return { title: 'Something went wrong', detail: error.message };
  }
}
