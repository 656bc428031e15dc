/**
 * Analyst sign-in with OpenID Connect, end to end in Chromium: a real provider (the `oidc-provider`
 * package, its own process) and the real ingest app against the real dev server. An approver signs
 * in, approves from an email link, and the workflow history records the verified identity — in the
 * update's payload and as the client identity Temporal keeps with it. A viewer sees the incident but
 * cannot decide; the ingest token opens neither the page nor the review API any more.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { reviewLink } from '../../activities/notification/review-links';
import { OidcSignIn } from '../../client/review/oidc';
import { freePort } from '../../client/dev-server';
import {
  alertDocument,
  freshHostname,
  jsonOf,
  runCli,
  startTestIngest,
  withStandInPlaybook,
  type TestIngest,
} from '../ingest/support';
import { testClient } from '../support/temporal';
import type { IncidentStatus } from '../../common/incident-status';
import type { RestoreStatus } from '../../common/restore';
import { createHarness, statusOf, waitFor } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';

jest.setTimeout(180_000);

let client: Client;
let ingest: TestIngest;
let browser: Browser;
let provider: ChildProcess;
let issuer: string;
let cliPort: number;

const CLIENT_ID = 'spawnguard-review';
const CLIENT_SECRET = `secret-${randomUUID()}`;

async function startProvider(port: number, redirectUri: string, cliRedirectUri: string): Promise<string> {
  provider = spawn(
    process.execPath,
    [
      join(__dirname, '..', 'support', 'oidc-provider.mjs'),
      JSON.stringify({ port, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri, cliRedirectUri }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    provider.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\S+)/.exec(output);
      if (ready) resolve(ready[1]!);
    });
    provider.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    provider.once('exit', (code) => reject(new Error(`the OIDC provider exited (${code}):\n${output}`)));
  });
}

beforeAll(async () => {
  client = await testClient();
  const [ingestPort, providerPort] = [await freePort(), await freePort()];
  cliPort = await freePort();
  const redirectUri = `http://127.0.0.1:${ingestPort}/review/callback`;
  issuer = await startProvider(providerPort, redirectUri, `http://127.0.0.1:${cliPort}/callback`);
  const oidc = new OidcSignIn({
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri,
    groupsClaim: 'groups',
    approverGroup: 'spawnguard-approvers',
  });
  ingest = await startTestIngest(client, { oidc }, ingestPort);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await ingest?.close();
  provider?.kill();
  await client?.connection.close();
});

async function startIncident(): Promise<string> {
  const response = await ingest.post('/v1/alerts', alertDocument('elastic-alert', freshHostname()));
  // The ingest token still posts alerts: that is all it does with sign-in on.
  expect(response.status).toBe(202);
  return (await jsonOf(response)).workflowId;
}

/** The provider's development login form, then its consent prompt. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL(new RegExp(`^${issuer}/`));
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.locator('button[type=submit]').click();
  await page.locator('button[type=submit]').click(); // consent: "Continue"
}

/**
 * An analyst's own access token, as their command-line tool gets it: the authorization code flow
 * with PKCE through the provider's login in the browser, back to a local callback.
 */
