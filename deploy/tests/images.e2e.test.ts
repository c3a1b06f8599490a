import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerLauncher, containerOf, dockerEngineAnswers, imageOf, serviceNames, startStack, type ProcessName, type Stack } from '@tracemart/stack';
import { apiClient, signUp, eventually, repoRoot } from '@tracemart/testing';

/**
 * The images, built from the root Dockerfile and run the way the cluster runs them: read-only root filesystem,
 * the image's own user and command, configuration through the environment. No container registry is reachable
 * on the machines that build tracemart, so the images are built on a base image made here from a debootstrapped
 * Debian and this machine's Node (deploy/scripts/local-node-base.sh: needs root and Linux); the Dockerfile itself
 * still names the official node image. Runs under CI (where scripts/setup.sh starts a Docker engine) or with
 * TRACEMART_IMAGES=1, and only when an engine answers; otherwise the file is skipped and says why.
 */
const wanted = Boolean(process.env.CI) || process.env.TRACEMART_IMAGES === '1';
const engine = wanted && dockerEngineAnswers();
if (wanted && !engine) process.stderr.write('[images] no Docker engine answers here (see .data/dockerd.log): the image test is skipped\n');
const TAG = `test-${randomBytes(3).toString('hex')}`;
const runId = randomBytes(3).toString('hex');
const processes: ProcessName[] = [...serviceNames, 'gateway'];
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();

interface ImageConfig {
  User: string;
  Cmd: string[];
  WorkingDir: string;
  Labels: Record<string, string>;
}

describe.skipIf(!engine)('the container images', () => {
  let stack: Stack | undefined;
  let dataDir: string | undefined;

  // The classic builder leaves each build's intermediate stages as untagged images: remove the ones this run made.
  const dangling = () => new Set(docker('images', '--quiet', '--filter', 'dangling=true').split('\n').filter(Boolean));
  let danglingBefore = new Set<string>();

  beforeAll(() => {
    danglingBefore = dangling();
    execFileSync('bash', ['deploy/scripts/build-images.sh', '--local-base'], { cwd: repoRoot, env: { ...process.env, TAG }, stdio: 'inherit', timeout: 900_000 });
  }, 960_000);

  afterAll(async () => {
    await stack?.stop(); // the launcher removes each container once its client has exited
    spawnSync('docker', ['rmi', ...processes.map((name) => imageOf(name, TAG))], { stdio: 'ignore' });
    const leftovers = [...dangling()].filter((id) => !danglingBefore.has(id));
    if (leftovers.length > 0) spawnSync('docker', ['rmi', ...leftovers], { stdio: 'ignore' });
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('when built, then each image runs node as its command, as uid 1000, with OCI labels naming the service and the commit', () => {
    const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    for (const name of processes) {
      const config = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config}}', imageOf(name, TAG))) as ImageConfig;
      expect(config.User, name).toBe('1000:1000');
      expect(config.Cmd.slice(0, 1), name).toEqual(['node']);
      expect(config.WorkingDir, name).toBe(name === 'gateway' ? '/app/gateway' : `/app/services/${name}`);
      expect(config.Labels['org.opencontainers.image.title'], name).toBe(`tracemart-${name === 'gateway' ? 'gateway' : `services/${name}`}`);
      expect(config.Labels['org.opencontainers.image.revision'], name).toBe(revision);
      expect(config.Labels['org.opencontainers.image.version'], name).toBe(TAG);
    }
    // Production dependencies only: no test runner, compiler or linter in the image.
    const modules = docker('run', '--rm', '--entrypoint', 'sh', imageOf('order', TAG), '-c', 'ls /app/node_modules; ls /app/node_modules/.bin');
    expect(modules).toContain('tsx');
    for (const devOnly of ['vitest', 'typescript', 'eslint']) expect(modules.split('\n'), devOnly).not.toContain(devOnly);
    // The gateway image carries the storefront's build (STOREFRONT_DIR's default); no other image has one.
    const shop = docker('run', '--rm', '--entrypoint', 'sh', imageOf('gateway', TAG), '-c', 'ls /app/storefront/dist; ls /app/storefront/dist/assets');
    expect(shop.split('\n')).toContain('index.html');
    expect(shop).toMatch(/\.js$/m);
    expect(docker('run', '--rm', '--entrypoint', 'sh', imageOf('order', TAG), '-c', 'ls -A /app/storefront/dist')).toBe('');
  });

  it('when the seven containers run on a read-only root filesystem, then an order placed through the gateway container is CONFIRMED', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tracemart-images-'));
    stack = await startStack({
      root: repoRoot,
      dataDir,
      freePorts: true,
      env: { LOG_LEVEL: 'info', NODE_ENV: 'production' },
      readyTimeoutMs: 120_000,
      launcher: containerLauncher({ root: repoRoot, tag: TAG, runId }),
    });
    const gateway = containerOf('gateway', runId);
    // PID 1 is node itself (no shell or npm in between, so SIGTERM reaches it), running as uid 1000.
    expect(docker('exec', gateway, 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline')).toMatch(/^node --max-semi-space-size=4 --require tsx\/cjs/);
    expect(docker('exec', gateway, 'sh', '-c', 'grep ^Uid: /proc/1/status')).toMatch(/^Uid:\s+1000\s+1000\s/);
    const write = spawnSync('docker', ['exec', '--user', '0', gateway, 'touch', '/app/written'], { encoding: 'utf8' });
    expect(write.stderr).toMatch(/Read-only file system/);

    // The shop, from the gateway container's own files.
    const shop = await fetch(`${stack.gatewayUrl}/`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(10_000) });
    expect(shop.status).toBe(200);
    expect(shop.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await shop.text()).toContain('<div id="root">');

    const api = apiClient(stack.gatewayUrl);
    const shopper = await signUp(api, 'Shipper');
    const products = (await api.get<{ items: { id: string }[] }>('/api/products?limit=5')).body.items;
    expect(products.length).toBeGreaterThan(0);
    const placed = await shopper.client.post<{ id: string; status: string }>('/api/orders', { items: [{ productId: products[0]?.id, quantity: 1 }], paymentToken: 'tok_visa' });
    expect(placed.status).toBe(202);
    const order = await eventually(
      async () => (await shopper.client.get<{ status: string }>(`/api/orders/${placed.body.id}`)).body,
      (o) => o.status !== 'PENDING',
      30_000,
    );
    expect(order.status).toBe('CONFIRMED');

    // Stop: SIGTERM reaches node as PID 1 in each container, which shuts down gracefully and exits 0.
    const apps = processes.map((name) => ({ name, proc: stack?.processes.get(name) }));
    await stack.stop();
    stack = undefined;
    const stopped = new Map(await Promise.all(apps.map(async ({ name, proc }) => [name, (await proc?.exited) ?? null] as const)));
    for (const { name, proc } of apps) {
      expect(stopped.get(name), `${name} exit code`).toBe(0);
      expect(
        proc?.lines.some((line) => line.includes('"msg":"stopped"')),
        `${name} logged "stopped"`,
      ).toBe(true);
    }
  }, 300_000);
});
