/**
 * The report and review-request emails, sent through a real SMTP server and read back with
 * mailparser: what the SOC reads (subject, both parts, reasons, every action's result), that alert
 * text can never become markup, and that no secret leaves in a mail.
 */
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig } from '../../common/config';
import type { IncidentStatus } from '../../common/incident-status';
import { createNotificationActivities, type NotificationOptions } from '../../activities/notification';
import { HOSTILE, pendingReviewIncident, remediatedIncident } from './incident';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './smtp-sink';

const SECRETS = {
  VT_API_KEY: 'vt-secret-key-123456',
  MALWAREBAZAAR_API_KEY: 'mb-secret-key-654321',
  SPAWNGUARD_INGEST_TOKEN: 'ingest-secret-token-abcdef',
  SPAWNGUARD_LINK_SECRET: 'link-signing-secret-fedcba',
  TEMPORAL_API_KEY: 'temporal-cloud-secret-key',
};

let sink: SmtpSink;
beforeEach(async () => {
  sink = await startSmtpSink();
});
afterEach(async () => {
  await sink.close();
});

function activities(env: Record<string, string> = {}, options: NotificationOptions = {}) {
  const config = loadConfig({
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(sink.port),
    MAIL_FROM: 'spawnguard <spawnguard@example.test>',
    MAIL_TO: 'soc@example.test, oncall@example.test',
    SPAWNGUARD_TEMPORAL_UI_URL: 'http://temporal.example.test:8233',
    SPAWNGUARD_PUBLIC_URL: 'https://spawnguard.example.test',
    ...SECRETS,
    ...env,
  });
  return createNotificationActivities(config, options);
}

async function sendReport(status: IncidentStatus): Promise<ReceivedMail> {
  await activities().sendIncidentReport({ status });
  const [mail] = await sink.waitForMail(1);
  return mail!;
}

const textOf = (mail: ReceivedMail) => mail.parsed.text ?? '';
const htmlOf = (mail: ReceivedMail) => (typeof mail.parsed.html === 'string' ? mail.parsed.html : '');

