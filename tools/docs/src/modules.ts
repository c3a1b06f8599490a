import type { ModuleOutline } from '@tracemart/platform';
import { catalogModule } from '@tracemart/catalog-service/module';
import { inventoryModule } from '@tracemart/inventory-service/module';
import { notificationModule } from '@tracemart/notification-service/module';
import { orderModule } from '@tracemart/order-service/module';
import { paymentModule } from '@tracemart/payment-service/module';
import { userModule } from '@tracemart/user-service/module';

/**
 * Every service, as its module declares it (imported through the packages' export maps: nothing starts). The
 * AsyncAPI consumers come from here, so a consumer added to a module shows in docs/asyncapi.yaml with no other edit.
 */
export const SERVICE_MODULES: readonly ModuleOutline[] = [userModule, catalogModule, orderModule, inventoryModule, paymentModule, notificationModule];
