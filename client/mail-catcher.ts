/**
 * The local stack's mail catcher: an SMTP server (default port 1025) that keeps every message it
 * receives — in memory, and as `.eml` files when given a folder — and a small web view of them
 * (default port 8025). For `spawnguard dev` and tests; not for production: it accepts mail from
 * anyone on the interface it listens on, without TLS — and without authentication unless started
 * with `auth`, when it takes mail only from a session that logged in (AUTH PLAIN/LOGIN) with exactly
 * that user and password. That lets the local stack exercise a real SMTP password end to end.
 *
 * Web view: `/` lists the messages (newest first), `/messages/<n>` shows one as HTML (sandboxed:
 * no script, no remote content), `/messages/<n>.txt` its text part, `/messages/<n>.eml` the raw
 * message, `/api/messages` the list as JSON.
 *
 * Run on its own with `npx tsx client/mail-catcher.ts [folder]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAuthentication } from 'smtp-server';
import { z } from 'zod';
import { secretsEqual } from './ingest/auth';

export const MAIL_CATCHER_SMTP_PORT = 1025;
export const MAIL_CATCHER_WEB_PORT = 8025;

export interface CaughtMail {
  id: number;
  receivedAt: string;
  envelopeFrom: string | null;
  envelopeTo: string[];
  /** The SMTP user the session logged in as; null when the catcher takes mail without `auth`. */
  authenticatedUser: string | null;
  raw: Buffer;
  parsed: ParsedMail;
}

export interface MailCatcher {
  smtpPort: number;
  webPort: number;
  /**
   * `smtp://127.0.0.1:<port>`: what SMTP_URL should be for mail to land here (without credentials;
   * for a catcher started with `auth` see `authenticatedSmtpUrl`).
   */
  smtpUrl: string;
  webUrl: string;
  /** Messages kept, oldest first (at most `keep`). */
  messages: CaughtMail[];
  /** Resolves with the messages once at least `count` have arrived since start. */
  waitForMessages(count: number, timeoutMs?: number): Promise<CaughtMail[]>;
  close(): Promise<void>;
}

export interface MailCatcherOptions {
  /** Default 1025; 0 picks a free port. */
  smtpPort?: number;
  /** Default 8025; 0 picks a free port. */
  webPort?: number;
  /** Interface to listen on; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Folder to write each message to as `<n>.eml`. */
  folder?: string;
  /** How many messages to keep in memory (oldest dropped first); default 500. */
  keep?: number;
  /** Largest message accepted, in bytes; default 10 MB. */
  maxMessageBytes?: number;
  onMessage?: (mail: CaughtMail) => void;
  /** Require SMTP AUTH with exactly these credentials; without it, mail from anyone is taken. */
  auth?: MailCatcherAuth;
}

/** Credentials a catcher requires: checked once at start, so a blank password fails loudly, not open. */
export const MailCatcherAuthSchema = z.object({
  user: z.string().min(1, 'the mail catcher needs a non-empty SMTP user'),
  password: z.string().min(1, 'the mail catcher needs a non-empty SMTP password'),
});
export type MailCatcherAuth = z.infer<typeof MailCatcherAuthSchema>;

/**
 * SMTP_URL for mail to land in a catcher started with `auth`: the credentials in the URL, and
 * `requireTLS=false` because the catcher has no TLS and the mailer (rightly) refuses to send
 * credentials over plain SMTP otherwise. Only for a catcher on loopback.
 */
export function authenticatedSmtpUrl(catcher: Pick<MailCatcher, 'smtpUrl'>, auth: MailCatcherAuth): string {
  const url = new URL(catcher.smtpUrl);
  url.username = encodeURIComponent(auth.user);
  url.password = encodeURIComponent(auth.password);
  url.searchParams.set('requireTLS', 'false');
  return url.toString();
}