/** The HTML as a reader sees it: tags dropped, entities decoded. */
const visibleText = (html: string) =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe('incident report', () => {
  it('has a subject naming verdict, pair, host and outcome, and goes to every recipient', async () => {
    const mail = await sendReport(remediatedIncident());
    expect(mail.parsed.subject).toBe(
      '[spawnguard] MALICIOUS WINWORD.EXE → invoice.exe on WEB01.contoso.local: remediated',
    );
    expect(mail.parsed.from?.value).toEqual([{ name: 'spawnguard', address: 'spawnguard@example.test' }]);
    expect(mail.envelopeTo.sort()).toEqual(['oncall@example.test', 'soc@example.test']);
    expect(mail.parsed.headers.get('x-spawnguard-incident')).toBe('incident-web01-4312-6120');
  });

  it('carries the same report as plain text and as HTML: verdict, score, every reason, every action result', async () => {
    const status = remediatedIncident();
    const mail = await sendReport(status);
    const text = textOf(mail);
    const html = htmlOf(mail);
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(text).not.toMatch(/<(h1|h2|p|table|ul|li)[ >]/);
    for (const part of [text, visibleText(html)]) {
      expect(part).toContain('MALICIOUS — score 92/100, confidence high.');
      for (const reason of status.decision!.reasons) {
        const weight = reason.weight > 0 ? `+${reason.weight}` : String(reason.weight);
        expect(part).toContain(`[${weight}] ${reason.code}: ${reason.evidence}`);
      }
      expect(part).toContain('terminate-parent — PID 4312 WINWORD.EXE: done (terminated 4312); verified on the host');
      expect(part).toContain(
        'quarantine-child — PID 6120 C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe: done; verified on the host',
      );
      expect(part).toContain('logoff-user — CONTOSO\\bob: skipped: no-session');
      expect(part).toContain(
        'fetch-persistence — WEB01: FAILED: Get-ScheduledTask: Access is denied [access-denied]; NOT verified',
      );
      expect(part).toContain('Remediated: the planned actions ran on the host and were verified.');
      expect(part).toContain(`Approved by alice at 2026-03-01T10:20:00Z: "confirmed beacon ${HOSTILE}"`);
    }
  });

  it('shows the quarantine location and both hashes, persistence referencing the binary first, and the next steps', async () => {
    const status = remediatedIncident();
    const quarantine = status.actions[1]!.quarantine!;
    const text = textOf(await sendReport(status));
    expect(text).toContain(`Quarantined to: ${quarantine.quarantinePath}`);
    expect(text).toContain(`SHA-256 before: ${quarantine.sha256Before}`);
    expect(text).toContain(`SHA-256 after:  ${quarantine.sha256After}`);
    expect(text).toContain('hashes match');

    const flagged = text.indexOf(`run-key HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run Updater`);
    const other = text.indexOf('service HKLM\\SYSTEM\\CurrentControlSet\\Services\\Spooler');
    expect(flagged).toBeGreaterThan(-1);
    expect(other).toBeGreaterThan(flagged);
    expect(text).toContain('— REFERENCES C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe');

    for (const step of [
      `Review the quarantined file(s): ${quarantine.quarantinePath}.`,
      'Check files the process created or changed on WEB01.contoso.local.',
      'Look for other indicators of compromise on WEB01.contoso.local.',
      'Review the event logs for lateral movement or privilege escalation.',
      'Confirm the user CONTOSO\\bob was told.',
    ]) {
      expect(text).toContain(step);
    }
  });

  it('says which reputation sources were consulted and which were not, and links the incident in the Temporal UI', async () => {
    const mail = await sendReport(remediatedIncident());
    const text = textOf(mail);
    expect(text).toContain('virustotal: 48 malicious, 2 suspicious of 75 (trojan.cobaltstrike/beacon)');
    expect(text).toContain('malwarebazaar: not consulted — MALWAREBAZAAR_API_KEY is not set');
    const link = 'http://temporal.example.test:8233/namespaces/default/workflows/incident-web01-4312-6120';
    expect(text).toContain(`Incident in the Temporal UI: ${link}`);
    expect(htmlOf(mail)).toContain(`<a href="${link}">`);
  });

  it('flags any quarantine whose hash changed', async () => {
    const status = remediatedIncident();
    status.actions[1]!.quarantine!.sha256After = '0'.repeat(64);
    expect(textOf(await sendReport(status))).toContain(
      'HASHES DIFFER: the quarantined file is not the file that was moved',
    );
  });

  it('never lets alert text become markup: hostile strings are escaped in HTML and kept verbatim in text', async () => {
    const mail = await sendReport(remediatedIncident());
    const html = htmlOf(mail);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/onerror=alert\(1\)>/);
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(textOf(mail)).toContain(`invoice.exe -c "${HOSTILE}"`);
  });

  it('keeps a hostile process name from adding headers through the subject', async () => {
    const status = remediatedIncident();
    status.alert.child.name = 'evil.exe\r\nBcc: attacker@example.test';
    const mail = await sendReport(status);
    // The line break is shown, escaped, in the subject: it never reaches the header as one.
    expect(mail.parsed.subject).toContain('evil.exe\\r\\nBcc: attacker@example.test');
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.envelopeTo).not.toContain('attacker@example.test');
  });

  it('shows hidden characters of alert text as escapes: no planted line, no bidi override, in text, HTML and subject', async () => {
    const status = remediatedIncident();
    status.alert.ruleName = 'Office child\nReview page: http://evil.example/approve';
    status.alert.child.name = 'invoice\u202Efdp.exe';
    status.alert.child.commandLine = 'invoice.exe\r\nReview page: http://evil.example/cmd';
    const mail = await sendReport(status);
    const text = textOf(mail);
    const html = htmlOf(mail);
    // No line of either part starts with the attacker's text.
    const planted = (body: string) =>
      body.split(/\n|<br>|<p>|<td[^>]*>|<pre[^>]*>/).filter((l) => /^\s*Review page: http:\/\/evil/.test(l));
    expect(planted(text)).toEqual([]);
    expect(planted(html)).toEqual([]);
    expect(text).toContain('Office child\\nReview page: http://evil.example/approve');
    expect(text).toContain('invoice.exe\\r\\nReview page: http://evil.example/cmd');
    for (const body of [text, html, mail.parsed.subject ?? '']) {
      expect(body).toContain('invoice\\u{202E}fdp.exe');
      expect(body).not.toContain('\u202E');
    }
  });

  it('names an analyst who signed in with the identity the provider vouched for', async () => {
    const status = remediatedIncident();
    status.review = {
      ...status.review,
      analyst: 'Alice Analyst',
      identity: { issuer: 'https://login.example.test', subject: 'alice', email: 'alice@example.test' },
    };
    const mail = await sendReport(status);
    for (const part of [textOf(mail), visibleText(htmlOf(mail))]) {
      expect(part).toContain(
        'Approved by Alice Analyst (signed in as alice@example.test at https://login.example.test) at 2026-03-01T10:20:00Z',
      );
    }
  });

  it('tells the SOC at once of a malicious alert on a host whose worker does not answer, saying nothing was done yet', async () => {
    const status = remediatedIncident({ phase: 'investigating', outcome: null, actions: [] });
    status.preliminaryDecision = status.decision!;
    status.decision = null;
    status.hostWorker = {
      answered: false,
      checkedAt: '2026-03-01T10:16:00Z',
      message: 'no host worker for WEB01.contoso.local answered on spawnguard-host-web01-control within 30s',
      queue: 'spawnguard-host-web01',
    };
    await activities().sendHostMissingNotice({ status });
    const [mail] = await sink.waitForMail(1);
    expect(mail!.parsed.subject).toMatch(
      /^\[spawnguard\] MALICIOUS on WEB01\.contoso\.local, host worker not answering: /,
    );
    for (const part of [textOf(mail!), visibleText(htmlOf(mail!))]) {
      expect(part).toContain('Nothing has been done on the host yet');
      expect(part).toContain('no host worker for WEB01.contoso.local answered');
      expect(part).toMatch(/Preliminary verdict \(alert and reputation only\)/);
      expect(part).toContain('score 92/100');
    }
  });

  it('puts a LAB banner above everything else when the actions ran on the simulated host', async () => {
    const mail = await sendReport(remediatedIncident({ lab: true }));
    expect(mail.parsed.subject).toMatch(/^\[spawnguard\] \[LAB\] /);
    const text = textOf(mail);
    const banner = text.indexOf('*** LAB INCIDENT — the host actions ran against the simulated lab host');
    expect(banner).toBeGreaterThan(-1);
    expect(banner).toBeLessThan(text.indexOf('Outcome'));
    const html = htmlOf(mail);
    expect(html.indexOf('LAB INCIDENT')).toBeGreaterThan(-1);
    expect(html.indexOf('LAB INCIDENT')).toBeLessThan(html.indexOf('<h2>'));

    const real = await activities().sendIncidentReport({ status: remediatedIncident() });
    expect(real.messageId).toBeTruthy();
    const [, second] = await sink.waitForMail(2);
    expect(textOf(second!)).not.toContain('LAB');
    expect(second!.parsed.subject).not.toContain('[LAB]');
  });

  it('reports a host that could not be reached, saying nothing was done there', async () => {
    const text = textOf(
      await sendReport(remediatedIncident({ outcome: 'host-unreachable', actions: [], persistence: [] })),
    );
    expect(text).toContain('HOST UNREACHABLE: no spawnguard host worker answered on task queue spawnguard-host-web01');
    expect(text).toContain('No action was taken on the host.');
  });

  it('counts a storm of later alerts exactly and lists the first and latest, and shows approvals not applied', async () => {
    const later = (n: number) => ({ alertId: `storm-${n}`, source: 'elastic', receivedAt: '2026-03-01T10:16:00Z' });
    const status = remediatedIncident({
      duplicates: [
        ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(later),
        ...[590, 591, 592, 593, 594, 595, 596, 597, 598, 599].map(later),
      ],
      duplicateCount: 600,
      alertsResent: 19_399,
    });
    status.review = {
      ...status.review,
      notApplied: [
        {
          decision: 'approve',
          analyst: 'eager-eve',
          comment: null,
          at: '2026-03-01T10:15:30Z',
          via: 'signal',
          why: 'arrived before the verdict: no review was open yet',
        },
      ],
    };
    const text = textOf(await sendReport(status));
    expect(text).toContain('later alerts for this incident: 600 distinct (19399 resends); first: storm-0 (elastic)');
    expect(text).toContain('latest: storm-590 (elastic)');
    expect(text).toContain('Approve by eager-eve at 2026-03-01T10:15:30Z not applied: arrived before the verdict');
  });

  it('contains no secret from the configuration', async () => {
    const mail = await sendReport(remediatedIncident());
    for (const secret of Object.values(SECRETS)) expect(mail.raw).not.toContain(secret);
  });
});

