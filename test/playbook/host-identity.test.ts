/**
 * Host identity (issue 15 item 8), on the real dev server: `web01.contoso.test` and
 * `web01.fabrikam.test` share the short-name queue of DESIGN.md §3, so a worker refuses a request
 * addressed to its namesake and the playbook does not take the namesake's ping for its host's; with
 * SPAWNGUARD_HOST_QUEUE_NAMES=fqdn each has a queue of its own and both incidents are remediated,
 * each on its own host; a short name that cannot be completed is never guessed at.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { refuseOtherHosts } from '../../activities/host/control';
import { outcomeText } from '../../activities/notification/sections';
import type { CanonicalAlert } from '../../common/alert';
import { HOST_FAILURE_TYPES } from '../../common/host-failures';
import type { IncidentStatus } from '../../common/incident-status';
import { hostQueueKey, hostTaskQueue, sameHost } from '../../common/names';
import { hostIdentity } from '../../worker/host';
import { createHarness, type Harness } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

describe('host names', () => {
  it('names queues by short name by default and by full name under fqdn, completing short names only with a domain', () => {
    expect(hostTaskQueue('WEB01.Contoso.Test')).toBe('spawnguard-host-web01');
    const fqdn = { names: 'fqdn' as const };
    expect(hostTaskQueue('WEB01.Contoso.Test', fqdn)).toBe('spawnguard-host-web01.contoso.test');
    expect(hostTaskQueue('web01', { ...fqdn, domain: 'Contoso.Test' })).toBe('spawnguard-host-web01.contoso.test');
    expect(hostTaskQueue('10.0.0.5', fqdn)).toBe('spawnguard-host-10.0.0.5');
    expect(hostQueueKey('web01', fqdn)).toBeNull();
    expect(() => hostTaskQueue('web01', fqdn)).toThrow(/without its DNS domain/);
  });

  it('tells namesakes in two domains apart when both names are known in full', () => {
    const fabrikam = hostIdentity('WEB01', 'fabrikam.test');
    expect(fabrikam).toEqual({ hostname: 'WEB01', fqdn: 'web01.fabrikam.test' });
    expect(hostIdentity('web01.fabrikam.test')).toEqual({ hostname: 'web01', fqdn: 'web01.fabrikam.test' });
    expect(sameHost('web01.contoso.test', fabrikam)).toBe(false);
    expect(sameHost('WEB01.FABRIKAM.TEST', fabrikam)).toBe(true);
    // A short name in the alert, or a worker that knows no domain: the short names decide.
    expect(sameHost('web01', fabrikam)).toBe(true);
    expect(sameHost('web01.contoso.test', { hostname: 'WEB01' })).toBe(true);
    expect(sameHost('web02.fabrikam.test', fabrikam)).toBe(false);
  });

  it('a host worker refuses a request addressed to another host and runs nothing', async () => {
    const ran: unknown[] = [];
    const activities = refuseOtherHosts(
      { stopProcess: async (request: unknown) => ran.push(request) },
      hostIdentity('WEB01', 'fabrikam.test'),
    );
    const refused = await activities.stopProcess({ forHost: 'web01.contoso.test', targets: [] }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: HOST_FAILURE_TYPES.wrongHost, nonRetryable: true });
    expect((refused as Error).message).toMatch(
      /this host worker is web01\.fabrikam\.test; the stopProcess request is for web01\.contoso\.test: refused/,
    );
    expect(ran).toEqual([]);
    await activities.stopProcess({ forHost: 'web01.fabrikam.test', targets: [] });
    await activities.stopProcess({ targets: [] });
    expect(ran).toHaveLength(2);
  });
});

/** A lab host named `<short>.<domain>`, with the malicious scenario; the alert names it in full. */
async function namesake(short: string, domain: string, hostQueues?: { names: 'fqdn' }) {
  const fqdn = `${short}.${domain}`;
  const h = await createHarness(client, { hostname: short, hostFqdn: fqdn, ...(hostQueues ? { hostQueues } : {}) });
  const alert: CanonicalAlert = { ...maliciousScenario(h), host: { hostname: fqdn } };
  return { h, alert };
}

const ranFor = (h: Harness) => [...new Set(h.host.calls.map((c) => (c.request as { forHost?: string }).forHost))];

