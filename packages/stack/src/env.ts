/**
 * The variables of the calling environment that `npm start` and the per-process entry pass on to every service and the
 * gateway. Secrets are not among them: secretsFromEnv reads those, and each goes only to the processes that need it.
 */
export const PASSED_ON = ['LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SDK_DISABLED', 'NATS_REPLICAS'] as const;

export function passThroughEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(PASSED_ON.flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
}
