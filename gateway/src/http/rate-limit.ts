import type { Request, RequestHandler } from 'express';
import { AppError, getMeter, TokenBucketLimiter } from '@tracemart/platform';
import { verifiedClaims } from './auth';

/** Requests refused by the per-client rate limit. */
const rejections = getMeter().createCounter('tracemart.ratelimit.rejections', { unit: '{request}', description: 'Requests rejected by the rate limiter' });

/**
 * Token bucket per caller: the verified JWT subject, or the client address when anonymous (or when the
 * token is invalid, so bad tokens cannot mint fresh buckets). Over the limit: 429 with Retry-After.
 */
export function rateLimit(options: { ratePerSecond: number; burst: number; jwtSecret: string }): RequestHandler {
  const limiter = new TokenBucketLimiter({ ratePerSecond: options.ratePerSecond, burst: options.burst });
  return async (req, _res, next) => {
    const key = await callerKey(req, options.jwtSecret);
    const result = limiter.take(key);
    if (result.allowed) return next();
    rejections.add(1);
    next(new AppError('too_many_requests', 'RATE_LIMITED', 'too many requests', { retryAfterSeconds: result.retryAfterSeconds }));
  };
}

async function callerKey(req: Request, jwtSecret: string): Promise<string> {
  if (req.header('authorization')) {
    try {
      return `user:${(await verifiedClaims(req, jwtSecret)).sub}`;
    } catch {
      // fall through to the address
    }
  }
  return `ip:${req.ip ?? 'unknown'}`;
}
