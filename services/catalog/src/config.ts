import type { z } from 'zod';
import { serviceConfigSchema } from '@tracemart/platform';

export const configSchema = serviceConfigSchema({ name: 'catalog', port: 3002 }, {});
export type Config = z.infer<typeof configSchema>;
