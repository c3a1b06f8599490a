import { z } from 'zod';

/** Request bodies of the public API. Unknown keys are rejected, so typos fail loudly. */
export const productIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'a product id');

/** Emails are compared lower-cased: stored that way at registration, looked up that way at login. */
const emailSchema = z
  .email()
  .max(254)
  .transform((email) => email.toLowerCase());

export const registerBodySchema = z.strictObject({
  email: emailSchema,
  password: z.string().min(8).max(128),
  name: z.string().trim().min(1).max(100),
});

export const loginBodySchema = z.strictObject({
  email: emailSchema,
  password: z.string().min(1).max(128),
});

/** The simulated card processor's test tokens; anything else is rejected at placement. */
export const paymentTokens = ['tok_visa', 'tok_chargeDeclined'] as const;
export type PaymentToken = (typeof paymentTokens)[number];

export const MAX_QUANTITY_PER_LINE = 100;
export const MAX_LINES_PER_ORDER = 20;

export const placeOrderBodySchema = z.strictObject({
  items: z
    .array(z.strictObject({ productId: productIdSchema, quantity: z.number().int().min(1).max(MAX_QUANTITY_PER_LINE) }))
    .min(1)
    .max(MAX_LINES_PER_ORDER),
  paymentToken: z.enum(paymentTokens),
});
export type PlaceOrderBody = z.infer<typeof placeOrderBodySchema>;

export const productQuerySchema = z.object({
  search: z.string().max(100).optional(),
  category: z.string().max(64).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  ids: z.string().max(2_000).optional(),
});
