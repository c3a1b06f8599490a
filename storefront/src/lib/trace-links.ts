/** A link template from GET /api/config: `{traceId}` is replaced by the 32-hex trace id. */
export interface TraceLinkTemplate {
  label: string;
  template: string;
}

export const isTraceId = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{32}$/.test(value) && !/^0+$/.test(value);

/** The links to one trace; none for something that is not a valid trace id or a template without `{traceId}`. */
export function traceLinks(templates: readonly TraceLinkTemplate[], traceId: string | null | undefined): { label: string; href: string }[] {
  if (!isTraceId(traceId)) return [];
  return templates.filter((t) => t.template.includes('{traceId}')).map((t) => ({ label: t.label, href: t.template.split('{traceId}').join(traceId) }));
}
