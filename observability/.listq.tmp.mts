import { listPromQLExpressions } from '/work/main/observability/dashboards/src/queries.ts';
for (const q of listPromQLExpressions()) console.log(q.dashboardUid, '|', q.source, '|', q.runnable.replace(/\s+/g,' '));
