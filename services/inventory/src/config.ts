import { z } from 'zod';
import { baseConfigSchema, mongoConfigSchema, natsConfigSchema } from '@tracemart/platform';

export const configSchema = baseConfigSchema
  .extend(natsConfigSchema.shape)
  .extend(mongoConfigSchema.shape)
  .extend({
    SERVICE_NAME: z.string().default('inventory'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3004),
    MONGODB_DB: z.string().default('tracemart_inventory'),
  });
export type Config = z.infer<typeof configSchema>;
