/**
 * The one configuration loader: environment variables (DESIGN.md §3) validated with zod at
 * start-up. Node-side only (reads files); workflow code receives what it needs in its input.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { QuarantineDirectorySchema } from './host-contract';
import { parsePayloadKey, type PayloadKey } from './payload-codec';
import { HostDomainSchema } from './playbook';

const DURATION = /^\d+(ms|s|m|h|d)$/;
const duration = (fallback: string) =>
  z.string().regex(DURATION, 'must be a duration like 30s, 10m, 24h').default(fallback);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
/** `siem:token,edr:token2`: named credentials that may only send alerts, each rate-limited on its own. */
const senderCredentials = list.pipe(
  z
    .array(
      z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9_.-]{0,62}:\S{16,}$/,
          'each entry is name:token (name: a-z 0-9 _ . -, token: at least 16 characters)',
        )
        .transform((entry) => {
          const at = entry.indexOf(':');
          return { name: entry.slice(0, at), token: entry.slice(at + 1) };
        }),
    )
    .refine(
      (credentials) => new Set(credentials.map((c) => c.name)).size === credentials.length,
      'names must be unique',
    )
    .refine(
      (credentials) => credentials.every((c) => c.name !== 'ingest-token'),
      '"ingest-token" names SPAWNGUARD_INGEST_TOKEN; give the sender another name',
    ),
);
const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const url = (fallback?: string) => (fallback ? z.url().default(fallback) : z.url().optional());

export const EnvironmentSchema = z
  .object({
    TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_API_KEY: optionalText,
    TEMPORAL_TLS: bool,
    TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
    TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
    TEMPORAL_TLS_SERVER_NAME: optionalText,

    VT_API_KEY: optionalText,
    VT_API_URL: url('https://www.virustotal.com/api/v3'),
    MALWAREBAZAAR_API_KEY: optionalText,
    MALWAREBAZAAR_API_URL: url('https://mb-api.abuse.ch/api/v1/'),
    SPAWNGUARD_ALLOWLIST: optionalText,
    SPAWNGUARD_DENYLIST: optionalText,

    SMTP_URL: optionalText,
    SMTP_HOST: optionalText,
    SMTP_PORT: port(587),
    SMTP_USER: optionalText,
    SMTP_PASSWORD: optionalText,
    SMTP_SECURE: bool,
    MAIL_FROM: z.string().default('spawnguard <spawnguard@localhost>'),
    MAIL_TO: list,

    SPAWNGUARD_PORT: port(3000),
    SPAWNGUARD_INGEST_TOKEN: optionalText,
    /** Further senders (`name:token,…`): they may post alerts, nothing else. */
    SPAWNGUARD_INGEST_CREDENTIALS: senderCredentials,
    /** Requests a minute each credential may make to `POST /v1/alerts` (0: no limit). */
    SPAWNGUARD_INGEST_RATE_LIMIT: z.coerce.number().int().min(0).max(10_000_000).default(6_000),
    SPAWNGUARD_PUBLIC_URL: url(),
    SPAWNGUARD_TEMPORAL_UI_URL: url('http://localhost:8233'),
    SPAWNGUARD_LINK_SECRET: optionalText,
    SPAWNGUARD_REVIEW_TIMEOUT: duration('24h'),
    SPAWNGUARD_REVIEW_TIMEOUT_POLICY: z.enum(['escalate', 'remediate', 'close']).default('escalate'),
    /** review: a suspicious verdict waits for an analyst; notify-only: it is reported and closed (the seed playbook's way). */
    SPAWNGUARD_SUSPICIOUS_POLICY: z.enum(['review', 'notify-only']).default('review'),
    /** How long proposed persistence removals wait for an analyst's approval after remediation. */
    SPAWNGUARD_PERSISTENCE_REVIEW_TIMEOUT: duration('72h'),
    /** How far back related incidents (same host or user) are gathered. */
    SPAWNGUARD_RELATED_WINDOW: duration('48h'),
    SPAWNGUARD_HOST_UNREACHABLE_TIMEOUT: duration('10m'),
    SPAWNGUARD_NOTIFICATION_TIMEOUT: duration('2h'),
    SPAWNGUARD_HOST_LIVENESS_TIMEOUT: duration('30s'),
    /** `short` (DESIGN.md §3): host queues by short name; `fqdn`: by fully qualified name, on every part. */
    SPAWNGUARD_HOST_QUEUE_NAMES: z.enum(['short', 'fqdn']).default('short'),
    /** The DNS domain that completes short host names (in alerts, and the host worker's own) under `fqdn`. */
    SPAWNGUARD_HOST_DOMAIN: optionalText.pipe(HostDomainSchema.optional()),
    SPAWNGUARD_HISTORY_EVENT_BOUND: z.coerce.number().int().min(200).max(40_000).default(10_000),
    SPAWNGUARD_TRUSTED_PUBLISHERS: list,
    SPAWNGUARD_QUARANTINE_DIR: optionalText.pipe(QuarantineDirectorySchema.optional()),
    SPAWNGUARD_LAB: bool,
    /** Host worker: the Windows PowerShell it runs (absolute path); default under %SystemRoot%. */
    SPAWNGUARD_POWERSHELL_PATH: optionalText,
    /** Host worker: `allsigned` where the host's policy requires signed scripts (they run without -ExecutionPolicy Bypass). */
    SPAWNGUARD_POWERSHELL_POLICY: z.enum(['bypass', 'allsigned']).default('bypass'),
    /** Host worker: `warm` runs scripts on long-lived PowerShell hosts (powershell/WarmHost.ps1), `cold` starts PowerShell per action. */
    SPAWNGUARD_POWERSHELL_RUNNER: z.enum(['warm', 'cold']).default('warm'),
    /** Host worker: warm PowerShell hosts at most (scripts running at once). */
    SPAWNGUARD_POWERSHELL_WARM_PROCESSES: z.coerce.number().int().min(1).max(8).default(2),
    /** Encrypts payloads in Temporal (AES-256-GCM): 32 bytes, base64. */
    SPAWNGUARD_PAYLOAD_KEY: optionalText,
    /** Where the codec endpoint listens: never the public ingest listener; loopback unless a token is set. */
    SPAWNGUARD_CODEC_LISTEN: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8089')
      .default('127.0.0.1:8089'),
    /** Bearer token the codec endpoint requires (what the Temporal UI's proxy sends). */
    SPAWNGUARD_CODEC_TOKEN: optionalText,
    /** Origin of the Temporal UI allowed to call the codec endpoint (CORS), e.g. http://localhost:8233. */
    SPAWNGUARD_CODEC_CORS_ORIGIN: optionalText,
    SPAWNGUARD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    /** Analyst sign-in (OpenID Connect) for the review page and API; off: the zero-setup mode. */
    SPAWNGUARD_OIDC_ISSUER: url(),
    SPAWNGUARD_OIDC_CLIENT_ID: optionalText,
    SPAWNGUARD_OIDC_CLIENT_SECRET: optionalText,
    /** The claim listing an analyst's groups. */
    SPAWNGUARD_OIDC_GROUPS_CLAIM: z.string().trim().min(1).max(100).default('groups'),
    /** Members of this group may approve and reject; other signed-in analysts only view. */
    SPAWNGUARD_OIDC_APPROVER_GROUP: z.string().trim().min(1).max(256).default('spawnguard-approvers'),
  })
  .superRefine((env, ctx) => {
    const certs = [env.TEMPORAL_TLS_CLIENT_CERT_PATH, env.TEMPORAL_TLS_CLIENT_KEY_PATH].filter(Boolean).length;
    if (certs === 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['TEMPORAL_TLS_CLIENT_KEY_PATH'],
        message: 'mTLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
      });
    }
    if (env.SPAWNGUARD_OIDC_ISSUER && !(env.SPAWNGUARD_OIDC_CLIENT_ID && env.SPAWNGUARD_OIDC_CLIENT_SECRET)) {
      ctx.addIssue({
        code: 'custom',
        path: ['SPAWNGUARD_OIDC_CLIENT_ID'],
        message:
          'sign-in needs SPAWNGUARD_OIDC_CLIENT_ID and SPAWNGUARD_OIDC_CLIENT_SECRET with SPAWNGUARD_OIDC_ISSUER',
      });
    }
    if (env.SMTP_URL && env.SMTP_HOST) {
      ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: 'set SMTP_URL or SMTP_HOST, not both' });
    }
  });

