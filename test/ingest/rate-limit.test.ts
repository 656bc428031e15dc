/**
 * Per-credential rate limits and sender credentials (issue 15 item 9), on real HTTP against the
 * real dev server: each credential has its own budget of requests a minute to `POST /v1/alerts`;
 * over it, 429 with Retry-After and nothing started, while another credential is still served; a
 * sender's credential posts alerts and opens nothing else; bad credential settings stop start-up.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../common/config';
import { incidentWorkflowId } from '../../common/incident';
import { normalizeAlert } from '../../common/normalize';
import { testClient } from '../support/temporal';
import { alertDocument, freshHostname, jsonOf, startTestIngest, workflowExists, type TestIngest } from './support';

let client: Client;
let ingest: TestIngest;
const siem = { name: 'siem', token: `siem-${randomUUID()}` };
const edr = { name: 'edr', token: `edr-${randomUUID()}` };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  client = await testClient();
  ingest = await startTestIngest(client, { senders: [siem, edr], rateLimitPerMinute: 3 });
});
afterAll(async () => {
  await ingest?.close();
  await client?.connection.close();
});

it('gives each credential its own budget: over it 429 with Retry-After, nothing started, the others still served', async () => {
  const documents = Array.from({ length: 4 }, () => alertDocument('canonical', freshHostname()));
  const statuses: number[] = [];
  for (const document of documents)
    statuses.push((await ingest.post('/v1/alerts', document, bearer(siem.token))).status);
  expect(statuses.slice(0, 3)).toEqual([202, 202, 202]);
  expect(statuses[3]).toBe(429);

  const refused = await ingest.post('/v1/alerts', documents[3], bearer(siem.token));
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  const body = await jsonOf(refused);
  expect(body.error).toBe('rate-limited');
  expect(body.message).toMatch(
    /^credential "siem" sent more than 3 requests a minute; retry in .* \(nothing in this request was accepted\)$/,
  );
  expect(await workflowExists(client, incidentWorkflowId(normalizeAlert(documents[3]!)))).toBe(false);

  // Another sender, and the ingest token, have budgets of their own.
  const other = alertDocument('canonical', freshHostname());
  expect((await ingest.post('/v1/alerts', other, bearer(edr.token))).status).toBe(202);
  expect((await ingest.post('/v1/alerts', alertDocument('canonical', freshHostname()))).status).toBe(202);
  expect(await workflowExists(client, incidentWorkflowId(normalizeAlert(other)))).toBe(true);

  // The log names the credential of every accepted alert and of the refusal.
  const accepted = ingest.logs.filter((l) => l.msg === 'incident started').map((l) => l.credential);
  expect(accepted).toEqual(['siem', 'siem', 'siem', 'edr', 'ingest-token']);
  expect(ingest.logs.filter((l) => l.msg === 'alert rate limit reached: 429').map((l) => l.credential)).toEqual([
    'siem',
    'siem',
  ]);
});

it('refuses a wrong token before counting anything: 401, never 429, and no sender’s budget is touched', async () => {
  for (let i = 0; i < 5; i++) {
    const response = await ingest.post(
      '/v1/alerts',
      alertDocument('canonical', freshHostname()),
      bearer('wrong-token-0000'),
    );
    expect(response.status).toBe(401);
  }
  // edr has used one of its three requests: the two left are still there.
  for (let i = 0; i < 2; i++) {
    expect(
      (await ingest.post('/v1/alerts', alertDocument('canonical', freshHostname()), bearer(edr.token))).status,
    ).toBe(202);
  }
  expect((await ingest.post('/v1/alerts', alertDocument('canonical', freshHostname()), bearer(edr.token))).status).toBe(
    429,
  );
});

it('lets a sender post alerts and nothing else', async () => {
  for (const path of ['/v1/reviews', '/v1/incidents/spawnguard-x']) {
    expect((await ingest.get(path, bearer(edr.token))).status).toBe(401);
  }
  const review = await ingest.post(
    '/v1/incidents/spawnguard-x/review',
    { decision: 'reject', analyst: 'edr' },
    bearer(edr.token),
  );
  expect(review.status).toBe(401);
});

it('refuses bad credential settings at start-up, naming the variable', () => {
  const load = (value: string) => () => loadConfig({ SPAWNGUARD_INGEST_CREDENTIALS: value } as Record<string, string>);
  expect(load('siem:short')).toThrow(/SPAWNGUARD_INGEST_CREDENTIALS.*name:token/s);
  expect(load(`siem:${'a'.repeat(20)},siem:${'b'.repeat(20)}`)).toThrow(/SPAWNGUARD_INGEST_CREDENTIALS.*unique/s);
  expect(load(`ingest-token:${'a'.repeat(20)}`)).toThrow(/SPAWNGUARD_INGEST_CREDENTIALS.*another name/s);
  expect(
    loadConfig({ SPAWNGUARD_INGEST_CREDENTIALS: `siem:${'a'.repeat(20)}` }).env.SPAWNGUARD_INGEST_CREDENTIALS,
  ).toEqual([{ name: 'siem', token: 'a'.repeat(20) }]);
  expect(() => loadConfig({ SPAWNGUARD_INGEST_RATE_LIMIT: '-1' })).toThrow(/SPAWNGUARD_INGEST_RATE_LIMIT/);
});
