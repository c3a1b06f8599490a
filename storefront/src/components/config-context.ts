import { createContext, useContext } from 'react';
import { NO_TELEMETRY, type ShopConfig } from '../lib/config';

export const ConfigContext = createContext<ShopConfig>(NO_TELEMETRY);
export const useConfig = (): ShopConfig => useContext(ConfigContext);
