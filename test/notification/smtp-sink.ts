/**
 * A real SMTP server (smtp-server) for the email tests: records each message it accepts, parsed
 * with mailparser, with whether the session was TLS-protected and who authenticated.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMail {
  raw: string;
  parsed: ParsedMail;
  envelopeTo: string[];
  /** True when the message travelled over TLS (STARTTLS or implicit). */
  secure: boolean;
  user: string | null;
}

export interface SmtpSink {
  port: number;
  received: ReceivedMail[];
  /** Every AUTH attempt: the user, and whether the session was already encrypted. */
  authAttempts: { user: string; password: string; secure: boolean }[];
  waitForMail(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  port?: number;
  /** Offer STARTTLS (with smtp-server's built-in self-signed certificate). Default false. */
  starttls?: boolean;
  /** Accept AUTH with exactly these credentials. */
  credentials?: { user: string; password: string };
}

/** A port that was free a moment ago (for a server that must start later on a known port). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const authAttempts: SmtpSink['authAttempts'] = [];
  const waiters = new Set<() => void>();
  const disabledCommands = [...(options.starttls ? [] : ['STARTTLS']), ...(options.credentials ? [] : ['AUTH'])];

  const serverOptions: SMTPServerOptions = {
    logger: false,
    disabledCommands,
    authOptional: !options.credentials,
    onAuth(auth, session, callback) {
      authAttempts.push({ user: auth.username ?? '', password: auth.password ?? '', secure: session.secure });
      const ok =
        options.credentials &&
        auth.username === options.credentials.user &&
        auth.password === options.credentials.password;
      if (ok) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      simpleParserFrom(stream).then(
        ({ raw, parsed }) => {
          received.push({
            raw,
            parsed,
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : null,
          });
          waiters.forEach((wake) => wake());
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  };
  const server = new SMTPServer(serverOptions);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    port,
    received,
    authAttempts,
    waitForMail(count, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          done();
          resolve(received);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`expected ${count} message(s), got ${received.length}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function simpleParserFrom(stream: NodeJS.ReadableStream): Promise<{ raw: string; parsed: ParsedMail }> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return { raw: raw.toString('utf8'), parsed: await simpleParser(raw) };
}