export type Environment = z.infer<typeof EnvironmentSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  /** Encrypts payloads when set (SPAWNGUARD_PAYLOAD_KEY). */
  payloadKey?: PayloadKey;
  /** Earlier keys, still able to decrypt what they encrypted (rotation). */
  retiredPayloadKeys?: PayloadKey[];
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
}

export interface Config {
  env: Environment;
  temporal: TemporalSettings;
}

function readFile(path: string, variable: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    problems.push(
      `${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
    return undefined;
  }
}

/** Where analysts reach the ingest service and its review page: SPAWNGUARD_PUBLIC_URL, else this host's port. */
export function publicUrl(env: Pick<Environment, 'SPAWNGUARD_PUBLIC_URL' | 'SPAWNGUARD_PORT'>): string {
  return env.SPAWNGUARD_PUBLIC_URL ?? `http://localhost:${env.SPAWNGUARD_PORT}`;
}

/** Parses and checks the environment; throws ConfigError listing every bad variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvironmentSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  const useTls =
    env.TEMPORAL_TLS ||
    Boolean(env.TEMPORAL_TLS_CLIENT_CERT_PATH || env.TEMPORAL_TLS_SERVER_CA_CERT_PATH || env.TEMPORAL_API_KEY);
  let tls: TemporalSettings['tls'];
  if (useTls) {
    const crt =
      env.TEMPORAL_TLS_CLIENT_CERT_PATH &&
      readFile(env.TEMPORAL_TLS_CLIENT_CERT_PATH, 'TEMPORAL_TLS_CLIENT_CERT_PATH', problems);
    const key =
      env.TEMPORAL_TLS_CLIENT_KEY_PATH &&
      readFile(env.TEMPORAL_TLS_CLIENT_KEY_PATH, 'TEMPORAL_TLS_CLIENT_KEY_PATH', problems);
    const ca =
      env.TEMPORAL_TLS_SERVER_CA_CERT_PATH &&
      readFile(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', problems);
    tls = {
      ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    };
  }
  // `current[,retired,…]`: the first key encrypts, every key decrypts (rotation keeps old payloads readable).
  let payloadKey: PayloadKey | undefined;
  const retiredPayloadKeys: PayloadKey[] = [];
  if (env.SPAWNGUARD_PAYLOAD_KEY) {
    const keys = env.SPAWNGUARD_PAYLOAD_KEY.split(',').map((k) => k.trim());
    keys.forEach((text, index) => {
      try {
        const parsed = parsePayloadKey(text);
        if (index === 0) payloadKey = parsed;
        else retiredPayloadKeys.push(parsed);
      } catch (err) {
        problems.push(`SPAWNGUARD_PAYLOAD_KEY (key ${index + 1} of ${keys.length}): ${(err as Error).message}`);
      }
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    env,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
      ...(tls ? { tls } : {}),
      ...(payloadKey ? { payloadKey } : {}),
      ...(retiredPayloadKeys.length > 0 ? { retiredPayloadKeys } : {}),
    },
  };
}
