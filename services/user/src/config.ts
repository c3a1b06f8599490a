import { z } from 'zod';
import { serviceConfigSchema } from '@tracemart/platform';

export const configSchema = serviceConfigSchema(
  { name: 'user', port: 3001 },
  {
    JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters'),
    JWT_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  },
);
export type Config = z.infer<typeof configSchema>;
