/**
 * End to end, as a user runs it: alerts over HTTP → the playbook on the real dev server → the lab
 * host's actions → report emails on a real SMTP server (the stack's mail catcher); the suspicious
 * incident approved from the review page in Chromium; and the audit trail found in the Temporal UI
 * by its search attributes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { chromium, type Browser } from 'playwright-core';
import { DEMO_DIRECTORY, startDevStack, type DevStack } from '../../client/dev-stack';
import type { IncidentStatus } from '../../common/incident-status';
import { startFakeReputationApi, VALID_KEY, type FakeReputationApi } from '../enrichment/fake-reputation-api';
import { historyText } from '../support/histories';
import { testAddress, testClient } from '../support/temporal';
import { waitFor } from '../support/playbook-harness';

jest.setTimeout(180_000);

let stack: DevStack;
let browser: Browser;
let dataDirectory: string;
const lines: string[] = [];

/** Configured secrets: none may ever appear in workflow history. */
const SECRETS = {
  ingestToken: 'e2e-ingest-token-5f2c9a',
  linkSecret: 'e2e-link-secret-77ab1e',
  reputationKey: VALID_KEY,
  smtpPassword: 'e2e-smtp-password-3d81f4',
};
/** Not a secret (the mailer names it in its logs and errors), but the catcher only takes mail from it. */
const SMTP_USER = 'e2e-smtp-user';
const HOUR_MS = 3_600_000;
let reputationApi: FakeReputationApi;
let taskQueue: string;

beforeAll(async () => {
  reputationApi = await startFakeReputationApi();
  taskQueue = `e2e-central-${randomUUID()}`;
  dataDirectory = mkdtempSync(join(tmpdir(), 'spawnguard-e2e-'));
  stack = await startDevStack({
    dataDirectory,
    temporal: { address: testAddress(), uiUrl: process.env.SPAWNGUARD_TEST_TEMPORAL_UI_URL! },
    // Its own central queue: other test files share this dev server.
    taskQueue,
    ports: { ingest: 0, smtp: 0, mailWeb: 0 },
    env: {
      ...process.env,
      MAIL_TO: 'soc@example.test',
      // Shorter than the default 24 h, so the review link's lifetime shows it follows the setting.
      SPAWNGUARD_REVIEW_TIMEOUT: '3h',
      // The stack's mail catcher then requires SMTP AUTH with these, and the workers log in with them.
      SMTP_USER,
      SMTP_PASSWORD: SECRETS.smtpPassword,
      SPAWNGUARD_INGEST_TOKEN: SECRETS.ingestToken,
      SPAWNGUARD_LINK_SECRET: SECRETS.linkSecret,
      VT_API_KEY: SECRETS.reputationKey,
      VT_API_URL: reputationApi.vtUrl,
      // The local fake takes the same key for both APIs.
      MALWAREBAZAAR_API_KEY: SECRETS.reputationKey,
      MALWAREBAZAAR_API_URL: reputationApi.mbUrl,
    },
    log: (line) => lines.push(line),
    ingestLog: { write: (line: string) => lines.push(line.trimEnd()) },
  });
  stack.failed.catch((err: unknown) => lines.push(`FAILED ${(err as Error).stack}`));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});

afterAll(async () => {
  if (process.env.SPAWNGUARD_E2E_LOG) console.log(lines.join('\n'));
  await browser?.close();
  await stack?.stop();
  await reputationApi?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

const headers = () => ({ authorization: `Bearer ${stack.ingestToken}`, 'content-type': 'application/json' });

async function send(sample: 'malicious' | 'suspicious' | 'benign'): Promise<string> {
  const body = readFileSync(join(DEMO_DIRECTORY, 'alerts', `${sample}.json`), 'utf8');
  const response = await fetch(stack.urls.ingest, { method: 'POST', headers: headers(), body });
  expect(response.status).toBe(202);
  return ((await response.json()) as { workflowId: string }).workflowId;
}

async function status(workflowId: string): Promise<IncidentStatus> {
  const response = await fetch(`${new URL(stack.urls.ingest).origin}/v1/incidents/${encodeURIComponent(workflowId)}`, {
    headers: headers(),
  });
  return (await response.json()) as IncidentStatus;
}

/** `spawnguard explain ALERT --facts FACTS` with the stack's reputation sources and lists, as an analyst runs it. */
function runExplain(
  alertFile: string,
  factsFile: string,
  treeFile: string,
  relatedFile: string,
): Promise<Record<string, unknown>> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    VT_API_KEY: SECRETS.reputationKey,
    VT_API_URL: reputationApi.vtUrl,
    MALWAREBAZAAR_API_KEY: SECRETS.reputationKey,
    MALWAREBAZAAR_API_URL: reputationApi.mbUrl,
    SPAWNGUARD_ALLOWLIST: join(DEMO_DIRECTORY, 'allowlist.txt'),
    SPAWNGUARD_DENYLIST: join(DEMO_DIRECTORY, 'denylist.txt'),
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        'bin/spawnguard.js',
        'explain',
        alertFile,
        '--facts',
        factsFile,
        '--process-tree',
        treeFile,
        '--related',
        relatedFile,
      ],
      { env, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`explain failed: ${stderr}`));
        const { verdict, score, confidence, reasons, plan } = JSON.parse(stdout) as Record<string, unknown>;
        resolve({ verdict, score, confidence, reasons, plan });
      },
    );
  });
}

