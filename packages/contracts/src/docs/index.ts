import { stringify } from 'yaml';
import { buildAsyncApi } from './asyncapi';
import { buildOpenApi } from './openapi';

export { buildAsyncApi, EVENT_CONSUMERS, eventOwners, messageName } from './asyncapi';
export { buildOpenApi, GATEWAY_ROUTES, type RouteDoc } from './openapi';

export interface GeneratedDoc {
  /** Path relative to the repository root. */
  path: string;
  content: string;
}

const HEADER = '# Generated from packages/contracts by `npm run docs`; do not edit by hand.\n';

/** YAML without anchors (shared objects are written out) or line folding, so diffs stay line-by-line. */
export function toYaml(document: unknown): string {
  return (
    HEADER +
    stringify(document, {
      aliasDuplicateObjects: false,
      lineWidth: 0,
      indent: 2,
    })
  );
}

/** Both documents, rendered: the same input always gives byte-identical output. */
export function renderDocs(): GeneratedDoc[] {
  return [
    { path: 'docs/asyncapi.yaml', content: toYaml(buildAsyncApi()) },
    { path: 'docs/openapi.yaml', content: toYaml(buildOpenApi()) },
  ];
}
