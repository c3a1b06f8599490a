/** The gateway's answers the shop reads (docs/openapi.yaml), as far as the shop uses them. */

export interface Product {
  id: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
}
export interface ProductPage {
  items: Product[];
  total: number;
}
export interface Stock {
  productId: string;
  available: number;
  reserved: number;
}
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';
export interface OrderLine {
  productId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
}
export interface Order {
  id: string;
  status: OrderStatus;
  items: OrderLine[];
  totalCents: number;
  reason?: string;
  createdAt: string;
  updatedAt: string;
}
export interface OrderSummary {
  id: string;
  status: OrderStatus;
  paymentStatus: 'PENDING' | 'CHARGED' | 'DECLINED' | 'REFUNDED';
  inventoryStatus: 'PENDING' | 'RESERVED' | 'REJECTED' | 'RELEASED' | 'COMMITTED';
  reason?: string;
  items: OrderLine[];
  totalCents: number;
  notifications: string[];
  timeline: { type: string; at: string; source: string }[];
  createdAt?: string;
  updatedAt?: string;
}
export interface HistoryEvent {
  type: string;
  version: number;
  occurredAt: string;
  traceId: string | null;
}
export interface Notification {
  id: string;
  orderId: string;
  kind: string;
  subject: string;
  body: string;
  status: 'QUEUED' | 'SENT';
  createdAt: string;
}
export interface Token {
  token: string;
  expiresIn: number;
}
export interface User {
  id: string;
  email: string;
  name: string;
}
export type FaultKind = 'latency' | 'error' | 'outage';
export interface Fault {
  id: string;
  service: string;
  kind: FaultKind;
  latencyMs?: number;
  errorRate?: number;
  route?: string;
  durationSeconds: number;
  createdAt: string;
  expiresAt: string;
}
export interface FaultSpec {
  service: string;
  kind: FaultKind;
  durationSeconds: number;
  latencyMs?: number;
  errorRate?: number;
  route?: string;
}
export const PAYMENT_TOKENS = ['tok_visa', 'tok_chargeDeclined'] as const;
export type PaymentToken = (typeof PAYMENT_TOKENS)[number];
