import { AsyncResource } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';

/**
 * Reading the body of one route as bytes. The platform scaffold (`createBaseApp`) parses JSON bodies with a 64 KB
 * limit and the unsafe-input check, which refuses what OTLP/JSON is (nested deeper than 8 levels): a route that must
 * pass a body on byte for byte, such as the OTLP pass-through, is listed in its `rawBodyPaths` and reads it here,
 * after the checks mounted before it (the rate limit), so a refused client's body is never read.
 */

export interface RawBody {
  /** The bytes as sent (empty when too large). */
  bytes: Buffer;
  /** Larger than the limit: the rest was read off and dropped, as the JSON parser does. */
  tooLarge: boolean;
}

const RAW_BODY = Symbol('tracemart.rawBody');
type WithRawBody = IncomingMessage & { [RAW_BODY]?: RawBody };

/** The body read by `readRawBody`, or undefined for a request it did not read. */
export const rawBodyOf = (req: Request): RawBody | undefined => (req as WithRawBody)[RAW_BODY];

/** Reads the request's body (up to `limitBytes`) into `rawBodyOf(req)`, then goes on. */
export function readRawBody(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    if (req.readableEnded) return next(new Error(`${req.path}: the body was read before readRawBody (list the path in rawBodyPaths)`));
    // The continuation keeps this request's context (its server span) once the body is in.
    const handOver = AsyncResource.bind((body: RawBody) => {
      (req as WithRawBody)[RAW_BODY] = body;
      next();
    });
    readAll(req, limitBytes).then(handOver, () => {
      // The client went away mid-body: nobody is left to answer.
      res.destroy();
    });
  };
}

function readAll(req: IncomingMessage, limitBytes: number): Promise<RawBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limitBytes;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}
