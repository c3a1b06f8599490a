import { traceLinks } from '../lib/trace-links';
import { useConfig } from './config-context';

/** "See this trace": the trace id and a link per configured UI (Grafana, logs, Jaeger...). */
export function TraceInfo({ traceId, label = 'Trace', testId = 'trace-id' }: { traceId: string | null | undefined; label?: string; testId?: string }) {
  const { traceLinks: templates } = useConfig();
  if (!traceId) return null;
  const links = traceLinks(templates, traceId);
  return (
    <p className="trace">
      <span>{label}: </span>
      <code data-testid={testId}>{traceId}</code>
      {links.map((link) => (
        <a key={link.label} href={link.href} target="_blank" rel="noreferrer">
          {link.label}
        </a>
      ))}
    </p>
  );
}
