/** A background job: started after the consumers, stopped before NATS drains; `flush` runs after the drain. */
export interface BackgroundJob {
  start: () => void | Promise<void>;
  stop: () => Promise<void>;
  /** Waits for bookkeeping still queued (see BackgroundWrites), once NATS has drained and before MongoDB closes. */
  flush?: () => Promise<void>;
}

/** A background job that runs `task` every `intervalMs` (unref'd), never overlapping itself. */
export function sweepEvery(intervalMs: number, task: () => Promise<unknown>): BackgroundJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    start() {
      timer = setInterval(() => {
        running ??= task()
          .catch(() => undefined)
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
