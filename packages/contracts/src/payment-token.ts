import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * The card token of an order, sealed by the order service for the payment service (issue 12): `orders.placed` is kept
 * for ever (the ORDERS stream has no max age, the order event store is append-only) and read by every consumer of the
 * stream, so it carries the token encrypted, never in clear. AES-256-GCM under a key derived (HKDF-SHA256) from
 * PAYMENT_TOKEN_KEY, a secret only the order and payment services hold; the order id is authenticated data, so a
 * sealed token opens only for the order it was sealed for. Sealing needs no call to the payment service, so checkout
 * stays one write and one publish.
 *
 * Wire format: base64url(iv (12 bytes) | tag (16 bytes) | ciphertext).
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Changing the derivation (or the format) changes this label: a key derived for another version opens nothing. */
const KEY_INFO = 'tracemart payment token v1';
/** The longest clear token sealed (the contract's bound on `paymentToken`). */
export const MAX_PAYMENT_TOKEN_LENGTH = 64;

/** A sealed token as it travels: base64url of at least iv, tag and one byte, at most the longest token's. */
export const sealedPaymentTokenSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'base64url')
  .min(Math.ceil(((IV_BYTES + TAG_BYTES + 1) * 4) / 3))
  .max(Math.ceil(((IV_BYTES + TAG_BYTES + MAX_PAYMENT_TOKEN_LENGTH * 4) * 4) / 3));

/** The secret shared by the order and payment services (PAYMENT_TOKEN_KEY in both configs). */
export const paymentTokenKeySchema = z.string().min(32, 'PAYMENT_TOKEN_KEY must be at least 32 characters');

export class PaymentTokenUnreadable extends Error {
  override name = 'PaymentTokenUnreadable';
}

export interface PaymentTokenSeal {
  /** Encrypts `token` for the payment service, bound to `orderId`. */
  seal(token: string, orderId: string): string;
  /** The clear token; throws PaymentTokenUnreadable when it was sealed under another key, for another order, or altered. */
  open(sealed: string, orderId: string): string;
}

/** Seals and opens card tokens under the key derived from `secret`. */
export function paymentTokenSeal(secret: string): PaymentTokenSeal {
  const key = Buffer.from(hkdfSync('sha256', paymentTokenKeySchema.parse(secret), 'tracemart', KEY_INFO, 32));
  return {
    seal(token, orderId) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(orderId, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
    },
    open(sealed, orderId) {
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length <= IV_BYTES + TAG_BYTES) throw new PaymentTokenUnreadable('sealed payment token too short');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(orderId, 'utf8'));
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new PaymentTokenUnreadable('sealed payment token does not open with this key for this order', { cause: err });
      }
    },
  };
}
