import { z } from 'zod';
import { baseConfigSchema, mongoConfigSchema, natsConfigSchema } from '@tracemart/platform';

export const configSchema = baseConfigSchema
  .extend(natsConfigSchema.shape)
  .extend(mongoConfigSchema.shape)
  .extend({
    SERVICE_NAME: z.string().default('user'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3001),
    MONGODB_DB: z.string().default('tracemart_user'),
    JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters'),
    JWT_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  });
export type Config = z.infer<typeof configSchema>;
