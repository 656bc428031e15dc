/**
 * The local stack's mail catcher: the report sent to it through the real mailer shows up in its
 * web view (escaped, sandboxed), as JSON, as text, as the raw message and as a file; started with
 * credentials, it takes mail only from a session that logged in with exactly those.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { authenticatedSmtpUrl, startMailCatcher, type MailCatcher } from '../../client/mail-catcher';
import { loadConfig } from '../../common/config';
import { createNotificationActivities } from '../../activities/notification';
import { HOSTILE, remediatedIncident } from './incident';

let catcher: MailCatcher;
let folder: string;
beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'spawnguard-mail-'));
  catcher = await startMailCatcher({ smtpPort: 0, webPort: 0, folder, maxMessageBytes: 200_000 });
});
afterEach(async () => {
  await catcher.close();
});

function notifications() {
  return createNotificationActivities(loadConfig({ SMTP_URL: catcher.smtpUrl, MAIL_TO: 'soc@example.test' }));
}

async function get(path: string): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(`${catcher.webUrl}${path}`);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

it('lists received reports in its web view with the subject escaped, newest first', async () => {
  const status = remediatedIncident();
  status.alert.child.name = `evil${HOSTILE}.exe`;
  await notifications().sendIncidentReport({ status });
  await notifications().sendIncidentReport({ status: remediatedIncident({ lab: true }) });
  await catcher.waitForMessages(2);

  const page = await get('/');
  expect(page.status).toBe(200);
  expect(page.body).toContain('2 message(s)');
  expect(page.body).not.toContain('<script>');
  expect(page.body).toContain('evil&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
  expect(page.body.indexOf('[LAB]')).toBeLessThan(page.body.indexOf('evil&lt;script'));

  const list = JSON.parse((await get('/api/messages')).body) as { id: number; to: string[]; subject: string }[];
  expect(list.map((m) => m.id)).toEqual([1, 2]);
  expect(list[0]).toMatchObject({ to: ['soc@example.test'], subject: expect.stringContaining(`evil${HOSTILE}.exe`) });
  expect(list[1]!.subject).toMatch(/^\[spawnguard\] \[LAB\] /);
});

it('serves a message as sandboxed HTML, as text and raw, and writes it to the folder', async () => {
  await notifications().sendIncidentReport({ status: remediatedIncident() });
  const [mail] = await catcher.waitForMessages(1);

  const html = await get('/messages/1');
  expect(html.headers.get('content-type')).toMatch(/^text\/html/);
  expect(html.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
  expect(html.body).toContain('<h2>Verdict</h2>');

  const text = await get('/messages/1.txt');
  expect(text.body).toContain('MALICIOUS — score 92/100, confidence high.');

  const raw = await get('/messages/1.eml');
  expect(raw.headers.get('content-type')).toBe('message/rfc822');
  expect(raw.body).toBe(mail!.raw.toString('utf8'));
  expect(readFileSync(join(folder, '1.eml'), 'utf8')).toBe(raw.body);

  expect((await get('/messages/2')).status).toBe(404);
  expect((await get('/nothing-here')).status).toBe(404);
});

it('keeps mail files readable by their owner only, and answers only its own host names (no DNS rebinding)', async () => {
  const before = catcher.messages.length;
  await notifications().sendIncidentReport({ status: remediatedIncident() });
  const mail = (await catcher.waitForMessages(before + 1)).at(-1);
  expect(statSync(join(folder, `${mail!.id}.eml`)).mode & 0o777).toBe(0o600);
  expect(statSync(folder).mode & 0o777).toBe(0o700);
  const port = new URL(catcher.webUrl).port;
  const asHost = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const request = httpGet({ host: '127.0.0.1', port, path: '/api/messages', headers: { host } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
    });
  expect(await asHost(`attacker.example:${port}`)).toBe(421);
  expect(await asHost(`localhost:${port}`)).toBe(200);
  expect(await asHost(`127.0.0.1:${port}`)).toBe(200);
});

it('refuses a message over its size limit and keeps nothing of it', async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: catcher.smtpPort, secure: false });
  await expect(
    transport.sendMail({ from: 'a@example.test', to: 'b@example.test', text: 'x'.repeat(300_000) }),
  ).rejects.toMatchObject({ responseCode: 552 });
  await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'small', text: 'ok' });
  const messages = await catcher.waitForMessages(1);
  expect(messages.map((m) => m.parsed.subject)).toEqual(['small']);
});

it('takes mail without credentials when started without them (the stack with no configuration)', async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: catcher.smtpPort, secure: false });
  await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'open', text: 'ok' });
  const [mail] = await catcher.waitForMessages(1);
  expect(mail!.authenticatedUser).toBeNull();
});

describe('with SMTP credentials', () => {
  const auth = { user: 'catcher-user', password: 'catcher-p@ss:word/9' };
  let locked: MailCatcher;
  beforeEach(async () => {
    locked = await startMailCatcher({ smtpPort: 0, webPort: 0, auth });
  });
  afterEach(async () => {
    await locked.close();
  });

  const send = (transportAuth?: { user: string; pass: string }) =>
    nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: locked.smtpPort,
        secure: false,
        ...(transportAuth ? { auth: transportAuth } : {}),
      })
      .sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'hello', text: 'ok' });

  it('takes a report from the real mailer logging in through authenticatedSmtpUrl, and records the user', async () => {
    const config = loadConfig({ SMTP_URL: authenticatedSmtpUrl(locked, auth), MAIL_TO: 'soc@example.test' });
    await createNotificationActivities(config).sendIncidentReport({ status: remediatedIncident() });
    const [mail] = await locked.waitForMessages(1);
    expect(mail!.authenticatedUser).toBe(auth.user);
    expect(mail!.raw.toString('utf8')).not.toContain(auth.password);
  });

  it('refuses mail from a session that did not log in (530) and keeps nothing', async () => {
    await expect(send()).rejects.toMatchObject({ responseCode: 530 });
    expect(locked.messages).toEqual([]);
  });

  it.each([
    ['a wrong password', { user: auth.user, pass: 'not-the-password' }],
    ['a wrong user', { user: 'someone-else', pass: auth.password }],
  ])('refuses %s (535) and keeps nothing', async (_, wrong) => {
    await expect(send(wrong)).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
    expect(locked.messages).toEqual([]);
  });

  it('refuses to start with a blank password rather than take mail from anyone', async () => {
    await expect(startMailCatcher({ smtpPort: 0, webPort: 0, auth: { user: 'u', password: '' } })).rejects.toThrow(
      /non-empty SMTP password/,
    );
  });
});