describe('review request', () => {
  it('tells the analyst how to approve or reject: review page, CLI and HTTP', async () => {
    const reviewUrl = 'https://spawnguard.example.test/review/incident-web01-4312-6120?token=signed.abc';
    await activities().sendReviewRequest({ status: pendingReviewIncident(), reviewUrl });
    const [mail] = await sink.waitForMail(1);
    expect(mail!.parsed.subject).toBe(
      '[spawnguard] Review needed: SUSPICIOUS WINWORD.EXE → invoice.exe on WEB01.contoso.local',
    );
    const text = textOf(mail!);
    expect(text).toContain('Please decide before 2026-03-02T10:16:00Z');
    expect(text).toContain(`Review page: ${reviewUrl}`);
    expect(htmlOf(mail!)).toContain(`<a href="${reviewUrl}">`);
    expect(text).toContain(
      'spawnguard review approve incident-web01-4312-6120 --analyst "<your name>" --comment "<why>"',
    );
    expect(text).toContain(
      'spawnguard review reject incident-web01-4312-6120 --analyst "<your name>" --comment "<why>"',
    );
    expect(text).toContain('POST https://spawnguard.example.test/v1/incidents/incident-web01-4312-6120/review');
    // What approval would do, and the evidence behind it.
    expect(text).toContain('quarantine-child — PID 6120 invoice.exe');
    expect(text).toContain('[+45] vt-malicious: 48 of 75 VirusTotal engines flag invoice.exe');
  });

  it('uses the configured link signer when the request carries no link, and falls back to the CLI without either', async () => {
    const signed = (id: string) => `https://spawnguard.example.test/review/${encodeURIComponent(id)}?token=from-signer`;
    await activities({}, { reviewLink: signed }).sendReviewRequest({ status: pendingReviewIncident() });
    await activities().sendReviewRequest({ status: pendingReviewIncident() });
    const [withSigner, without] = await sink.waitForMail(2);
    expect(textOf(withSigner!)).toContain(
      'Review page: https://spawnguard.example.test/review/incident-web01-4312-6120?token=from-signer',
    );
    expect(textOf(without!)).not.toContain('Review page');
    expect(textOf(without!)).toContain('spawnguard review approve incident-web01-4312-6120');
  });

  it('prints no CLI command for a workflow ID a shell would interpret', async () => {
    const status = pendingReviewIncident({ workflowId: 'incident-$(rm -rf ~)' });
    await activities().sendReviewRequest({ status });
    const [mail] = await sink.waitForMail(1);
    const text = textOf(mail!);
    expect(text).not.toContain('spawnguard review approve');
    expect(text).toContain('run `spawnguard review list`');
    expect(text).toContain('/v1/incidents/incident-%24(rm%20-rf%20~)/review');
  });

  it('marks a reminder, and turns into an escalation without approve instructions once the review timed out', async () => {
    await activities().sendReviewRequest({ status: pendingReviewIncident(), reminder: true });
    const timedOut = pendingReviewIncident();
    timedOut.review = { ...timedOut.review, status: 'timed-out', decidedAt: '2026-03-02T10:16:00Z' };
    await activities().sendReviewRequest({ status: timedOut, reminder: true });
    const [reminder, escalation] = await sink.waitForMail(2);
    expect(reminder!.parsed.subject).toMatch(/^\[spawnguard\] Reminder — review needed: /);
    expect(escalation!.parsed.subject).toMatch(/^\[spawnguard\] Escalation — review not answered: /);
    expect(textOf(escalation!)).toContain('No analyst decided by 2026-03-02T10:16:00Z');
    expect(textOf(escalation!)).not.toContain('spawnguard review approve');
  });

  it('refuses a review link that is not http(s), non-retryably, and sends nothing', async () => {
    await expect(
      activities().sendReviewRequest({ status: pendingReviewIncident(), reviewUrl: 'javascript:alert(1)' }),
    ).rejects.toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
    expect(sink.received).toHaveLength(0);
  });
});

