/**
 * What a new user runs: `npm start` (`spawnguard dev`) brings the whole stack up on its own
 * embedded dev server and prints the URLs; `npm run demo` in a second terminal shows the three
 * outcomes; Ctrl+C stops everything cleanly. Run here as the real processes, on free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/playbook-harness';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
let dataDirectory: string;
let dev: ChildProcess | undefined;
let devOutput = '';

beforeAll(() => {
  dataDirectory = mkdtempSync(join(tmpdir(), 'spawnguard-start-'));
});
afterAll(async () => {
  if (dev && dev.exitCode === null) {
    dev.kill('SIGKILL');
    await once(dev, 'exit');
  }
  rmSync(dataDirectory, { recursive: true, force: true });
});

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

it('spawnguard dev starts the stack and prints its URLs; the demo shows the three outcomes; Ctrl+C stops it', async () => {
  const ports = ['--port', '0', '--temporal-port', '0', '--ui-port', '0', '--smtp-port', '0', '--mail-port', '0'];
  // A clean environment: the stack makes up its own token and uses its own server.
  const env = { ...process.env, TEMPORAL_ADDRESS: '', SPAWNGUARD_INGEST_TOKEN: '' };
  dev = spawn(process.execPath, ['bin/spawnguard.js', 'dev', '--data-dir', dataDirectory, ...ports], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout?.on('data', (chunk: Buffer) => (devOutput += chunk.toString()));
  dev.stderr?.on('data', (chunk: Buffer) => (devOutput += chunk.toString()));

  await waitFor(
    async () => devOutput,
    (text) => text.includes('Try it: npm run demo') || dev!.exitCode !== null,
    180_000,
  );
  for (const label of ['Alerts (POST)', 'Ingest token', 'Review page', 'Temporal UI', 'Mail', 'Lab host']) {
    expect(devOutput).toMatch(new RegExp(`${label.replace(/[()]/g, '\\$&')}\\s+\\S+`));
  }
  const alertsUrl = /Alerts \(POST\)\s+(\S+)/.exec(devOutput)![1]!;
  expect((await fetch(new URL('/healthz', alertsUrl))).status).toBe(200);
  const uiUrl = /Temporal UI\s+(\S+)/.exec(devOutput)![1]!;
  expect((await fetch(uiUrl)).status).toBe(200);

  // As in a container, where $USER is empty: the printed approve command must still name an analyst.
  const demo = await run(process.execPath, ['--require', 'tsx/cjs', 'scripts/demo.ts'], {
    SPAWNGUARD_DATA_DIR: dataDirectory,
    USER: '',
    LOGNAME: '',
  });
  expect({ code: demo.code, output: demo.output }).toEqual({
    code: 0,
    output: expect.stringContaining('Using the running stack'),
  });
  expect(demo.output).toMatch(/malicious: remediated/);
  expect(demo.output).toMatch(/suspicious: awaiting-review/);
  expect(demo.output).toMatch(/benign: closed-benign/);
  expect(demo.output).toMatch(
    /npx spawnguard review approve spawnguard-web01-7000-7100\.\S+ --analyst [A-Za-z0-9._-]+ --comment "confirmed"/,
  );

  dev.kill('SIGINT');
  const [code] = await once(dev, 'exit');
  expect(code).toBe(0);
  expect(devOutput).toMatch(/Stopped\.\s*$/);
});
