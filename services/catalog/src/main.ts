import { main } from '@tracemart/platform';
import { catalogModule } from './module';

main(catalogModule);
