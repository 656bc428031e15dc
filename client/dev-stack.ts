/**
 * `spawnguard dev` / `npm start`: the whole stack in one process tree on an embedded Temporal dev
 * server — server (UI included), central worker, a LAB host worker (simulated Windows host), the
 * ingest service with the review page, and a local mail catcher. For trying spawnguard and for the
 * end-to-end tests; production runs the same parts separately (docker-compose.yml, README).
 *
 * SMTP: with no configuration the catcher takes mail without authentication. When the caller's
 * environment sets SMTP_PASSWORD (and optionally SMTP_USER, default `spawnguard`), the catcher
 * requires exactly those credentials and the workers log in with them, so the stack — and the
 * end-to-end test that scans workflow histories for secrets — really uses an SMTP password.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DestinationStream } from 'pino';
import { z } from 'zod';
import { loadLabScenario } from '../activities/lab/scenario';
import { EnvironmentSchema, loadConfig } from '../common/config';
import { startDevServer, type DevServer } from './dev-server';
import { runCentralWorker } from '../worker/central';
import { runHostWorker } from '../worker/host';
import { startIngestService, type IngestService } from './ingest';
import { authenticatedSmtpUrl, startMailCatcher, type MailCatcher, type MailCatcherAuth } from './mail-catcher';

export const DEMO_DIRECTORY = resolve(__dirname, '..', 'demo');

export interface DevStackOptions {
  /** Where the stack keeps its state (Temporal SQLite, lab host, received mail). Default `.spawnguard`. */
  dataDirectory?: string;
  /** Use this Temporal server instead of starting one (tests share theirs). */
  temporal?: { address: string; uiUrl?: string };
  /** Ports; 0 picks a free one. Defaults: DESIGN.md §3 (7233, 8233, 3000, 1025, 8025). */
  ports?: Partial<Record<'temporal' | 'temporalUi' | 'ingest' | 'smtp' | 'mailWeb', number>>;
  /** The central task queue (default spawnguard-central); tests use their own on a shared server. */
  taskQueue?: string;
  /** The simulated Windows host. Default: demo/host.json (state then kept in the data directory). */
  labScenario?: string;
  /** Base environment (default process.env); the stack fills in what it runs itself. */
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Where the ingest service's JSON request log goes (default stdout). */
  ingestLog?: DestinationStream;
}

export interface DevStack {
  urls: { ingest: string; reviewPage: string; temporalUi: string | null; mail: string; temporal: string };
  ingestToken: string;
  hostname: string;
  mail: MailCatcher;
  /** Stops everything, workers first (they finish what they are doing), the server last. */
  stop(): Promise<void>;
  /** Resolves when a part fails on its own (rejects with its error) — the stack then needs stopping. */
  failed: Promise<never>;
}

const port = (value: number | undefined, fallback: number) => (value === undefined ? fallback : value);

/** The SMTP user the catcher expects when only SMTP_PASSWORD is set. */
const DEV_STACK_SMTP_USER = 'spawnguard';

/** The caller's SMTP credentials, read with the config loader's own rules (trimmed, blank = unset). */
const SmtpCredentialsSchema = z.object({
  SMTP_USER: EnvironmentSchema.shape.SMTP_USER,
  SMTP_PASSWORD: EnvironmentSchema.shape.SMTP_PASSWORD,
});

function catcherCredentials(base: Record<string, string | undefined>): MailCatcherAuth | undefined {
  const parsed = SmtpCredentialsSchema.parse(base);
  return parsed.SMTP_PASSWORD
    ? { user: parsed.SMTP_USER ?? DEV_STACK_SMTP_USER, password: parsed.SMTP_PASSWORD }
    : undefined;
}

