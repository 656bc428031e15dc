/**
 * Payload discipline (issue 15 item 6) on the real dev server: a host with 10,000 persistence
 * entries. The activity result, the status query and the workflow result carry the entries that
 * reference the offender and a few others, with exact counts per kind; nothing nears a payload limit.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { PERSISTENCE_ENTRY_CAP } from '../../common/host-contract';
import type { IncidentStatus } from '../../common/incident-status';
import { createHarness, statusOf } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const KINDS = ['run-key', 'scheduled-task', 'service', 'startup-folder', 'wmi-subscription'] as const;

it('10,000 persistence entries: capped listings, exact counts, small payloads, offender entries all kept', async () => {
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  const before = h.host.state.persistence.length;
  h.host.add({
    persistence: Array.from({ length: 10_000 }, (_, i) => ({
      kind: KINDS[i % KINDS.length]!,
      location: `HKLM\\Software\\Vendor${i}\\Run`,
      name: `Entry${i}`,
      command: `"C:\\Program Files\\Vendor${i}\\agent.exe" --background --profile ${'x'.repeat(64)}`,
    })),
  });
  const total = before + 10_000;
  const referencing = h.host.state.persistence.filter((e) => e.command.includes('invoice.exe')).length;
  expect(referencing).toBeGreaterThan(0);

  const { result, status, payloadBytes } = await h.run(async () => {
    const handle = await h.start(alert, h.policy());
    const done = (await handle.result()) as IncidentStatus;
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchPersistenceEntries',
    );
    const completed = events.find(
      (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled?.eventId),
    );
    const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    expect(defaultPayloadConverter.fromPayload(payload!)).toMatchObject({ summary: { total } });
    return { result: done, status: await statusOf(handle), payloadBytes: payload?.data?.length ?? Infinity };
  });

  expect(result.outcome).toBe('remediated');
  expect(result.persistence.length).toBeLessThanOrEqual(PERSISTENCE_ENTRY_CAP);
  expect(result.persistence.filter((e) => e.referencesTarget)).toHaveLength(referencing);
  expect(result.persistenceSummary).toMatchObject({ total, referencing, omitted: total - result.persistence.length });
  const counted = Object.values(result.persistenceSummary?.byKind ?? {}).reduce((sum, n) => sum + n, 0);
  expect(counted).toBe(total);
  // Far from the 2 MB payload limit: the activity result, the status query and the workflow result.
  expect(payloadBytes).toBeLessThan(200_000);
  expect(JSON.stringify(status).length).toBeLessThan(250_000);
  expect(JSON.stringify(result).length).toBeLessThan(250_000);
  // The report says how many were left out and how to get them.
  const report = h.central.reports.at(-1);
  expect(report?.persistenceSummary?.total).toBe(total);
}, 120_000);
