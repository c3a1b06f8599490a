import { z } from 'zod';
import { serviceConfigSchema } from '@tracemart/platform';
import { paymentTokenKeySchema } from '@tracemart/contracts';

export const configSchema = serviceConfigSchema(
  { name: 'order', port: 3003 },
  {
    /** The order service prices items by calling the catalog through the gateway. */
    GATEWAY_URL: z.url().default('http://127.0.0.1:8080'),
    CATALOG_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
    /** How long a product's price is reused for new orders before the catalog is asked again (0: always ask). */
    CATALOG_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
    /** Orders still PENDING after this long are cancelled with SAGA_TIMEOUT by the sweeper of the instance owning their partition. */
    SAGA_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    SAGA_SWEEP_INTERVAL_MS: z.coerce.number().int().positive().default(2_000),
    /** Secret shared with the payment service only: orders.placed carries the card token sealed under it. */
    PAYMENT_TOKEN_KEY: paymentTokenKeySchema,
    NODE_ENV: z.string().default('development'),
    /** Test-only fault point (see OutboxRelay.enableCrashPoint); refused when NODE_ENV=production. */
    TEST_CRASH_BEFORE_PUBLISH: z.string().optional(),
  },
).refine((config) => !(config.NODE_ENV === 'production' && config.TEST_CRASH_BEFORE_PUBLISH), {
  message: 'TEST_CRASH_BEFORE_PUBLISH must not be set in production',
  path: ['TEST_CRASH_BEFORE_PUBLISH'],
});
export type Config = z.infer<typeof configSchema>;