export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const base = options.env ?? process.env;
  const dataDirectory = resolve(options.dataDirectory ?? '.spawnguard');
  mkdirSync(dataDirectory, { recursive: true });
  const ports = options.ports ?? {};
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((err) => log(`stop: ${(err as Error).message}`));
  };

  try {
    let server: DevServer | undefined;
    let temporal = options.temporal;
    if (!temporal) {
      log('Starting the Temporal dev server…');
      server = await startDevServer({
        port: port(ports.temporal, 7233),
        uiPort: port(ports.temporalUi, 8233),
        dbFilename: join(dataDirectory, 'temporal.sqlite'),
        log: (line) => /provision|build|download|ready|…/i.test(line) && log(`  ${line}`),
      });
      stops.push(() => server!.stop());
      temporal = { address: server.address, ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}) };
    }

    const smtpAuth = catcherCredentials(base);
    const mail = await startMailCatcher({
      smtpPort: port(ports.smtp, 1025),
      webPort: port(ports.mailWeb, 8025),
      folder: join(dataDirectory, 'mail'),
      ...(smtpAuth ? { auth: smtpAuth } : {}),
    });
    stops.push(() => mail.close());
    // With credentials, SMTP_URL carries them: the SMTP_HOST form insists on STARTTLS before it
    // sends a password, which the loopback catcher does not offer. Without, today's plain SMTP_HOST;
    // a stray SMTP_USER from the caller would otherwise make the mailer demand STARTTLS too.
    const smtpEnv: Record<string, string | undefined> = smtpAuth
      ? {
          SMTP_URL: authenticatedSmtpUrl(mail, smtpAuth),
          SMTP_HOST: undefined,
          SMTP_PORT: undefined,
          SMTP_USER: smtpAuth.user,
          SMTP_PASSWORD: smtpAuth.password,
        }
      : {
          SMTP_URL: undefined,
          SMTP_HOST: '127.0.0.1',
          SMTP_PORT: String(mail.smtpPort),
          SMTP_USER: undefined,
          SMTP_PASSWORD: undefined,
        };

    const ingestPort = port(ports.ingest, Number(base.SPAWNGUARD_PORT ?? 3000));
    const env: Record<string, string | undefined> = {
      ...base,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: base.TEMPORAL_NAMESPACE ?? 'default',
      ...smtpEnv,
      MAIL_TO: base.MAIL_TO ?? 'soc@localhost',
      SPAWNGUARD_LAB: '1',
      SPAWNGUARD_INGEST_TOKEN: base.SPAWNGUARD_INGEST_TOKEN ?? randomBytes(18).toString('base64url'),
      SPAWNGUARD_LINK_SECRET: base.SPAWNGUARD_LINK_SECRET ?? randomBytes(32).toString('base64url'),
      SPAWNGUARD_ALLOWLIST: base.SPAWNGUARD_ALLOWLIST ?? join(DEMO_DIRECTORY, 'allowlist.txt'),
      SPAWNGUARD_DENYLIST: base.SPAWNGUARD_DENYLIST ?? join(DEMO_DIRECTORY, 'denylist.txt'),
      ...(temporal.uiUrl ? { SPAWNGUARD_TEMPORAL_UI_URL: temporal.uiUrl } : {}),
    };
    const config = loadConfig(env);

    const ingest: IngestService = await startIngestService(config, {
      host: '127.0.0.1',
      port: ingestPort,
      notice: log,
      ...(options.ingestLog ? { logDestination: options.ingestLog } : {}),
      ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    });
    stops.push(() => ingest.close());
    env.SPAWNGUARD_PUBLIC_URL = base.SPAWNGUARD_PUBLIC_URL ?? ingest.url;

    const workers = new AbortController();
    const running: Promise<void>[] = [];
    stops.push(async () => {
      workers.abort();
      await Promise.allSettled(running);
    });

    running.push(
      runCentralWorker({
        env,
        signal: workers.signal,
        ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
        log: (line) => log(`[central] ${line}`),
      }),
    );

    const stateFile = join(dataDirectory, 'lab-host.json');
    const scenarioPath = options.labScenario ?? (existsSync(stateFile) ? stateFile : join(DEMO_DIRECTORY, 'host.json'));
    const scenario = loadLabScenario(scenarioPath);
    running.push(
      runHostWorker({
        env,
        hostname: scenario.hostname,
        lab: true,
        labScenarioPath: scenarioPath,
        labStateFile: stateFile,
        signal: workers.signal,
        log: (line) => log(`[lab host] ${line}`),
      }),
    );

    const failed = Promise.race(
      running.map((p) =>
        p.then(
          () => (workers.signal.aborted ? new Promise<never>(() => {}) : Promise.reject(new Error('a worker stopped'))),
          (err: unknown) => Promise.reject(err),
        ),
      ),
    );
    failed.catch(() => {}); // observed by the caller; never an unhandled rejection

    const urls = {
      ingest: `${ingest.url}/v1/alerts`,
      reviewPage: `${ingest.url}/review`,
      temporalUi: temporal.uiUrl ?? null,
      mail: mail.webUrl,
      temporal: temporal.address,
    };
    // The demo (another terminal) finds the stack and its token here; readable by this user only.
    const stackFile = join(dataDirectory, 'dev-stack.json');
    writeFileSync(
      stackFile,
      JSON.stringify({ urls, ingestToken: ingest.ingestToken, hostname: scenario.hostname }, null, 2),
    );
    chmodSync(stackFile, 0o600);

    return { urls, ingestToken: ingest.ingestToken, hostname: scenario.hostname, mail, stop: stopAll, failed };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
