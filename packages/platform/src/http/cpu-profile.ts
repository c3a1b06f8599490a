import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors';
import { parseInput } from './input';

/** A V8 CPU profile as `Profiler.stop` returns it (the `.cpuprofile` format Chrome DevTools opens). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const profileQuery = z
  .object({
    seconds: z.coerce.number().min(1).max(60).default(10),
    /** Sampling interval in microseconds; V8's default is 1000. */
    intervalUs: z.coerce.number().int().min(100).max(100_000).default(1000),
  })
  .strict();

/** Records this process's CPU for `seconds` with V8's sampling profiler, in process (no inspector port). */
export async function recordCpuProfile(seconds: number, intervalUs = 1000): Promise<CpuProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    await sleep(seconds * 1000);
    const { profile } = await session.post('Profiler.stop');
    return profile as CpuProfile;
  } finally {
    session.disconnect();
  }
}

/**
 * `GET /profile/cpu?seconds=10[&intervalUs=1000]` under /admin: profiles the process while it serves its
 * normal traffic and answers the profile as JSON (save it as `x.cpuprofile` and open it in Chrome
 * DevTools or speedscope). One profile at a time per process; a second request gets 409.
 */
export function cpuProfileRoutes(): Router {
  const router = Router();
  let busy = false;
  router.get('/profile/cpu', async (req, res) => {
    const { seconds, intervalUs } = parseInput(profileQuery, req.query, 'query');
    if (busy) throw new AppError('conflict', 'PROFILE.BUSY', 'a CPU profile is already being recorded in this process');
    busy = true;
    try {
      res.json(await recordCpuProfile(seconds, intervalUs));
    } finally {
      busy = false;
    }
  });
  return router;
}
