import { main } from '@tracemart/platform';
import { inventoryModule } from './module';

main(inventoryModule);
