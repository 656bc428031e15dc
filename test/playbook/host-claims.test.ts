/**
 * What a host reports is a claim (issue 15 item 10, docs/threat-model.md): facts from a worker that
 * answers as another host are not used, and the incident says so — on the real dev server.
 */
import type { Client } from '@temporalio/client';
import type { IncidentStatus } from '../../common/incident-status';
import { createHarness } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

it('file facts answered as another host are not used', async () => {
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  // The worker on this host's queue signs its script results with another host's name.
  h.host.state.hostname = 'impostor01';
  const result: IncidentStatus = await h.run(async () => (await h.start(alert, h.policy())).result());
  expect(result.enrichment?.child.hostFactsError).toBe(
    `lab:GetFileEnrichment.ps1 answered as host impostor01, not ${h.hostname}: its facts are not used`,
  );
  expect(result.enrichment?.child.factsFrom).not.toContain('host');
  expect(result.enrichment?.parent.factsFrom).not.toContain('host');
  // The decision still stands on the alert's own facts and reputation.
  expect(result.decision?.verdict).toBe('malicious');
}, 60_000);
