/**
 * Faults on the host side: the host worker killed with SIGKILL right after each kind of remediation
 * action (the action happened, Temporal was never told), then restarted. Every incident must still
 * complete, and every action must take effect once: the retry finds it done ("already done").
 */
import type { Client } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabScenarioSchema } from '../../activities/lab/scenario';
import type { HostActivities } from '../../common/host-contract';
import type { IncidentStatus } from '../../common/incident-status';
import { createHarness } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';
import { testAddress, testClient } from '../support/temporal';

jest.setTimeout(120_000);

const WORKER = require.resolve('./fixtures/crashing-host-worker');
let client: Client;
let directory: string;
beforeAll(async () => {
  client = await testClient();
  directory = mkdtempSync(join(tmpdir(), 'spawnguard-crash-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function startHostWorker(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', WORKER], {
    env: { ...process.env, TEMPORAL_ADDRESS: testAddress(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

const steps: (keyof HostActivities)[] = [
  'stopProcess',
  'stopAndQuarantineProcess',
  'terminateSession',
  'fetchPersistenceEntries',
];

describe.each(steps)('host worker killed (SIGKILL) right after %s, then restarted', (crashAfter) => {
  it('the incident completes and every action took effect exactly once', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    const stateFile = join(directory, `${crashAfter}.json`);
    const marker = join(directory, `${crashAfter}.crashed`);
    writeFileSync(stateFile, JSON.stringify(h.host.state));
    const env = { LAB_STATE_FILE: stateFile, LAB_HOSTNAME: h.hostname, CRASH_AFTER: crashAfter, CRASH_MARKER: marker };

    const result: IncidentStatus = await h.run(
      async () => {
        const first = startHostWorker(env);
        const handle = await h.start(alert, h.policy({ hostHeartbeatTimeout: '2s' }));
        const [, signal] = await once(first.child, 'exit');
        expect({ signal, crashedAfter: existsSync(marker) && readFileSync(marker, 'utf8').trim() }).toEqual({
          signal: 'SIGKILL',
          crashedAfter: crashAfter,
        });
        const second = startHostWorker(env);
        try {
          return await handle.result();
        } finally {
          second.child.kill('SIGTERM');
          await once(second.child, 'exit');
        }
      },
      { hostWorker: false },
    );

    expect(result.outcome).toBe('remediated');
    const acted = result.actions.filter((a) => a.status !== 'skipped');
    expect(acted.every((a) => a.validated === true)).toBe(true);
    // The host, as the two worker processes left it: each process stopped, one quarantined copy, no session.
    const host = LabScenarioSchema.parse(JSON.parse(readFileSync(stateFile, 'utf8')));
    expect(host.processes.filter((p) => [4312, 6120, 6200].includes(p.pid)).map((p) => p.running)).toEqual([
      false,
      false,
      false,
    ]);
    expect(host.quarantined).toHaveLength(1);
    expect(host.sessions).toHaveLength(0);
    // The retried action found its work done; a read-only one simply ran again.
    if (crashAfter === 'fetchPersistenceEntries') {
      expect(result.actions.find((a) => a.action === 'fetch-persistence')?.status).toBe('done');
    } else {
      expect(acted.some((a) => a.status === 'already-done')).toBe(true);
    }
    expect(h.central.reports).toHaveLength(1);
  });
});
