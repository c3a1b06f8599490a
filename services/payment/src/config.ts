import { z } from 'zod';
import { serviceConfigSchema } from '@tracemart/platform';
import { paymentTokenKeySchema } from '@tracemart/contracts';

export const configSchema = serviceConfigSchema(
  { name: 'payment', port: 3005 },
  {
    /** Secret shared with the order service only: the card token of orders.placed is sealed under it. */
    PAYMENT_TOKEN_KEY: paymentTokenKeySchema,
    /** Simulated card processor behaviour. */
    PROCESSOR_LATENCY_MS: z.coerce.number().int().min(0).default(20),
    /** Share of processor calls that fail as if the processor were down (0..1). */
    PROCESSOR_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    /** Resilience around the processor: per-call timeout, breaker and retries. */
    PROCESSOR_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
    PROCESSOR_BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
    PROCESSOR_BREAKER_VOLUME: z.coerce.number().int().min(1).default(5),
    PROCESSOR_BREAKER_RESET_MS: z.coerce.number().int().positive().default(5_000),
    PROCESSOR_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    PROCESSOR_RETRY_BASE_MS: z.coerce.number().int().min(0).default(50),
    PROCESSOR_RETRY_MAX_MS: z.coerce.number().int().min(0).default(500),
  },
);
export type Config = z.infer<typeof configSchema>;
