/**
 * What the status says about the host worker (issue 16 item 2): "waiting for the host worker" from
 * the first seconds of an incident whose host has no worker, and LAB only when the host worker that
 * acts serves a simulated host — whatever the ingest service's setting says.
 */
import { formatStatus } from '../../client/commands/status';
import type { IncidentStatus } from '../../common/incident-status';
import { createHarness, statusOf, waitFor } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

jest.setTimeout(120_000);

it('a host without worker: the status says it waits for the host worker within seconds, and the closed incident is not LAB', async () => {
  const client = await testClient();
  const h = await createHarness(client);
  // The ingest service runs with SPAWNGUARD_LAB (policy.lab), but no host worker will act.
  const policy = h.policy({ lab: true, hostUnreachableTimeout: '8s', hostLivenessTimeout: '4s' });
  const result = await h.run(
    async () => {
      const handle = await h.start(maliciousScenario(h), policy);
      const started = Date.now();
      const waiting = await waitFor(
        () => statusOf(handle),
        (s) => /^waiting for the host worker of /.test(s.hostWorker?.message ?? ''),
        5_000,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(formatStatus(waiting)).toMatch(
        new RegExp(`^Phase +investigating — waiting for the host worker of ${h.hostname}$`, 'm'),
      );
      return (await handle.result()) as IncidentStatus;
    },
    { hostWorker: false },
  );
  expect(result.outcome).toBe('host-unreachable');
  expect(result.lab).toBe(false);
  expect(result.actions.filter((a) => a.status === 'done')).toEqual([]);
  await client.connection.close();
});

it('LAB follows the host worker that acted: a lab host worker marks the incident LAB, a real one does not', async () => {
  const client = await testClient();
  for (const { hostLab, policyLab } of [
    { hostLab: true, policyLab: false },
    { hostLab: false, policyLab: true },
  ]) {
    const h = await createHarness(client, { hostLab });
    const result = await h.run(async () => {
      const handle = await h.start(maliciousScenario(h), h.policy({ lab: policyLab }));
      return (await handle.result()) as IncidentStatus;
    });
    expect({ hostLab, outcome: result.outcome, lab: result.lab }).toEqual({
      hostLab,
      outcome: 'remediated',
      lab: hostLab,
    });
  }
  await client.connection.close();
});
