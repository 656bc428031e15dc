/**
 * SMTP delivery with nodemailer, from the one config. A connection failure throws a retryable
 * error so Temporal retries the activity until the mail server is back; credentials that the
 * server refuses, or recipients it rejects for good, are non-retryable.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import type { Environment } from '../../common/config';
import { subjectLine, type EmailContent } from './document';

export const MAIL_FAILURE_TYPES = {
  notConfigured: 'MailNotConfigured',
  authRejected: 'MailAuthError',
  rejected: 'MailRejected',
  delivery: 'MailDeliveryError',
} as const;

type SmtpOptions = Exclude<Parameters<typeof nodemailer.createTransport>[0], string> & Record<string, unknown>;

export interface MailSettings {
  transport: SmtpOptions;
  from: string;
  to: string[];
  /** Where mail goes, for logs: never includes the password. */
  target: string;
}

export type MailConfiguration = { enabled: true; settings: MailSettings } | { enabled: false; reason: string };

const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export function mailConfiguration(env: Environment): MailConfiguration {
  if (env.MAIL_TO.length === 0) return { enabled: false, reason: 'MAIL_TO is not set' };
  if (env.SMTP_URL) {
    let url: URL;
    try {
      url = new URL(env.SMTP_URL);
    } catch {
      return { enabled: false, reason: 'SMTP_URL is not a URL (smtp://user:password@host:port)' };
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
      return { enabled: false, reason: `SMTP_URL must start with smtp:// or smtps://, not ${url.protocol}//` };
    }
    const user = url.username ? decodeURIComponent(url.username) : undefined;
    const transport = {
      url: env.SMTP_URL,
      // Defaults the URL's own query (e.g. ?requireTLS=false for a local relay) may override.
      requireTLS: url.protocol === 'smtp:' && Boolean(user),
      ...TIMEOUTS,
    } as SmtpOptions;
    const target = `${url.protocol}//${user ? `${user}@` : ''}${url.host}`;
    return { enabled: true, settings: { transport, from: env.MAIL_FROM, to: env.MAIL_TO, target } };
  }
  if (!env.SMTP_HOST) return { enabled: false, reason: 'neither SMTP_URL nor SMTP_HOST is set' };
  const secure = env.SMTP_SECURE;
  const auth = env.SMTP_USER ? { user: env.SMTP_USER, pass: env.SMTP_PASSWORD ?? '' } : undefined;
  const transport = {
    host: env.SMTP_HOST,
    port: env.SMTP_PORT,
    secure,
    // Upgrade with STARTTLS whenever the server offers it; insist on it before sending credentials.
    requireTLS: !secure && Boolean(auth),
    ...(auth ? { auth } : {}),
    ...TIMEOUTS,
  } as SmtpOptions;
  const target = `${secure ? 'smtps' : 'smtp'}://${auth ? `${auth.user}@` : ''}${env.SMTP_HOST}:${env.SMTP_PORT}`;
  return { enabled: true, settings: { transport, from: env.MAIL_FROM, to: env.MAIL_TO, target } };
}

/** One line for start-up logs: where mail goes, or why it is off. Never includes a password. */
export function describeMailConfiguration(configuration: MailConfiguration): string {
  return configuration.enabled
    ? `email to ${configuration.settings.to.join(', ')} through ${configuration.settings.target}`
    : `email is off: ${configuration.reason}`;
}

export interface Mailer {
  readonly configuration: MailConfiguration;
  send(
    kind: 'report' | 'review-request' | 'host-missing' | 'restore',
    workflowId: string,
    content: EmailContent,
  ): Promise<{ messageId: string }>;
}

export function createMailer(env: Environment): Mailer {
  const configuration = mailConfiguration(env);
  const transporter = configuration.enabled ? nodemailer.createTransport(configuration.settings.transport) : undefined;

  async function send(
    kind: 'report' | 'review-request' | 'host-missing' | 'restore',
    workflowId: string,
    content: EmailContent,
  ) {
    if (!configuration.enabled || !transporter) {
      throw ApplicationFailure.nonRetryable(
        `Email is off: ${configuration.enabled ? 'no transport' : configuration.reason}`,
        MAIL_FAILURE_TYPES.notConfigured,
      );
    }
    const { settings } = configuration;
    try {
      const info = await transporter.sendMail({
        from: settings.from,
        to: settings.to,
        subject: content.subject,
        text: content.text,
        html: content.html,
        ...stableMessageId(kind),
        // The workflow ID is derived from the alert: one bounded line, never a header break.
        headers: { 'X-Spawnguard-Incident': subjectLine(workflowId, 500), 'X-Spawnguard-Mail': kind },
      });
      return { messageId: info.messageId };
    } catch (err) {
      throw classify(err, settings.target);
    }
  }

  return { configuration, send };
}

/**
 * Inside an activity, the Message-ID is the same on every retry of the same activity, so a mail
 * client can fold a duplicate (a server that accepted the mail but dropped the connection before
 * acknowledging it) into one message.
 */
function stableMessageId(kind: string): { messageId?: string } {
  try {
    const info = Context.current().info;
    if (!info.workflowExecution) return {};
    const id = `${kind}.${info.workflowExecution.runId}.${info.activityId}`.replace(/[^A-Za-z0-9.-]/g, '-');
    return { messageId: `<${id}@spawnguard>` };
  } catch {
    return {};
  }
}

function classify(err: unknown, target: string): Error {
  const error = err as { code?: string; responseCode?: number; message?: string } | undefined;
  const detail = `${error?.code ? `${error.code}: ` : ''}${error?.message ?? String(err)}`;
  if (error?.code === 'EAUTH') {
    return ApplicationFailure.nonRetryable(
      `${target} refused the SMTP credentials (check SMTP_USER / SMTP_PASSWORD): ${detail}`,
      MAIL_FAILURE_TYPES.authRejected,
    );
  }
  if (error?.code === 'EENVELOPE' && typeof error.responseCode === 'number' && error.responseCode >= 500) {
    return ApplicationFailure.nonRetryable(
      `${target} rejected the message for good: ${detail}`,
      MAIL_FAILURE_TYPES.rejected,
    );
  }
  return ApplicationFailure.retryable(`Sending mail through ${target} failed: ${detail}`, MAIL_FAILURE_TYPES.delivery);
}
