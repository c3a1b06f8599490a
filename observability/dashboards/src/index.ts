import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { messagingDashboard } from './messaging.js';
import { overviewDashboard } from './overview.js';
import { resilienceDashboard } from './resilience.js';
import { sagaDashboard } from './saga.js';
import { serviceDashboard } from './service.js';

/** A dashboard and the file it is written to under observability/grafana/dashboards/. */
export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

export function allDashboards(): DashboardFile[] {
  return [
    { file: 'overview.json', dashboard: overviewDashboard() },
    { file: 'saga.json', dashboard: sagaDashboard() },
    { file: 'resilience.json', dashboard: resilienceDashboard() },
    { file: 'messaging.json', dashboard: messagingDashboard() },
    { file: 'service.json', dashboard: serviceDashboard() },
  ];
}

/** The exact bytes written for a dashboard: pretty JSON with a trailing newline. */
export function render(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
