// Converts Kubernetes OpenAPI definitions into the per-kind, strict JSON schemas kubeconform reads from a local folder
// (the same idea as kubeconform's scripts/openapi2jsonschema.py, done here so validation needs no download):
//   node openapi2jsonschema.mjs swagger <swagger.json> <outDir>
//   node openapi2jsonschema.mjs crd <outDir> <crd.yaml>...
// File names follow kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}.json`: kind, first label of the group, version,
// lower-cased (`deployment-apps-v1.json`, `service-v1.json`, `rollout-argoproj-v1alpha1.json`).
// "Strict" means every object that lists its properties rejects unknown ones, so a misspelt field fails validation.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const INT_OR_STRING = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
const QUANTITY = { oneOf: [{ type: 'string' }, { type: 'number' }] };

function fileName(kind, apiVersion) {
  const [groupOrVersion, version] = apiVersion.split('/');
  const suffix = version ? `-${groupOrVersion.split('.')[0]}-${version}` : `-${groupOrVersion}`;
  return `${kind}${suffix}`.toLowerCase() + '.json';
}

function strictify(node, { crd }) {
  if (Array.isArray(node)) return node.map((n) => strictify(n, { crd }));
  if (node === null || typeof node !== 'object') return node;
  if (crd && node['x-kubernetes-int-or-string'] === true) {
    const { type: _type, 'x-kubernetes-int-or-string': _flag, ...rest } = node;
    return { ...rest, ...INT_OR_STRING };
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === 'properties' || key === 'definitions' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strictify(v, { crd })])) : strictify(value, { crd });
  }
  const open = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.properties && out.additionalProperties === undefined && !open) out.additionalProperties = false;
  return out;
}

function withTypeMeta(schema, kind, apiVersion) {
  return {
    ...schema,
    properties: {
      ...schema.properties,
      apiVersion: { type: 'string', enum: [apiVersion] },
      kind: { type: 'string', enum: [kind] },
    },
    required: [...new Set([...(schema.required ?? []), 'apiVersion', 'kind'])],
  };
}

function fromSwagger(swaggerPath, outDir) {
  const { definitions } = JSON.parse(readFileSync(swaggerPath, 'utf8'));
  definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = INT_OR_STRING;
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = QUANTITY;
  const refsOf = (node, found) => {
    if (Array.isArray(node)) node.forEach((n) => refsOf(n, found));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') {
          const name = v.replace('#/definitions/', '');
          if (!found.has(name)) {
            found.add(name);
            refsOf(definitions[name], found);
          }
        } else refsOf(v, found);
      }
    }
    return found;
  };
  let count = 0;
  for (const [name, def] of Object.entries(definitions)) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      const used = [...refsOf(def, new Set([name]))].sort();
      const schema = strictify(
        {
          $schema: 'http://json-schema.org/draft-07/schema#',
          ...withTypeMeta(def, gvk.kind, apiVersion),
          definitions: Object.fromEntries(used.map((n) => [n, definitions[n]])),
        },
        { crd: false },
      );
      writeFileSync(join(outDir, fileName(gvk.kind, apiVersion)), JSON.stringify(schema));
      count += 1;
    }
  }
  return count;
}

function fromCrds(outDir, files) {
  let count = 0;
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        const openApi = version.schema?.openAPIV3Schema;
        if (!openApi) continue;
        const apiVersion = `${crd.spec.group}/${version.name}`;
        const schema = strictify(
          {
            $schema: 'http://json-schema.org/draft-07/schema#',
            ...withTypeMeta({ ...openApi, properties: { metadata: { type: 'object' }, ...openApi.properties } }, crd.spec.names.kind, apiVersion),
          },
          { crd: true },
        );
        writeFileSync(join(outDir, fileName(crd.spec.names.kind, apiVersion)), JSON.stringify(schema));
        count += 1;
      }
    }
  }
  return count;
}

const [mode, ...args] = process.argv.slice(2);
let written;
if (mode === 'swagger' && args.length === 2) {
  mkdirSync(args[1], { recursive: true });
  written = fromSwagger(args[0], args[1]);
} else if (mode === 'crd' && args.length >= 2) {
  mkdirSync(args[0], { recursive: true });
  written = fromCrds(args[0], args.slice(1));
} else {
  process.stderr.write('usage: openapi2jsonschema.mjs swagger <swagger.json> <outDir> | crd <outDir> <crd.yaml>...\n');
  process.exit(2);
}
if (written === 0) {
  process.stderr.write('no schemas written: the input has no kinds\n');
  process.exit(1);
}
process.stdout.write(`${written} schemas written\n`);
