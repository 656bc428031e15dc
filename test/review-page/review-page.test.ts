/**
 * The review page in a real browser (Debian chromium driven by playwright-core), served by the real
 * ingest app against the real dev server, with the stand-in playbook on a real worker.
 */
import type { Client } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { reviewLink, signReviewToken } from '../../activities/notification/review-links';
import { IncidentStatusSchema } from '../../common/incident-status';
import { SA } from '../../common/names';
import { normalizeAlert } from '../../common/normalize';
import {
  alertDocument,
  freshHostname,
  TEST_POLICY,
  jsonOf,
  startTestIngest,
  waitFor,
  withStandInPlaybook,
  type TestIngest,
} from '../ingest/support';
import { testClient } from '../support/temporal';

// A real browser against the dev server is slow when the whole suite shares 2 cores.
jest.setTimeout(180_000);

let client: Client;
let ingest: TestIngest;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  client = await testClient();
  ingest = await startTestIngest(client);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await ingest?.close();
  await client?.connection.close();
});
beforeEach(async () => {
  page = await browser.newPage();
});
afterEach(async () => {
  await page?.close();
});

async function startIncident(hostnameOrDocument: string | Record<string, unknown> = freshHostname()): Promise<string> {
  const document =
    typeof hostnameOrDocument === 'string' ? alertDocument('elastic-alert', hostnameOrDocument) : hostnameOrDocument;
  const response = await ingest.post('/v1/alerts', document);
  expect(response.status).toBe(202);
  return (await jsonOf(response)).workflowId;
}

const link = (
  workflowId: string,
  overrides: { secret?: string; ttlMs?: number; now?: number } = {},
  firstRunId?: string,
) =>
  reviewLink(
    workflowId,
    { publicUrl: ingest.url, secret: ingest.linkSecret, ttlMs: 10 * 60_000, ...overrides },
    firstRunId,
  );

const resultOf = async (workflowId: string) =>
  IncidentStatusSchema.parse(await client.workflow.getHandle(workflowId).result());

async function reviewStatus(workflowId: string): Promise<string> {
  return (await jsonOf(await ingest.get(`/v1/incidents/${workflowId}`))).review.status;
}