describe('delivery', () => {
  it('refuses a request that is not an incident status, non-retryably', async () => {
    const failure = await activities()
      .sendIncidentReport({ status: { workflowId: 'x' } as unknown as IncidentStatus })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
    expect(sink.received).toHaveLength(0);
  });

  it('fails non-retryably with MailNotConfigured when no recipient is configured', async () => {
    await expect(
      activities({ MAIL_TO: '' }).sendIncidentReport({ status: remediatedIncident() }),
    ).rejects.toMatchObject({
      type: 'MailNotConfigured',
      nonRetryable: true,
      message: expect.stringMatching(/MAIL_TO/),
    });
  });

  it('fails retryably while the SMTP server is down', async () => {
    await sink.close();
    const failure = await activities()
      .sendIncidentReport({ status: remediatedIncident() })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ type: 'MailDeliveryError', nonRetryable: false });
    expect((failure as Error).message).toMatch(/smtp:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
    sink = await startSmtpSink();
  });
});

describe('SMTP with credentials', () => {
  const credentials = { user: 'spawnguard', password: 'smtp-p@ss:word/1' };

  it('upgrades with STARTTLS before authenticating (SMTP_URL)', async () => {
    await sink.close();
    sink = await startSmtpSink({ starttls: true, credentials });
    // The built-in certificate is self-signed: the URL's own query tells nodemailer to accept it.
    const url = `smtp://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${sink.port}/?tls.rejectUnauthorized=false`;
    await activities({ SMTP_HOST: '', SMTP_URL: url }).sendIncidentReport({ status: remediatedIncident() });
    const [mail] = await sink.waitForMail(1);
    expect(sink.authAttempts).toEqual([{ user: credentials.user, password: credentials.password, secure: true }]);
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe(credentials.user);
    expect(mail!.raw).not.toContain(credentials.password);
  });

  it('never sends credentials to a server that does not offer STARTTLS (SMTP_HOST/SMTP_USER)', async () => {
    await sink.close();
    sink = await startSmtpSink({ starttls: false, credentials });
    const failure = await activities({ SMTP_USER: credentials.user, SMTP_PASSWORD: credentials.password })
      .sendIncidentReport({ status: remediatedIncident() })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as Error).message).toMatch(/STARTTLS/i);
    expect((failure as Error).message).not.toContain(credentials.password);
    expect(sink.authAttempts).toEqual([]);
    expect(sink.received).toEqual([]);
  });

  it('fails non-retryably with MailAuthError when the server refuses the credentials, without echoing the password', async () => {
    await sink.close();
    sink = await startSmtpSink({ starttls: true, credentials });
    const wrong = 'not-the-password-42';
    const url = `smtp://${credentials.user}:${wrong}@127.0.0.1:${sink.port}/?tls.rejectUnauthorized=false`;
    const failure = await activities({ SMTP_HOST: '', SMTP_URL: url })
      .sendIncidentReport({ status: remediatedIncident() })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ type: 'MailAuthError', nonRetryable: true });
    expect((failure as Error).message).toContain(`smtp://${credentials.user}@127.0.0.1:${sink.port}`);
    expect((failure as Error).message).not.toContain(wrong);
    expect(sink.received).toEqual([]);
  });
});
