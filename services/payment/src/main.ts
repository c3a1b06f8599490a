import { main } from '@tracemart/platform';
import { paymentModule } from './module';

main(paymentModule);