/** One login attempt, both parts compared in constant time (and both always compared). */
function credentialsMatch(attempt: SMTPServerAuthentication, expected: MailCatcherAuth): boolean {
  const userOk = secretsEqual(attempt.username ?? '', expected.user);
  const passwordOk = secretsEqual(attempt.password ?? '', expected.password);
  return userOk && passwordOk;
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

const addresses = (field: AddressObject | AddressObject[] | undefined): string =>
  (Array.isArray(field) ? field : field ? [field] : []).map((a) => a.text).join(', ');

/**
 * A received message is attacker-influenced HTML (it quotes the alert): the view forbids script,
 * plugins, forms and every remote fetch, and sandboxes the document.
 */
const MESSAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; sandbox";

export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const keep = options.keep ?? 500;
  const messages: CaughtMail[] = [];
  let received = 0;
  let stored = 0;
  const waiters = new Set<() => void>();
  const auth = options.auth ? MailCatcherAuthSchema.parse(options.auth) : undefined;
  // Reports quote attackers' command lines and name users: the folder and files are the owner's alone.
  if (options.folder) mkdirSync(options.folder, { recursive: true, mode: 0o700 });

  const smtp = new SMTPServer({
    // Plain SMTP only: a local catcher has no certificate a client would trust.
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    ...(auth
      ? {
          authOptional: false,
          authMethods: ['PLAIN', 'LOGIN'],
          // No TLS to upgrade to; the catcher listens on loopback, where plain AUTH is acceptable.
          allowInsecureAuth: true,
          authRequiredMessage: 'Error: authentication required (this mail catcher takes mail only from its SMTP user)',
          onAuth(attempt, _session, callback) {
            if (credentialsMatch(attempt, auth)) {
              callback(null, { user: auth.user });
              return;
            }
            callback(
              Object.assign(new Error('Error: wrong SMTP user or password for this mail catcher'), {
                responseCode: 535,
              }),
            );
          },
        }
      : { authOptional: true }),
    size: options.maxMessageBytes ?? 10 * 1024 * 1024,
    banner: 'spawnguard mail catcher',
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(Object.assign(new Error('Message exceeds the size limit'), { responseCode: 552 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        const id = ++received;
        simpleParser(raw).then(
          (parsed) => {
            const mail: CaughtMail = {
              id,
              receivedAt: new Date().toISOString(),
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              authenticatedUser: typeof session.user === 'string' ? session.user : null,
              raw,
              parsed,
            };
            messages.push(mail);
            stored++;
            messages.sort((a, b) => a.id - b.id);
            if (messages.length > keep) messages.splice(0, messages.length - keep);
            if (options.folder) writeFileSync(join(options.folder, `${id}.eml`), raw, { mode: 0o600 });
            options.onMessage?.(mail);
            waiters.forEach((wake) => wake());
            callback();
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(options.smtpPort ?? MAIL_CATCHER_SMTP_PORT, host, () => {
      smtp.server.off('error', reject);
      resolve();
    });
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const urlHost = host.includes(':') ? `[${host}]` : host;
  let allowedHosts = new Set<string>();
  const web: Server = createServer((req, res) => serveWeb(req, res, messages, allowedHosts));
  try {
    await new Promise<void>((resolve, reject) => {
      web.once('error', reject);
      web.listen(options.webPort ?? MAIL_CATCHER_WEB_PORT, host, () => {
        web.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    throw err;
  }
  const webPort = (web.address() as AddressInfo).port;
  allowedHosts = new Set([urlHost, 'localhost', '127.0.0.1', '[::1]'].map((name) => `${name}:${webPort}`));

  return {
    smtpPort,
    webPort,
    smtpUrl: `smtp://${urlHost}:${smtpPort}`,
    webUrl: `http://${urlHost}:${webPort}`,
    messages,
    waitForMessages(count, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (stored < count) return;
          cleanup();
          resolve(messages);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`expected ${count} message(s) within ${timeoutMs} ms, got ${stored}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      web.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => smtp.close(() => resolve())),
        new Promise<void>((resolve) => web.close(() => resolve())),
      ]);
    },
  };
}

function serveWeb(req: IncomingMessage, res: ServerResponse, messages: CaughtMail[], hosts: Set<string>): void {
  res.setHeader('x-content-type-options', 'nosniff');
  // A page on another site cannot read the mail through DNS rebinding: only this listener's own
  // names are answered.
  if (!hosts.has((req.headers.host ?? '').toLowerCase())) {
    res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' }).end('unknown host');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const path = new URL(req.url ?? '/', 'http://catcher').pathname;
  if (path === '/api/messages') {
    const list = messages.map((m) => ({
      id: m.id,
      receivedAt: m.receivedAt,
      from: addresses(m.parsed.from),
      to: m.envelopeTo,
      subject: m.parsed.subject ?? null,
    }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
    return;
  }
  const match = /^\/messages\/(\d+)(\.txt|\.eml)?$/.exec(path);
  if (match) {
    const mail = messages.find((m) => m.id === Number(match[1]));
    if (!mail) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('no such message');
      return;
    }
    if (match[2] === '.eml') {
      res.writeHead(200, { 'content-type': 'message/rfc822' }).end(mail.raw);
    } else if (match[2] === '.txt' || !mail.parsed.html) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(mail.parsed.text ?? '');
    } else {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': MESSAGE_CSP })
        .end(mail.parsed.html);
    }
    return;
  }
  if (path !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
    return;
  }
  const rows = [...messages]
    .reverse()
    .map(
      (m) =>
        `<tr><td>${m.id}</td><td>${escapeHtml(m.receivedAt)}</td><td>${escapeHtml(addresses(m.parsed.from))}</td>` +
        `<td>${escapeHtml(m.envelopeTo.join(', '))}</td>` +
        `<td><a href="/messages/${m.id}">${escapeHtml(m.parsed.subject ?? '(no subject)')}</a>` +
        ` (<a href="/messages/${m.id}.txt">text</a>, <a href="/messages/${m.id}.eml">raw</a>)</td></tr>`,
    )
    .join('');
  res
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    })
    .end(
      '<!doctype html><html><head><meta charset="utf-8"><title>spawnguard mail</title>' +
        '<meta http-equiv="refresh" content="5"></head><body style="font-family:sans-serif">' +
        `<h1>Mail caught by the local stack</h1><p>${messages.length} message(s)</p>` +
        '<table border="1" cellpadding="4" style="border-collapse:collapse">' +
        `<tr><th>#</th><th>received</th><th>from</th><th>to</th><th>subject</th></tr>${rows}</table></body></html>`,
    );
}

if (require.main === module) {
  startMailCatcher({ ...(process.argv[2] ? { folder: process.argv[2] } : {}) })
    .then((catcher) => {
      console.log(`Mail catcher: SMTP ${catcher.smtpUrl}, web view ${catcher.webUrl}`);
      const stop = () => void catcher.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
