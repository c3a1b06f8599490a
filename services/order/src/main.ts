import { main } from '@tracemart/platform';
import { orderModule } from './module';

main(orderModule);
