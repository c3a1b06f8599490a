import { spawnSync } from 'node:child_process';
import type { Launcher } from './stack';
import type { ProcessName } from './topology';

/** The image of one process, as `deploy/scripts/build-images.sh` tags it. */
export const imageOf = (name: ProcessName, tag: string): string => `tracemart/${name}:${tag}`;

/** The container name of one process (an instance: `order`, `order-2`) in one run (so a test can inspect it and always remove it). */
export const containerOf = (name: string, runId: string): string => `tracemart-${runId}-${name}`;

/** True when a Docker engine answers here (`docker info`). */
export function dockerEngineAnswers(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

/**
 * Starts each process from its image instead of its sources, the way the cluster runs it: read-only root
 * filesystem with a tmpfs /tmp, the image's own user and command (node as PID 1), configuration only through
 * the environment (passed by name, so secrets stay off the command line). The containers share the host's
 * network (Linux only), so the local NATS, FerretDB and the other processes stay on loopback. `docker run` stays
 * in the foreground: its output is the container's, a SIGTERM sent to it is passed on to the container, and its
 * exit code is the container's. Once the client has exited, however it ended, the container is removed.
 */
export const containerLauncher =
  (options: { root: string; tag: string; runId: string }): Launcher =>
  (name, appEnv, instance) => {
    const container = containerOf(instance.name, options.runId);
    return {
      command: 'docker',
      args: [
        'run',
        '--rm',
        '--name',
        container,
        '--network',
        'host',
        '--read-only',
        '--tmpfs',
        '/tmp',
        ...Object.keys(appEnv).flatMap((key) => ['--env', key]),
        imageOf(name, options.tag),
      ],
      cwd: options.root,
      env: { ...process.env, ...appEnv },
      afterExit: () => void spawnSync('docker', ['rm', '--force', container], { stdio: 'ignore', timeout: 30_000 }),
    };
  };