it('short-name queues: a namesake in another domain is not taken for the alert’s host, and nothing runs on it', async () => {
  const short = `web-${randomUUID().slice(0, 6)}`;
  const contoso = await namesake(short, 'contoso.test');
  const fabrikam = await namesake(short, 'fabrikam.test');
  // Only fabrikam's worker polls the shared queue; the incident is about contoso's host.
  const result = (await fabrikam.h.run(async () => {
    const handle = await contoso.h.start(
      contoso.alert,
      contoso.h.policy({ hostUnreachableTimeout: '6s', hostLivenessTimeout: '2s' }),
    );
    return contoso.h.run(() => handle.result(), { hostWorker: false });
  })) as IncidentStatus;
  expect(result.outcome).toBe('host-unreachable');
  expect(result.hostWorker?.answered).toBe(false);
  expect(result.hostWorker?.message).toBe(
    `no host worker for ${short}.contoso.test answered on spawnguard-host-${short}-control within 6s`,
  );
  expect(fabrikam.h.host.calls).toEqual([]);
  expect(contoso.h.host.calls).toEqual([]);
}, 120_000);

it('fqdn queues: two namesakes each get their own incident’s actions, and both are remediated', async () => {
  const short = `web-${randomUUID().slice(0, 6)}`;
  const fqdn = { names: 'fqdn' as const };
  const contoso = await namesake(short, 'contoso.test', fqdn);
  const fabrikam = await namesake(short, 'fabrikam.test', fqdn);
  const [a, b] = (await contoso.h.run(() =>
    fabrikam.h.run(async () => {
      const handles = await Promise.all([
        contoso.h.start(contoso.alert, contoso.h.policy({ hostQueues: fqdn })),
        fabrikam.h.start(fabrikam.alert, fabrikam.h.policy({ hostQueues: fqdn })),
      ]);
      return Promise.all(handles.map((handle) => handle.result()));
    }),
  )) as IncidentStatus[];
  expect([a!.outcome, b!.outcome]).toEqual(['remediated', 'remediated']);
  expect(a!.hostWorker?.queue).toBe(`spawnguard-host-${short}.contoso.test`);
  expect(b!.hostWorker?.queue).toBe(`spawnguard-host-${short}.fabrikam.test`);
  expect(ranFor(contoso.h)).toEqual([`${short}.contoso.test`]);
  expect(ranFor(fabrikam.h)).toEqual([`${short}.fabrikam.test`]);
  const incidents = (h: Harness) => [
    ...new Set(h.host.calls.map((c) => (c.request as { incidentId?: string }).incidentId).filter(Boolean)),
  ];
  expect(incidents(contoso.h)).toEqual([a!.workflowId]);
  expect(incidents(fabrikam.h)).toEqual([b!.workflowId]);
}, 180_000);

it('fqdn queues: an alert naming a short host is not guessed at without a domain, and is completed with one', async () => {
  const short = `web-${randomUUID().slice(0, 6)}`;
  const fqdn = { names: 'fqdn' as const };
  const contoso = await namesake(short, 'contoso.test', fqdn);
  const alert: CanonicalAlert = { ...contoso.alert, host: { hostname: short.toUpperCase() } };
  const [unknown, completed] = (await contoso.h.run(async () => {
    const startedAt = Date.now();
    const first = (await (
      await contoso.h.start(alert, contoso.h.policy({ hostQueues: fqdn }))
    ).result()) as IncidentStatus;
    // Known at once: no ping waits for a worker on a guessed queue.
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    const second = await contoso.h.start(
      { ...alert, alertId: `${alert.alertId}-again` },
      contoso.h.policy({ hostQueues: { ...fqdn, domain: 'contoso.test' } }),
    );
    return [first, (await second.result()) as IncidentStatus];
  })) as IncidentStatus[];
  expect(unknown!.outcome).toBe('host-unreachable');
  expect(unknown!.hostWorker).toMatchObject({ answered: false, queue: null });
  expect(unknown!.enrichment?.parent.hostFactsError).toBe(unknown!.hostWorker?.message);
  expect(unknown!.hostWorker?.message).toMatch(
    new RegExp(`^the alert names host ${short.toUpperCase()} without its DNS domain`),
  );
  expect(unknown!.actions.filter((x) => x.status !== 'skipped').map((x) => x.message)).toEqual(
    unknown!.actions.filter((x) => x.status !== 'skipped').map(() => `not attempted: ${unknown!.hostWorker?.message}`),
  );
  // The report says the host was not identified, and how to fix that, not that its worker is down.
  expect(outcomeText(contoso.h.central.reports[0]!)).toMatch(
    /^HOST NOT IDENTIFIED: the alert names host .* without its DNS domain.*set SPAWNGUARD_HOST_DOMAIN\.$/,
  );
  expect(completed!.outcome).toBe('remediated');
  expect(completed!.hostWorker?.queue).toBe(`spawnguard-host-${short}.contoso.test`);
  // Only the second incident reached the host.
  expect(ranFor(contoso.h)).toEqual([short.toUpperCase()]);
}, 180_000);