async function analystToken(login: string): Promise<string> {
  const config = await oidc.discovery(new URL(issuer), 'spawnguard-cli', CLIENT_SECRET, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const redirectUri = `http://127.0.0.1:${cliPort}/callback`;
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email groups',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  let received!: (path: string) => void;
  const callback = new Promise<string>((resolve) => (received = resolve));
  const server = createServer((request, response) => {
    response.end('signed in; you may close this window');
    received(request.url ?? '');
  });
  await new Promise<void>((resolve) => server.listen(cliPort, '127.0.0.1', resolve));
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url.href);
    await signInAtProvider(page, login);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(await callback, redirectUri), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    return tokens.access_token;
  } finally {
    await context.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('analyst sign-in with OpenID Connect', () => {
  it('an approver signs in from the email link, approves, and the history records the verified identity', async () => {
    const workflowId = await startIncident();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withStandInPlaybook(ingest.taskQueue, async () => {
        const link = reviewLink(workflowId, { publicUrl: ingest.url, secret: ingest.linkSecret, ttlMs: 10 * 60_000 });
        await page.goto(link);
        await signInAtProvider(page, 'alice');
        // Back on the incident the link named, signed in.
        await page.waitForURL((url) => url.pathname === `/review/${workflowId}`);
        expect(await page.locator('[data-field=sign-in]').innerText()).toMatch(
          /^Signed in as Alice Analyst <alice@soc\.example\.test> — may approve and reject/,
        );
        expect(await page.locator('[data-field=decider]').innerText()).toBe('Alice Analyst');
        // No free-text name: the decision is made as the signed-in analyst.
        expect(await page.locator('input[name=analyst]').count()).toBe(0);
        await page.getByLabel(`Comment for ${workflowId}`).fill('seen this dropper before');
        await Promise.all([page.waitForURL(/decided=approve/), page.getByRole('button', { name: 'Approve' }).click()]);
        expect(await page.locator('[data-field=confirmation]').innerText()).toBe(
          'Recorded: you approved this incident.',
        );
        await client.workflow.getHandle(workflowId).result();
      });
    } finally {
      await context.close();
    }

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const accepted = (history.events ?? []).find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
      ?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    expect(accepted?.meta?.identity).toBe(`Alice Analyst <alice@soc.example.test> (oidc alice @ ${issuer})`);
    const payload = accepted?.input?.args?.payloads?.[0];
    expect(defaultPayloadConverter.fromPayload(payload!)).toEqual({
      decision: 'approve',
      analyst: 'Alice Analyst',
      comment: 'seen this dropper before',
      identity: { issuer, subject: 'alice', name: 'Alice Analyst', email: 'alice@soc.example.test' },
    });
  });

  it('a viewer signs in and sees the incident, but has no buttons and cannot decide by posting the form', async () => {
    const workflowId = await startIncident();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withStandInPlaybook(ingest.taskQueue, async () => {
        await page.goto(`${ingest.url}/review`);
        await signInAtProvider(page, 'victor');
        await page.waitForURL(`${ingest.url}/review`);
        expect(await page.locator('[data-field=sign-in]').first().innerText()).toMatch(
          /Victor Viewer .* view only \(deciding takes membership of spawnguard-approvers\)/,
        );
        await page.goto(`${ingest.url}/review/${workflowId}`);
        expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
        // The form's post, forged with the viewer's own session and a valid token, is refused.
        const token = reviewLink(workflowId, { publicUrl: ingest.url, secret: ingest.linkSecret, ttlMs: 60_000 }).split(
          'token=',
        )[1]!;
        const response = await page.request.post(`${ingest.url}/review/${workflowId}`, {
          form: { token: decodeURIComponent(token), decision: 'approve' },
          maxRedirects: 0,
        });
        expect(response.status()).toBe(403);
        expect(await response.text()).toContain('deciding takes membership of spawnguard-approvers');
        const status = await client.workflow.getHandle(workflowId).query<{ review: { status: string } }>('status');
        expect(status.review.status).toBe('pending');
      });
    } finally {
      await context.close();
    }
  });

  it("the CLI decides as the analyst through the review API with their own access token; a viewer's is refused", async () => {
    const workflowId = await startIncident();
    const [alice, victor] = [await analystToken('alice'), await analystToken('victor')];
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const viewer = await runCli(['review', 'approve', workflowId, '--api', ingest.url], {
        env: { SPAWNGUARD_ANALYST_TOKEN: victor },
      });
      expect(viewer.code).toBe(1);
      expect(viewer.stderr).toMatch(/Victor Viewer may view incidents but not decide/);
      const forged = await runCli(['review', 'approve', workflowId, '--api', ingest.url], {
        env: { SPAWNGUARD_ANALYST_TOKEN: 'not-a-token' },
      });
      expect(forged.code).toBe(1);
      expect(forged.stderr).toMatch(/refused SPAWNGUARD_ANALYST_TOKEN/);

      // A name given on the command line is not what is recorded: the token's owner is.
      const approved = await runCli(
        [
          'review',
          'approve',
          workflowId,
          '--api',
          ingest.url,
          '--analyst',
          'mallory',
          '--comment',
          'from the terminal',
        ],
        { env: { SPAWNGUARD_ANALYST_TOKEN: alice } },
      );
      expect(approved.stderr).toBe('');
      expect(approved.code).toBe(0);
      expect(approved.stdout).toMatch(new RegExp(`^Approved ${workflowId} as Alice Analyst`));
      await client.workflow.getHandle(workflowId).result();
    });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const accepted = (history.events ?? []).find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
      ?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    expect(accepted?.meta?.identity).toBe(`Alice Analyst <alice@soc.example.test> (oidc alice @ ${issuer})`);
    expect(defaultPayloadConverter.fromPayload(accepted!.input!.args!.payloads![0]!)).toMatchObject({
      analyst: 'Alice Analyst',
      comment: 'from the terminal',
      identity: { subject: 'alice' },
    });
  });

  it('persistence removal and Restore from the page are recorded as the signed-in analyst; a viewer has neither form', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy({ persistenceReviewTimeout: '10m' }));
      const workflowId = handle.workflowId;
      await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'awaiting-persistence-review',
        60_000,
      );
      const link = reviewLink(workflowId, { publicUrl: ingest.url, secret: ingest.linkSecret, ttlMs: 10 * 60_000 });

      const viewer = await browser.newContext();
      try {
        const page = await viewer.newPage();
        await page.goto(link);
        await signInAtProvider(page, 'victor');
        await page.waitForURL((url) => url.pathname === `/review/${workflowId}`);
        expect(await page.locator('form[data-form=persistence]').count()).toBe(0);
        expect(await page.locator('form[data-form=restore]').count()).toBe(0);
      } finally {
        await viewer.close();
      }

      const approver = await browser.newContext();
      try {
        const page = await approver.newPage();
        await page.goto(link);
        await signInAtProvider(page, 'alice');
        await page.waitForURL((url) => url.pathname === `/review/${workflowId}`);
        // No free-text name on either form: the signed-in analyst decides.
        expect(await page.locator('form[data-form=persistence] input[name=analyst]').count()).toBe(0);
        await page.locator('form[data-form=persistence] input[name=entry][value=p1]').check();
        await Promise.all([
          page.waitForURL(/persistence=remove/),
          page.locator('form[data-form=persistence]').getByRole('button', { name: 'Remove' }).click(),
        ]);
        const closed = (await handle.result()) as IncidentStatus;
        expect(closed.persistenceRemoval?.proposals[0]).toMatchObject({
          state: 'removed',
          decidedBy: { analyst: 'Alice Analyst', identity: { issuer, subject: 'alice' } },
        });

        await page.reload();
        await Promise.all([
          page.waitForURL(/restore=/),
          page.locator('form[data-form=restore]').getByRole('button', { name: 'Restore' }).click(),
        ]);
        const restoreId = new URL(page.url()).searchParams.get('restore')!;
        const restored = (await client.workflow.getHandle(restoreId).result()) as RestoreStatus;
        expect(restored.outcome).toBe('restored');
        expect(restored.requestedBy).toMatchObject({
          analyst: 'Alice Analyst',
          identity: { issuer, subject: 'alice' },
        });
        // Temporal keeps the analyst as the one who started the restore.
        const history = await client.workflow.getHandle(restoreId).fetchHistory();
        expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.identity).toBe(
          `Alice Analyst <alice@soc.example.test> (oidc alice @ ${issuer})`,
        );
      } finally {
        await approver.close();
      }
    });
  });

  it('sends a browser without a session to the provider, and refuses the ingest token on the page and the review API', async () => {
    const workflowId = await startIncident();
    const page = await browser.newPage();
    try {
      await page.goto(`${ingest.url}/review`);
      await page.waitForURL(new RegExp(`^${issuer}/`));
    } finally {
      await page.close();
    }
    // The old sign-in with the ingest token is gone.
    const login = await fetch(`${ingest.url}/review/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ingest.token }).toString(),
      redirect: 'manual',
    });
    expect(login.status).toBe(404);
    expect((await ingest.get(`/v1/incidents/${workflowId}`)).status).toBe(401);
    const review = await ingest.post(`/v1/incidents/${workflowId}/review`, { decision: 'approve', analyst: 'mallory' });
    expect(review.status).toBe(401);
    expect((await ingest.get(`/v1/incidents/${workflowId}`, { authorization: 'Bearer not-a-real-token' })).status).toBe(
      401,
    );
    await client.workflow.getHandle(workflowId).terminate('test done');
  });
});
