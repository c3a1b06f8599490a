import { main } from '@tracemart/platform';
import { notificationModule } from './module';

main(notificationModule);
