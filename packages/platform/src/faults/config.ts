import { z } from 'zod';

/** The admin API credential; unset or empty turns the admin API off (403 for everything). */
export const adminTokenSchema = z.preprocess((value) => (value === '' ? undefined : value), z.string().min(8, 'ADMIN_TOKEN must be at least 8 characters').optional());

export const adminConfigSchema = z.object({
  ADMIN_TOKEN: adminTokenSchema,
});
