import { main } from '@tracemart/platform';
import { userModule } from './module';

main(userModule);
