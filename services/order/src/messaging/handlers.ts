import type { EventEnvelope, HandlerResult } from '@tracemart/platform';
import { isEvent } from '@tracemart/contracts';
import type { OrderUseCases } from '../use-cases';

/** The order side of the choreographed saga: react to inventory and payment outcomes. */
export function orderSagaHandler(orders: OrderUseCases) {
  return async (msg: EventEnvelope): Promise<HandlerResult> => {
    if (isEvent(msg, 'payments.charged')) await orders.confirm(msg.data.orderId);
    else if (isEvent(msg, 'payments.declined')) await orders.cancel(msg.data.orderId, 'PAYMENT_DECLINED');
    else if (isEvent(msg, 'inventory.rejected')) await orders.cancel(msg.data.orderId, 'OUT_OF_STOCK');
    return 'ack';
  };
}