function postForm(
  workflowId: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
  action = '',
) {
  return fetch(`${ingest.url}/review/${encodeURIComponent(workflowId)}${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

describe('review page', () => {
  it('a review link shows the evidence and the plan; approving in the page moves the incident on', async () => {
    const hostname = freshHostname();
    const workflowId = await startIncident(hostname);
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const response = await page.goto(link(workflowId));
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        `Review: WINWORD.EXE → powershell.exe on ${hostname}`,
      );
      expect(await page.locator('[data-field=verdict]').textContent()).toBe('suspicious');
      expect(await page.locator('[data-field=score]').textContent()).toBe('55');
      expect(await page.locator('table.reasons').textContent()).toContain('unsigned-user-writable');
      expect(await page.locator('ul.plan').textContent()).toMatch(/terminate-child PID 6120/);

      // The analyst's name is required: the browser does not submit without it.
      await page.getByRole('button', { name: 'Approve' }).click();
      expect(
        await page
          .locator('input[name=analyst]')
          .evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing),
      ).toBe(true);
      expect(await reviewStatus(workflowId)).toBe('pending');

      await page.getByLabel(`Analyst for ${workflowId}`).fill('alice');
      await page.getByLabel(`Comment for ${workflowId}`).fill('macro from a phishing mail');
      await Promise.all([
        page.waitForURL(/\/review\/.+\?token=/),
        page.getByRole('button', { name: 'Approve' }).click(),
      ]);
      expect(await page.locator('[data-field=review]').textContent()).toMatch(
        /^Approved by alice at .+ — “macro from a phishing mail”\.$/,
      );
      expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);

      expect(await resultOf(workflowId)).toMatchObject({
        outcome: 'remediated',
        review: { status: 'approved', analyst: 'alice', comment: 'macro from a phishing mail' },
      });
    });
  });

  it('lists pending reviews after signing in with the ingest token; rejecting from the list moves the incident on', async () => {
    const workflowId = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      await waitFor(
        async () => (await jsonOf(await ingest.get('/v1/reviews'))).reviews as { workflowId: string }[],
        (reviews) => reviews.some((r) => r.workflowId === workflowId),
      );
      await page.goto(`${ingest.url}/review`);
      await page.getByLabel('Ingest token').fill('not-the-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      expect(await page.getByRole('alert').textContent()).toBe('That is not the ingest token.');

      await page.getByLabel('Ingest token').fill(ingest.token);
      await Promise.all([
        page.waitForURL(`${ingest.url}/review`),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      const incident = page.locator(`section[data-workflow-id="${workflowId}"]`);
      expect(await incident.locator('[data-field=verdict]').textContent()).toBe('suspicious');
      expect(await incident.locator('[data-field=score]').textContent()).toBe('55');
      expect(await incident.locator('table.reasons').textContent()).toContain('shell-child');
      expect(await incident.locator('ul.plan').textContent()).toContain('logoff-user');

      await incident.getByLabel(`Analyst for ${workflowId}`).fill('bob');
      await Promise.all([
        page.waitForURL(/\/review\/.+\?token=/),
        incident.getByRole('button', { name: 'Reject' }).click(),
      ]);
      expect(await page.locator('[data-field=review]').textContent()).toMatch(/^Rejected by bob at /);
      expect(await resultOf(workflowId)).toMatchObject({
        outcome: 'closed-false-positive',
        review: { status: 'rejected', analyst: 'bob', comment: null },
      });
    });
  });

  it('refuses a forged or expired link, showing nothing of the incident, and a refused POST changes nothing', async () => {
    const hostname = freshHostname();
    const workflowId = await startIncident(hostname);
    const other = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const genuine = new URL(link(workflowId)).searchParams.get('token') as string;
      const [version, expiry, mac] = genuine.split('.') as [string, string, string];
      const forgeries = {
        'another secret': link(workflowId, { secret: 'guessed-secret' }),
        "another incident's token": `${ingest.url}/review/${workflowId}?token=${new URL(link(other)).searchParams.get('token')}`,
        'a later expiry': `${ingest.url}/review/${workflowId}?token=${version}.${Number(expiry) + 86_400_000}.${mac}`,
        garbage: `${ingest.url}/review/${workflowId}?token=hello`,
      };
      for (const [forgery, url] of Object.entries(forgeries)) {
        const response = await page.goto(url);
        expect({ forgery, status: response?.status() }).toEqual({ forgery, status: 403 });
        expect(await page.getByRole('alert').textContent()).toBe('This review link is not valid.');
        expect(await page.content()).not.toContain(hostname);
      }

      const expired = await page.goto(link(workflowId, { now: Date.now() - 2 * 60 * 60_000, ttlMs: 60 * 60_000 }));
      expect(expired?.status()).toBe(403);
      expect(await page.getByRole('alert').textContent()).toMatch(/has expired/);

      const withoutToken = await page.goto(`${ingest.url}/review/${workflowId}`);
      expect(withoutToken?.status()).toBe(403);

      const refusedPosts: Record<string, string>[] = [
        {
          token: new URL(forgeries['another secret']).searchParams.get('token') as string,
          decision: 'approve',
          analyst: 'mallory',
        },
        {
          token: signReviewToken(workflowId, ingest.linkSecret, Date.now() - 1000),
          decision: 'approve',
          analyst: 'mallory',
        },
        { decision: 'approve', analyst: 'mallory' },
      ];
      for (const fields of refusedPosts) {
        expect((await postForm(workflowId, fields)).status).toBe(403);
      }
      expect(
        (await postForm(workflowId, { decision: 'approve', analyst: 'mallory' }, { authorization: 'Bearer wrong' }))
          .status,
      ).toBe(403);
      expect(await reviewStatus(workflowId)).toBe('pending');
    });
  });

  it('opening a review link (GET, HEAD, in the browser) changes nothing', async () => {
    const workflowId = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const handle = client.workflow.getHandle(workflowId);
      const url = link(workflowId);
      await waitFor(
        async () => (await handle.describe()).typedSearchAttributes.get(SA.ReviewStatus),
        (value) => value === 'pending',
      );
      const eventsBefore = (await handle.fetchHistory()).events?.length;

      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
      expect((await page.goto(url))?.status()).toBe(200);
      await page.reload();

      expect((await handle.fetchHistory()).events?.length).toBe(eventsBefore);
      // Nor does the link's token end up in the logs, where anyone reading them could use it.
      expect(JSON.stringify(ingest.logs)).toContain(`/review/${workflowId}?token=[redacted]`);
      expect(JSON.stringify(ingest.logs)).not.toContain(new URL(url).searchParams.get('token'));
      expect(await reviewStatus(workflowId)).toBe('pending');
      expect((await handle.describe()).typedSearchAttributes.get(SA.ReviewStatus)).toBe('pending');
    });
  });

  it('a link is bound to the incident it was issued for: a later incident under the same workflow id refuses it', async () => {
    const document = alertDocument('elastic-alert', freshHostname());
    const workflowId = await startIncident(document);
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const first = (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId;
      expect(first).toMatch(/^[0-9a-f-]{36}$/);
      const earlier = link(workflowId, {}, first!);
      expect(new URL(earlier).searchParams.get('token')).toMatch(new RegExp(`^v2\\.\\d+\\.${first}\\.`));

      // That incident ends; the same workflow id is used again for a new one (another chain of runs).
      await client.workflow.getHandle(workflowId).terminate('test: the incident ended');
      const again = await client.workflow.start('suspiciousParentProcessPlaybook', {
        taskQueue: ingest.taskQueue,
        workflowId,
        args: [{ alert: normalizeAlert(document), policy: TEST_POLICY, receivedAt: new Date().toISOString() }],
      });
      await waitFor(
        () => reviewStatus(workflowId),
        (s) => s === 'pending',
      );

      const opened = await page.goto(earlier);
      expect(opened?.status()).toBe(403);
      expect(await page.getByRole('alert').textContent()).toMatch(/issued for an earlier incident under this id/);
      const token = new URL(earlier).searchParams.get('token') as string;
      const posted = await postForm(workflowId, { token, decision: 'approve', analyst: 'mallory' });
      expect(posted.status).toBe(403);
      expect(await posted.text()).toContain('issued for an earlier incident under this id');
      // Nor does it remove persistence or start a restore on the later incident.
      const removal = await postForm(workflowId, { token, decision: 'remove', analyst: 'mallory' }, {}, '/persistence');
      expect(removal.status).toBe(403);
      expect(await removal.text()).toContain('issued for an earlier incident under this id');
      const restore = await postForm(workflowId, { token, analyst: 'mallory' }, {}, '/restore');
      expect(restore.status).toBe(403);
      expect(await restore.text()).toContain('issued for an earlier incident under this id');
      const restores = [];
      for await (const e of client.workflow.list({
        query: `WorkflowType = "incidentRestore" AND WorkflowId STARTS_WITH "${workflowId}"`,
      }))
        restores.push(e.workflowId);
      expect(restores).toEqual([]);
      expect(await reviewStatus(workflowId)).toBe('pending');

      // The new incident's own link works.
      const current = link(workflowId, {}, again.firstExecutionRunId);
      const approved = await postForm(workflowId, {
        token: new URL(current).searchParams.get('token') as string,
        decision: 'approve',
        analyst: 'dave',
      });
      expect(approved.status).toBe(303);
      expect(await resultOf(workflowId)).toMatchObject({ review: { status: 'approved', analyst: 'dave' } });
    });
  });

  it("the page's POST also takes the ingest token as a bearer header, and requires an analyst", async () => {
    const workflowId = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const bearer = { authorization: `Bearer ${ingest.token}` };
      const blank = await postForm(workflowId, { decision: 'reject', analyst: '' }, bearer);
      expect(blank.status).toBe(400);
      expect(await blank.text()).toContain('analyst is required');
      expect(await reviewStatus(workflowId)).toBe('pending');

      const response = await postForm(
        workflowId,
        { decision: 'reject', analyst: 'carol', comment: 'test host' },
        bearer,
      );
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('Rejected by carol.');
      expect(await resultOf(workflowId)).toMatchObject({
        review: { status: 'rejected', analyst: 'carol', comment: 'test host' },
      });
    });
  });
});