/** The mails about this incident (its header): another incident's report may name it among related ones. */
const mailsAbout = (workflowId: string) =>
  stack.mail.messages.filter((m) => m.parsed.headers.get('x-spawnguard-incident') === workflowId);

describe('the local stack, end to end', () => {
  let malicious: string;
  let suspicious: string;
  let benign: string;

  it('takes the three demo alerts over HTTP', async () => {
    malicious = await send('malicious');
    suspicious = await send('suspicious');
    benign = await send('benign');
    expect(new Set([malicious, suspicious, benign]).size).toBe(3);
  });

  it('malicious → remediated on the (lab) host, validated, and reported by email', async () => {
    // Remediated, reported, and waiting for an analyst's word on the dropper's Run key.
    const done = await waitFor(
      () => status(malicious),
      (s) => s.phase === 'awaiting-persistence-review',
      120_000,
    );
    expect(done.outcome).toBe('remediated');
    expect(done.lab).toBe(true);
    const acted = done.actions.filter((a) => a.status !== 'skipped');
    expect(acted.map((a) => a.action)).toEqual(
      expect.arrayContaining(['terminate-child', 'quarantine-child', 'logoff-user', 'fetch-persistence']),
    );
    expect(acted.every((a) => (a.status === 'done' || a.status === 'already-done') && a.validated === true)).toBe(true);
    // Word is Microsoft-signed: terminated, never quarantined.
    expect(done.actions.find((a) => a.action === 'quarantine-parent')?.status).toBe('skipped');
    expect(done.persistence[0]).toMatchObject({ name: 'InvoiceUpdater', referencesTarget: true });
    expect(done.persistenceRemoval?.proposals).toEqual([
      expect.objectContaining({ id: 'p1', kind: 'run-key', name: 'InvoiceUpdater', state: 'proposed' }),
    ]);

    const [report] = await waitFor(
      async () => mailsAbout(malicious),
      (m) => m.length > 0,
      30_000,
    );
    expect(report!.envelopeTo).toEqual(['soc@example.test']);
    expect(report!.parsed.subject).toMatch(/remediated/i);
    expect(report!.parsed.text).toMatch(/LAB/);
    expect(report!.parsed.text).toContain('invoice-0423.exe');
    expect(report!.parsed.text).toContain('denylisted');
  });

  it('benign → closed with no action and no email', async () => {
    const done = await waitFor(
      () => status(benign),
      (s) => s.phase === 'closed',
      60_000,
    );
    expect(done.outcome).toBe('closed-benign');
    expect(done.actions).toEqual([]);
    expect(mailsAbout(benign)).toEqual([]);
  });

  it('suspicious → waits; approved on the review page (from the email link) → remediated and reported', async () => {
    const waiting = await waitFor(
      () => status(suspicious),
      (s) => s.phase === 'awaiting-review',
      60_000,
    );
    expect(waiting.decision?.verdict).toBe('suspicious');
    expect(waiting.actions).toEqual([]);

    const [request] = await waitFor(
      async () => mailsAbout(suspicious),
      (m) => m.length > 0,
      30_000,
    );
    const link = /https?:\/\/\S+\/review\/\S+\?token=[^\s"<>)]+/.exec(request!.parsed.text ?? '')?.[0];
    expect(link).toBeDefined();
    // The link outlives the review (SPAWNGUARD_REVIEW_TIMEOUT=3h) by as long again: 6 h from signing.
    const expiresAt = Number(new URL(link!).searchParams.get('token')?.split('.')[1]);
    expect(expiresAt).toBeGreaterThan(Date.now() + 6 * HOUR_MS - 5 * 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 6 * HOUR_MS);

    // The page checked for accessibility basics with axe-core (its script is let in past the page's
    // CSP for the check only).
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const accessibility = async () => {
      await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
      const results = await page.evaluate(() =>
        (
          globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string | null }[] }> } }
        ).axe.run(),
      );
      return results.violations.map((v) => `${v.id} (${v.impact})`);
    };
    try {
      await page.goto(link!);
      expect(await page.locator('[data-field=verdict]').textContent()).toBe('suspicious');
      // Everything the email has: hashes, signatures, each reputation source, the audit trail's link.
      const before = await page.locator('body').innerText();
      expect(before).toMatch(/Parent file C:\\Users\\bob\\Downloads\\netdiag-helper\.exe, SHA-256 [0-9a-f]{64}/);
      expect(before).toMatch(/Child file C:\\Windows\\System32\\cmd\.exe, SHA-256 [0-9a-f]{64}/);
      expect(before).toMatch(/signature unsigned/);
      expect(before).toMatch(/Session\s+session 3/);
      expect(before).toMatch(/virustotal: /);
      expect(before).toMatch(/malwarebazaar: /);
      expect(before).toContain('Sign-in is off (zero-setup mode)');
      expect(await page.locator('[data-field=temporal-link]').getAttribute('href')).toBe(
        `${stack.urls.temporalUi}/namespaces/default/workflows/${encodeURIComponent(suspicious)}`,
      );
      expect(await accessibility()).toEqual([]);
      if (process.env.SPAWNGUARD_SCREENSHOTS)
        await page.screenshot({ path: `${process.env.SPAWNGUARD_SCREENSHOTS}/review-before.png`, fullPage: true });

      await page.getByLabel(`Analyst for ${suspicious}`).fill('alice');
      await page.getByLabel(`Comment for ${suspicious}`).fill('not a tool we use');
      await Promise.all([
        page.waitForURL(/\/review\/.+\?token=.*decided=approve/),
        page.getByRole('button', { name: 'Approve' }).click(),
      ]);
      expect(await page.locator('[data-field=confirmation]').textContent()).toBe(
        'Recorded: you approved this incident.',
      );
      expect(await page.locator('[data-field=review]').textContent()).toMatch(/^Approved by alice/);
      // Once the remediation has run, the page shows each action's result and its validation.
      const after = await waitFor(
        async () => {
          await page.reload();
          return page.locator('body').innerText();
        },
        (text) => /phase closed/.test(text),
        120_000,
      );
      expect(after).toMatch(/outcome remediated/);
      expect(after).toMatch(
        /^(terminate|quarantine)-(parent|child) \[D3FEND D3-(PT|FEV) [^\]]+\] — .*: (done|already done).*; verified on the host$/m,
      );
      expect(after).not.toMatch(/NOT verified|FAILED/);
      expect(await accessibility()).toEqual([]);
      if (process.env.SPAWNGUARD_SCREENSHOTS)
        await page.screenshot({ path: `${process.env.SPAWNGUARD_SCREENSHOTS}/review-after.png`, fullPage: true });
    } finally {
      await context.close();
    }

    const done = await waitFor(
      () => status(suspicious),
      (s) => s.phase === 'closed',
      120_000,
    );
    expect(done.outcome).toBe('remediated');
    expect(done.review).toMatchObject({ status: 'approved', analyst: 'alice', comment: 'not a tool we use' });
    const reports = await waitFor(
      async () => mailsAbout(suspicious),
      (m) => m.length >= 2,
      30_000,
    );
    expect(reports.at(-1)!.parsed.text).toContain('alice');
  });

  it('the page shows the process tree and related incidents; an approved removal deletes the Run key, and Restore puts file and key back', async () => {
    const labHost = () =>
      JSON.parse(readFileSync(join(dataDirectory, 'lab-host.json'), 'utf8')) as {
        files: { path: string; sha256: string }[];
        persistence: { kind: string; name: string; command: string }[];
      };
    const dropper = 'C:\\Users\\alice\\AppData\\Local\\Temp\\invoice-0423.exe';
    const runKey = () => labHost().persistence.find((e) => e.kind === 'run-key' && e.name === 'InvoiceUpdater');
    expect(runKey()).toBeDefined();
    expect(labHost().files.some((f) => f.path === dropper)).toBe(false);

    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      // The analyst signs in with the ingest token (zero-setup mode) and opens the incident.
      await page.goto(`${new URL(stack.urls.ingest).origin}/review`);
      await page.getByLabel('Ingest token').fill(stack.ingestToken);
      await Promise.all([page.waitForURL(/\/review$/), page.getByRole('button', { name: 'Sign in' }).click()]);
      await page.goto(`${new URL(stack.urls.ingest).origin}/review/${encodeURIComponent(malicious)}`);
      const text = await page.locator('body').innerText();
      // The process tree from the host, and the related incidents (the suspicious one on WEB01).
      expect(text).toMatch(/Process tree \(from the host\)/);
      expect(text).toMatch(
        /Ancestry: .*explorer\.exe \(PID 3900\).* → WINWORD\.EXE \(PID 4312\).* → invoice-0423\.exe \(PID 6120\)/,
      );
      expect(text).toMatch(/Descendants of invoice-0423\.exe: conhost\.exe \(PID 6204\)/);
      expect(text).toMatch(/Related incidents/);
      expect(text).toMatch(/ATT&CK/);
      expect(text).toMatch(/p1: run-key .*InvoiceUpdater.* PROPOSED for removal/);

      await page.getByLabel(`Analyst for persistence removal of ${malicious}`).fill('alice');
      await Promise.all([
        page.waitForURL(/persistence=remove/),
        page.locator('form[data-form=persistence]').getByRole('button', { name: 'Remove' }).click(),
      ]);
      expect(await page.locator('[data-field=confirmation]').textContent()).toMatch(/removal approved/);
      const closed = await waitFor(
        () => status(malicious),
        (s) => s.phase === 'closed',
        60_000,
      );
      expect(closed.persistenceRemoval?.proposals[0]).toMatchObject({
        state: 'removed',
        decidedBy: { analyst: 'alice' },
        result: { status: 'done', verified: true, backup: { format: 'registry-value' } },
      });
      // Gone from the lab host, which kept its backup.
      expect(runKey()).toBeUndefined();
      // The second report says what was removed.
      await waitFor(
        async () => mailsAbout(malicious).filter((m) => /REMOVED \(backed up first\)/.test(m.parsed.text ?? '')),
        (m) => m.length > 0,
        30_000,
      );

      // A false positive after all: Restore from the page.
      await page.reload();
      await page.getByLabel(`Analyst for restore of ${malicious}`).fill('alice');
      await page.getByLabel(`Comment for restore of ${malicious}`).fill('IT says it is their updater');
      await Promise.all([
        page.waitForURL(/restore=/),
        page.locator('form[data-form=restore]').getByRole('button', { name: 'Restore' }).click(),
      ]);
      const restored = await waitFor(
        async () => {
          await page.reload();
          return page.locator('[data-field=restore]').innerText();
        },
        (t) => /: restored/.test(t),
        60_000,
      );
      expect(restored).toMatch(/restore-file .*invoice-0423\.exe.*: done.*verified on the host/);
      expect(restored).toMatch(/restore-persistence .*InvoiceUpdater: done.*verified on the host/);
    } finally {
      await context.close();
    }
    // On the lab host: the file is back at its path with its hash, and so is the Run key.
    expect(labHost().files.find((f) => f.path === dropper)?.sha256).toBe(
      '834918350a35b30844b3de64253af181b1243236dd2fee61daee489178c03473',
    );
    expect(runKey()?.command).toContain('invoice-0423.exe');
    const restoreMail = await waitFor(
      async () => stack.mail.messages.filter((m) => /RESTORE/.test(m.parsed.subject ?? '')),
      (m) => m.length > 0,
      30_000,
    );
    expect(restoreMail[0]!.parsed.text).toMatch(/Restored: everything asked for is back/);
    expect(restoreMail[0]!.parsed.text).toContain('alice');
  });

  it('the Temporal UI finds the incident by its search attributes and shows the host actions in its history', async () => {
    const uiUrl = stack.urls.temporalUi!;
    const page = await browser.newPage();
    try {
      const query = encodeURIComponent(`Verdict="malicious" AND Hostname="web01"`);
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`);
      await page.getByText(malicious).first().waitFor({ timeout: 60_000 });
      await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(malicious)}`);
      await page.getByText('suspiciousParentProcessPlaybook').first().waitFor({ timeout: 60_000 });
      const body = () => page.locator('body').innerText();
      await waitFor(body, (text) => /stopAndQuarantineProcess|terminateSession/.test(text), 60_000);
      if (process.env.SPAWNGUARD_SCREENSHOTS)
        await page.screenshot({
          path: `${process.env.SPAWNGUARD_SCREENSHOTS}/temporal-ui-incident.png`,
          fullPage: true,
        });
    } finally {
      await page.close();
    }
  });

  it('explain --facts reproduces the decision the workflow made for each demo incident', async () => {
    const client = await testClient();
    const scratch = mkdtempSync(join(tmpdir(), 'spawnguard-e2e-explain-'));
    try {
      for (const [sample, workflowId] of [
        ['malicious', malicious],
        ['suspicious', suspicious],
        ['benign', benign],
      ] as const) {
        const made = (await status(workflowId)).decision;
        // The host's facts, exactly as GetFileEnrichment.ps1 returned them to the enrichment workflow.
        const history = await client.workflow.getHandle(`${workflowId}-enrichment`).fetchHistory();
        const events = history.events ?? [];
        const scheduled = events.find(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'getFileEnrichment',
        );
        const completed = events.find(
          (e) =>
            e.activityTaskCompletedEventAttributes &&
            String(e.activityTaskCompletedEventAttributes.scheduledEventId) === String(scheduled?.eventId),
        );
        const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
        expect({ sample, recorded: Boolean(payload) }).toEqual({ sample, recorded: true });
        const facts = join(scratch, `${sample}-facts.json`);
        writeFileSync(facts, JSON.stringify(defaultPayloadConverter.fromPayload(payload!)));

        // …and what else the workflow knew: the host's process tree and the related incidents.
        const treeScheduled = events.find(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'getProcessTree',
        );
        const treeCompleted = events.find(
          (e) =>
            e.activityTaskCompletedEventAttributes &&
            String(e.activityTaskCompletedEventAttributes.scheduledEventId) === String(treeScheduled?.eventId),
        );
        const treePayload = treeCompleted?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
        expect({ sample, tree: Boolean(treePayload) }).toEqual({ sample, tree: true });
        const tree = join(scratch, `${sample}-tree.json`);
        writeFileSync(tree, JSON.stringify(defaultPayloadConverter.fromPayload(treePayload!)));
        const related = join(scratch, `${sample}-related.json`);
        writeFileSync(related, JSON.stringify((await status(workflowId)).related ?? []));

        const explained = await runExplain(join(DEMO_DIRECTORY, 'alerts', `${sample}.json`), facts, tree, related);
        expect({ sample, ...explained }).toEqual({
          sample,
          verdict: made?.verdict,
          score: made?.score,
          confidence: made?.confidence,
          reasons: made?.reasons,
          plan: made?.plan,
        });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('keeps every configured secret out of workflow history', async () => {
    const client = await testClient();
    const histories: string[] = [];
    for await (const execution of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      histories.push(historyText(history));
    }
    // The three incidents and their enrichment child workflows.
    expect(histories.length).toBeGreaterThanOrEqual(6);
    expect(histories.join('\n')).toContain('invoice-0423.exe'); // the scan reads the payloads
    for (const secret of Object.values(SECRETS)) expect(histories.filter((h) => h.includes(secret))).toEqual([]);
    // VirusTotal and MalwareBazaar (and their key) were really used.
    const asked = [...reputationApi.requests.keys()];
    expect(asked.some((k) => k.startsWith('mb:'))).toBe(true);
    expect(asked.some((k) => !k.startsWith('mb:'))).toBe(true);
    // The SMTP password was really used: every report came over a session that logged in with it,
    expect(stack.mail.messages.length).toBeGreaterThanOrEqual(3);
    expect(stack.mail.messages.map((m) => m.authenticatedUser)).toEqual(stack.mail.messages.map(() => SMTP_USER));
    // and the catcher takes nothing without it.
    const anonymous = nodemailer.createTransport({ host: '127.0.0.1', port: stack.mail.smtpPort, secure: false });
    const before = stack.mail.messages.length;
    await expect(
      anonymous.sendMail({ from: 'intruder@example.test', to: 'soc@example.test', subject: 'no auth', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 530 });
    expect(stack.mail.messages).toHaveLength(before);
  });
});
