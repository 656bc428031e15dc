/**
 * Runs the ingest service: `spawnguard serve`, and the local stack (`spawnguard dev`), start it here.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigError, publicUrl, type Config } from '../../common/config';
import { OidcSignIn } from '../review/oidc';
import { EncryptionCodec } from '../../common/payload-codec';
import { registerCodecEndpoint } from '../codec-endpoint';
import { buildIngestApp } from './app';
import { createLogger } from './logger';
import { policyFromEnvironment } from './policy';
import { lazyClient } from './temporal';

export { buildIngestApp, type IngestAppOptions } from './app';
export { createLogger } from './logger';
export { policyFromEnvironment } from './policy';
export { reviewLink } from '../../activities/notification/review-links';

export interface IngestService {
  url: string;
  /** The codec endpoint's base URL, when payloads are encrypted. */
  codecUrl?: string;
  ingestToken: string;
  close(): Promise<void>;
}

export interface StartIngestOptions {
  host?: string;
  /** Overrides SPAWNGUARD_PORT (0 picks a free port). */
  port?: number;
  logDestination?: DestinationStream;
  /** Told about settings the service made up (no token or link secret configured). */
  notice?: (message: string) => void;
  /** The central task queue (default spawnguard-central); tests on a shared server use their own. */
  taskQueue?: string;
}

export async function startIngestService(config: Config, options: StartIngestOptions = {}): Promise<IngestService> {
  const { env } = config;
  const notice = options.notice ?? ((message: string) => console.error(message));
  const logger = createLogger(env.SPAWNGUARD_LOG_LEVEL, options.logDestination);
  let ingestToken = env.SPAWNGUARD_INGEST_TOKEN;
  if (!ingestToken) {
    // Never unauthenticated: without a configured token the service makes one up and says which.
    ingestToken = randomBytes(24).toString('base64url');
    notice(`SPAWNGUARD_INGEST_TOKEN is not set; this run's ingest token is: ${ingestToken}`);
  }
  let linkSecret = env.SPAWNGUARD_LINK_SECRET;
  if (!linkSecret) {
    linkSecret = randomBytes(32).toString('base64url');
    notice(
      'SPAWNGUARD_LINK_SECRET is not set: review links in email cannot be verified by this process (the review list still works); set the same secret for the worker and the ingest service',
    );
  }
  const client = lazyClient(config.temporal);
  const oidc = env.SPAWNGUARD_OIDC_ISSUER
    ? new OidcSignIn({
        issuer: env.SPAWNGUARD_OIDC_ISSUER,
        clientId: env.SPAWNGUARD_OIDC_CLIENT_ID!,
        clientSecret: env.SPAWNGUARD_OIDC_CLIENT_SECRET!,
        redirectUri: `${publicUrl(env).replace(/\/+$/, '')}/review/callback`,
        groupsClaim: env.SPAWNGUARD_OIDC_GROUPS_CLAIM,
        approverGroup: env.SPAWNGUARD_OIDC_APPROVER_GROUP,
      })
    : undefined;
  if (!oidc)
    notice('Analyst sign-in is off (SPAWNGUARD_OIDC_ISSUER unset): the review page runs in its zero-setup mode');
  const app = await buildIngestApp({
    client,
    ingestToken,
    linkSecret,
    policy: policyFromEnvironment(env),
    senders: env.SPAWNGUARD_INGEST_CREDENTIALS,
    rateLimitPerMinute: env.SPAWNGUARD_INGEST_RATE_LIMIT,
    logger,
    secureCookies: env.SPAWNGUARD_PUBLIC_URL?.startsWith('https:') ?? false,
    ...(oidc ? { oidc } : {}),
    temporalUiUrl: env.SPAWNGUARD_TEMPORAL_UI_URL,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
  });
  // Payloads are encrypted: the Temporal UI decodes them through the codec endpoint (README,
  // Deployment) — on a listener of its own, never the public ingest one.
  const codecApp = config.temporal.payloadKey ? await startCodecListener(config) : null;
  try {
    await app.listen({ host: options.host ?? '0.0.0.0', port: options.port ?? env.SPAWNGUARD_PORT });
  } catch (err) {
    await codecApp?.close();
    throw err;
  }
  return {
    url: urlOf(app),
    ...(codecApp ? { codecUrl: `${urlOf(codecApp)}/codec` } : {}),
    ingestToken,
    async close() {
      await app.close();
      await codecApp?.close();
      await client.connection.close();
    },
  };
}

function urlOf(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** The codec endpoint on SPAWNGUARD_CODEC_LISTEN; off loopback only with SPAWNGUARD_CODEC_TOKEN. */
async function startCodecListener(config: Config): Promise<FastifyInstance> {
  const { env } = config;
  const separator = env.SPAWNGUARD_CODEC_LISTEN.lastIndexOf(':');
  const host = env.SPAWNGUARD_CODEC_LISTEN.slice(0, separator);
  const port = Number(env.SPAWNGUARD_CODEC_LISTEN.slice(separator + 1));
  if (!LOOPBACK.test(host) && !env.SPAWNGUARD_CODEC_TOKEN) {
    throw new ConfigError([
      `SPAWNGUARD_CODEC_LISTEN: ${env.SPAWNGUARD_CODEC_LISTEN} is reachable from other machines; set SPAWNGUARD_CODEC_TOKEN (the codec endpoint turns ciphertext into plaintext for whoever calls it)`,
    ]);
  }
  const codecApp = Fastify({ bodyLimit: 8 * 1024 * 1024 });
  registerCodecEndpoint(codecApp, {
    codec: new EncryptionCodec(config.temporal.payloadKey!, config.temporal.retiredPayloadKeys ?? []),
    ...(env.SPAWNGUARD_CODEC_TOKEN ? { token: env.SPAWNGUARD_CODEC_TOKEN } : {}),
    ...(env.SPAWNGUARD_CODEC_CORS_ORIGIN ? { corsOrigin: env.SPAWNGUARD_CODEC_CORS_ORIGIN } : {}),
  });
  await codecApp.listen({ host, port });
  return codecApp;
}
