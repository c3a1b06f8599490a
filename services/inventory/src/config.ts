import type { z } from 'zod';
import { serviceConfigSchema } from '@tracemart/platform';

export const configSchema = serviceConfigSchema({ name: 'inventory', port: 3004 }, {});
export type Config = z.infer<typeof configSchema>;
