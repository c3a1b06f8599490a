import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ConfigContext } from './components/config-context';
import { loadConfig } from './lib/config';
import { startTracing } from './tracing';
import './styles.css';

/** Reads the gateway's config first: it says whether browser spans have somewhere to go, and where traces are shown. */
async function boot(): Promise<void> {
  const config = await loadConfig();
  startTracing(config);
  const root = document.getElementById('root');
  if (!root) return;
  createRoot(root).render(
    <StrictMode>
      <ConfigContext.Provider value={config}>
        <App />
      </ConfigContext.Provider>
    </StrictMode>,
  );
}

void boot();
