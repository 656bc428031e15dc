/**
 * docker-compose.yml checked structurally (no Docker engine runs here): the services a production
 * deployment needs and no mail catcher (that is an override for trying it out), pinned images,
 * health checks, persistent volumes, mutual TLS on 7233 with certificates deploy/make-certs.sh
 * makes (run here with the real openssl), the UI behind OIDC sign-in, retention and archival, the
 * search attributes spawnguard relies on, and environment names the config schema knows, so a typo
 * cannot silently drop a setting.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EnvironmentSchema } from '../../common/config';
import { SEARCH_ATTRIBUTES } from '../../common/names';
import { DYNAMIC_CONFIG, SERVER_CONFIG } from '../../scripts/lib/cluster';
import { ensureTemporalServerBinaries } from '../../scripts/lib/temporal-server-binaries';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}

const root = join(__dirname, '..', '..');
const loadCompose = (file: string) =>
  parse(readFileSync(join(root, file), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
    'x-spawnguard-env': Record<string, string>;
  };
const compose = loadCompose('docker-compose.yml');
const catcher = loadCompose('docker-compose.mail-catcher.yml');
const services = compose.services;
const anchorEnv = compose['x-spawnguard-env'];
const configNames = new Set(Object.keys(EnvironmentSchema.shape));
const CERTS = '/etc/spawnguard/certs';
const script = join(root, 'deploy', 'make-certs.sh');

// The certificates the compose file names, made as an operator makes them (real openssl).
const certs = { dir: '' };
beforeAll(() => {
  certs.dir = mkdtempSync(join(tmpdir(), 'spawnguard-certs-'));
  execFileSync('bash', [script, certs.dir, 'web01', 'WEB02.contoso.local'], { stdio: 'pipe' });
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

describe('docker-compose.yml (production)', () => {
  it('has the production stack of DESIGN.md §2, and no mail catcher', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['central-worker', 'ingest', 'postgresql', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui'].sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      expect({ name, image: service.image }).not.toEqual({
        name,
        image: expect.stringMatching(/mailpit|mailhog|maildev/),
      });
    }
    // Mail goes to the SOC's own server: the stack does not start without one.
    expect(anchorEnv.SMTP_HOST).toMatch(/^\$\{SMTP_HOST:\?/);
    expect(anchorEnv.MAIL_TO).toMatch(/^\$\{MAIL_TO:\?/);
  });

  it('pins every image to an explicit version', () => {
    for (const [name, service] of Object.entries({ ...services, ...catcher.services })) {
      if (!service.image) continue; // an override of a service defined in the production file
      expect({ name, image: service.image }).toEqual({
        name,
        image: expect.stringMatching(/^[\w./-]+:v?\d+(\.\d+)+$/),
      });
    }
  });

  it('gives every long-running service a health check and a restart policy', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'temporal-setup' || name === 'temporal-schema') continue; // one-shot jobs
      expect({ name, health: Array.isArray(service.healthcheck?.test) }).toEqual({ name, health: true });
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
    }
  });

  it('keeps Temporal’s database and archive in named volumes', () => {
    expect(services.postgresql?.volumes).toContain('postgresql-data:/var/lib/postgresql/data');
    expect(services.temporal?.volumes).toContain('temporal-archival:/var/lib/temporal/archival');
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgresql-data', 'temporal-archival']);
  });

  it('publishes 7233 (mutual TLS) and 3000; the UI and the codec only to a proxy on the same machine', () => {
    expect(services.temporal?.ports).toEqual(['7233:7233']);
    expect(services.ingest?.ports).toEqual(['3000:3000', '127.0.0.1:8089:8089']);
    expect(services['temporal-ui']?.ports).toEqual(['127.0.0.1:8080:8080']);
    for (const name of ['postgresql', 'central-worker', 'temporal-setup', 'temporal-schema'])
      expect(services[name]?.ports).toBeUndefined();
  });

  it('serves Temporal only over TLS with client certificates of the private CA', () => {
    const env = services.temporal?.environment ?? {};
    // deploy/temporal-server.yaml turns these into mutual TLS on every port (rendered below).
    expect(env).toMatchObject({
      TEMPORAL_TLS_CERT: `${CERTS}/temporal.pem`,
      TEMPORAL_TLS_KEY: `${CERTS}/temporal.key`,
      TEMPORAL_TLS_CA: `${CERTS}/ca.pem`,
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
    });
    // Every Temporal client presents a certificate of its own and checks the server's.
    const clients: Record<string, Record<string, string>> = {
      ingest: services.ingest?.environment ?? {},
      'central-worker': services['central-worker']?.environment ?? {},
    };
    for (const [name, clientEnv] of Object.entries(clients)) {
      expect({ name, env: clientEnv }).toMatchObject({
        name,
        env: {
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: `${CERTS}/ca.pem`,
          TEMPORAL_TLS_SERVER_NAME: 'temporal',
          TEMPORAL_TLS_CLIENT_CERT_PATH: `${CERTS}/spawnguard-${name === 'ingest' ? 'ingest' : 'central'}.pem`,
        },
      });
    }
    expect(services['temporal-ui']?.environment).toMatchObject({
      TEMPORAL_TLS_CERT: `${CERTS}/temporal-ui.pem`,
      TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: 'true',
    });
    expect(String(services['temporal-setup']?.environment?.TLS)).toContain(
      `--tls-cert-path ${CERTS}/temporal-admin.pem`,
    );
  });

  it('names only certificates that deploy/make-certs.sh makes', () => {
    const referenced = new Set(
      [readFileSync(join(root, 'docker-compose.yml'), 'utf8')].flatMap((text) =>
        [...text.matchAll(/\/etc\/spawnguard\/certs\/([\w.-]+)/g)].map((m) => m[1] as string),
      ),
    );
    expect(referenced.size).toBeGreaterThan(5);
    const made = new Set(readdirSync(certs.dir));
    expect([...referenced].filter((file) => !made.has(file))).toEqual([]);
  });

  it('puts the Temporal UI behind OpenID Connect sign-in', () => {
    const env = services['temporal-ui']?.environment ?? {};
    expect(env.TEMPORAL_AUTH_ENABLED).toBe('true');
    expect(env.TEMPORAL_AUTH_TYPE).toBe('oidc');
    for (const key of ['TEMPORAL_AUTH_PROVIDER_URL', 'TEMPORAL_AUTH_CLIENT_ID', 'TEMPORAL_AUTH_CLIENT_SECRET']) {
      expect({ key, value: env[key] }).toEqual({ key, value: expect.stringMatching(/^\$\{\w+:\?/) });
    }
  });

  it('creates the namespace with a retention and history and visibility archival on the archive volume', () => {
    const script = [services['temporal-setup']?.command].flat().join(' ');
    expect(services['temporal-setup']?.environment?.TEMPORAL_RETENTION).toBe('${TEMPORAL_RETENTION:-30d}');
    expect(script).toMatch(/namespace create --namespace default \$\$TLS --retention "\$\$TEMPORAL_RETENTION"/);
    expect(script).toContain(
      '--history-archival-state enabled --history-uri file:///var/lib/temporal/archival/history',
    );
    expect(script).toContain(
      '--visibility-archival-state enabled --visibility-uri file:///var/lib/temporal/archival/visibility',
    );
  });

  it('registers exactly spawnguard’s search attributes with their types', () => {
    const script = [services['temporal-setup']?.command].flat().join(' ');
    const registered = Object.fromEntries([...script.matchAll(/(\w+)=(Keyword|Int)\b/g)].map((m) => [m[1], m[2]]));
    expect(registered).toEqual(SEARCH_ATTRIBUTES);
  });

  it('runs the server with the dynamic config task priority needs', () => {
    expect(services.temporal?.volumes).toContain(
      './deploy/temporal-dynamic-config.yaml:/etc/temporal/config/dynamicconfig/spawnguard.yaml:ro',
    );
    expect(services.temporal?.environment?.TEMPORAL_DYNAMIC_CONFIG).toBe(
      '/etc/temporal/config/dynamicconfig/spawnguard.yaml',
    );
    const dynamic = parse(readFileSync(join(root, 'deploy', 'temporal-dynamic-config.yaml'), 'utf8')) as Record<
      string,
      { value: unknown; constraints?: Record<string, string> }[]
    >;
    expect(dynamic['matching.useNewMatcher']).toEqual([{ value: true }]);
    for (const key of ['matching.numTaskqueueReadPartitions', 'matching.numTaskqueueWritePartitions']) {
      // One partition for every queue (the host queues) but the central one.
      expect(dynamic[key]?.find((v) => !v.constraints)?.value).toBe(1);
    }
  });

  it('configures spawnguard services only with variables the config schema knows', () => {
    for (const name of ['ingest', 'central-worker']) {
      const env = services[name]?.environment ?? {};
      const unknown = Object.keys(env).filter((key) => !configNames.has(key));
      expect({ name, unknown }).toEqual({ name, unknown: [] });
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
    // The schema really is what the services would load: the compose defaults pass it.
    const sample = Object.fromEntries(
      Object.entries(services.ingest?.environment ?? {}).map(([k, v]) => [
        k,
        String(v)
          .replace(/\$\{[^}:]*:-([^}]*)\}/g, '$1')
          .replace(/\$\{[^}]*\}/g, 'x'),
      ]),
    );
    const { TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, ...rest } =
      sample;
    expect([
      TEMPORAL_TLS_CLIENT_CERT_PATH,
      TEMPORAL_TLS_CLIENT_KEY_PATH,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH,
    ]).not.toContain(undefined);
    const parsed = EnvironmentSchema.safeParse({
      ...rest,
      SPAWNGUARD_PUBLIC_URL: 'https://spawnguard.example.com',
      SPAWNGUARD_TEMPORAL_UI_URL: 'https://temporal.example.com',
      SPAWNGUARD_OIDC_ISSUER: 'https://login.example.com',
      SPAWNGUARD_PAYLOAD_KEY: randomBytes(32).toString('base64'),
      MAIL_TO: 'soc@example.com',
    });
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('runs the ingest service and the central worker from the project image, after the setup job', () => {
    expect(services.ingest?.command).toEqual(['node', 'bin/spawnguard.js', 'serve']);
    expect(services['central-worker']?.command).toEqual(['node', 'bin/spawnguard.js', 'worker', 'central']);
    for (const name of ['ingest', 'central-worker']) {
      expect(services[name]?.build).toBe('.');
      expect(services[name]?.depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
    }
  });

  it('never carries a secret in the file itself', () => {
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    for (const secret of [
      'SPAWNGUARD_INGEST_TOKEN',
      'SPAWNGUARD_LINK_SECRET',
      'SPAWNGUARD_PAYLOAD_KEY',
      'SPAWNGUARD_CODEC_TOKEN',
      'SPAWNGUARD_OIDC_CLIENT_SECRET',
      'VT_API_KEY',
      'MALWAREBAZAAR_API_KEY',
    ]) {
      expect(text).toMatch(new RegExp(`${secret}: \\$\\{${secret}[:?-]`));
    }
    expect(text).toMatch(/POSTGRES_PASSWORD: \$\{TEMPORAL_DB_PASSWORD:\?/);
  });
});

/**
 * Compose parity (issue 20): the server in docker-compose.yml runs deploy/temporal-server.yaml, the
 * file the native cluster (`npm run cluster`, the cluster tests) runs. Rendered here by the real
 * Temporal server 1.29.1 with the compose service's environment.
 */
describe('the Temporal server configuration shared by docker-compose.yml and the native cluster', () => {
  const temporal = services.temporal!;
  const template = readFileSync(SERVER_CONFIG, 'utf8');
  /** Compose's `${VAR:-default}` → default, `${VAR:?message}` → a sample value. */
  const resolved = Object.fromEntries(
    Object.entries(temporal.environment ?? {}).map(([key, value]) => [
      key,
      String(value)
        .replace(/\$\{[^}:]*:-([^}]*)\}/g, '$1')
        .replace(/\$\{[^}]*\}/g, 'sample-secret'),
    ]),
  );
  let rendered: Record<string, unknown>;
  let serverBinary: string;

  beforeAll(async () => {
    serverBinary = (await ensureTemporalServerBinaries()).server;
    const rootDirectory = mkdtempSync(join(tmpdir(), 'spawnguard-server-config-'));
    try {
      const configDirectory = join(rootDirectory, 'config', 'spawnguard');
      mkdirSync(configDirectory, { recursive: true });
      copyFileSync(SERVER_CONFIG, join(configDirectory, 'spawnguard.yaml'));
      const output = execFileSync(
        serverBinary,
        ['--root', rootDirectory, '--config', 'config/spawnguard', '--env', 'spawnguard', 'render-config'],
        {
          // render-config reads --config relative to the working directory (start joins it to --root).
          cwd: rootDirectory,
          env: { PATH: process.env.PATH ?? '', ...resolved, TEMPORAL_BROADCAST_IP: '172.18.0.5' },
          encoding: 'utf8',
        },
      );
      rendered = parse(output) as Record<string, unknown>;
    } finally {
      rmSync(rootDirectory, { recursive: true, force: true });
    }
  }, 60_000);

  it('is the file compose mounts and the entry point names, and the one the cluster links', () => {
    expect(temporal.volumes).toContain(
      './deploy/temporal-server.yaml:/etc/temporal/config/spawnguard/spawnguard.yaml:ro',
    );
    const entrypoint = [temporal.entrypoint].flat().join(' ');
    expect(entrypoint).toContain('--root /etc/temporal --config config/spawnguard --env spawnguard');
    expect(SERVER_CONFIG).toBe(join(root, 'deploy', 'temporal-server.yaml'));
    expect(template.split('\n')[0]).toBe('# enable-template');
  });

  it('renders, with the compose environment, to PostgreSQL persistence and visibility, mutual TLS and archival', () => {
    expect(rendered).toMatchObject({
      persistence: {
        numHistoryShards: 128,
        defaultStore: 'default',
        visibilityStore: 'visibility',
        datastores: {
          default: { sql: { pluginName: 'postgres12', databaseName: 'temporal', connectAddr: 'postgresql:5432' } },
          visibility: {
            sql: { pluginName: 'postgres12', databaseName: 'temporal_visibility', connectAddr: 'postgresql:5432' },
          },
        },
      },
      global: {
        membership: { broadcastAddress: '172.18.0.5' },
        tls: {
          frontend: {
            server: {
              certFile: `${CERTS}/temporal.pem`,
              keyFile: `${CERTS}/temporal.key`,
              requireClientAuth: true,
              clientCaFiles: [`${CERTS}/ca.pem`],
            },
          },
          internode: { server: { requireClientAuth: true } },
        },
      },
      services: { frontend: { rpc: { grpcPort: 7233, bindOnIP: '0.0.0.0' } } },
      archival: { history: { state: 'enabled' }, visibility: { state: 'enabled' } },
      dynamicConfigClient: { filepath: '/etc/temporal/config/dynamicconfig/spawnguard.yaml' },
    });
  });

  it('reads only variables compose sets or the template defaults, and compose sets none it does not read', () => {
    const read = [...template.matchAll(/env "(\w+)"( \| default)?/g)];
    const required = new Set(read.filter((m) => !m[2]).map((m) => m[1]!));
    const known = new Set(read.map((m) => m[1]!));
    // The broadcast address is computed by the entry point from the container's address.
    const provided = new Set([...Object.keys(temporal.environment ?? {}), 'TEMPORAL_BROADCAST_IP']);
    expect([...required].filter((name) => !provided.has(name))).toEqual([]);
    expect(Object.keys(temporal.environment ?? {}).filter((name) => !known.has(name))).toEqual([]);
  });

  it('has a dynamic config the server accepts without a warning', () => {
    const output = execFileSync(serverBinary, ['validate-dynamic-config', DYNAMIC_CONFIG], { encoding: 'utf8' });
    expect(output.trim()).toBe(DYNAMIC_CONFIG);
  });

  it('gives PostgreSQL the connections the server’s pools may hold, as the native cluster does', () => {
    const maxConns = Number(resolved.TEMPORAL_DB_MAX_CONNS);
    const allowed = Number(/max_connections=(\d+)/.exec([services.postgresql?.command].flat().join(' '))?.[1]);
    // Four services, each a pool to each database (visibility's half the size), plus the schema tool and an operator.
    expect(allowed).toBeGreaterThanOrEqual(4 * (maxConns + Math.floor(maxConns / 2)) + 10);
    expect(readFileSync(join(root, 'scripts', 'lib', 'postgres.ts'), 'utf8')).toContain(`max_connections=${allowed}`);
  });

  it('sets up and upgrades the schema with the script the cluster runs', () => {
    const job = services['temporal-schema']!;
    expect(job.image).toBe('temporalio/admin-tools:1.29.1');
    expect(job.volumes).toContain('./deploy/temporal-schema.sh:/etc/spawnguard/temporal-schema.sh:ro');
    expect([job.entrypoint].flat()).toEqual(['/bin/sh', '/etc/spawnguard/temporal-schema.sh']);
    expect(temporal.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    for (const key of ['TEMPORAL_DB_HOST', 'TEMPORAL_DB_USER', 'TEMPORAL_DB_PASSWORD'])
      expect({ key, value: job.environment?.[key] }).toEqual({ key, value: temporal.environment?.[key] });
  });
});

describe('docker-compose.mail-catcher.yml (trying the stack out)', () => {
  it('adds a mail catcher the central worker sends to, published to this machine only', () => {
    expect(Object.keys(catcher.services).sort()).toEqual(['central-worker', 'mail']);
    expect(catcher.services.mail?.image).toMatch(/^axllent\/mailpit:/);
    expect(catcher.services.mail?.ports).toEqual(['127.0.0.1:8025:8025']);
    expect(catcher.services['central-worker']?.environment).toEqual({ SMTP_PORT: '1025' });
    expect(catcher.services['central-worker']?.depends_on?.mail?.condition).toBe('service_healthy');
  });
});

describe('deploy/make-certs.sh', () => {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

  it('makes a private CA, the server certificate, one client certificate per part and per host, all verifying', () => {
    const files = readdirSync(certs.dir).sort();
    expect(files.filter((f) => f.endsWith('.pem'))).toEqual(
      [
        'ca.pem',
        'temporal.pem',
        'spawnguard-central.pem',
        'spawnguard-ingest.pem',
        'temporal-ui.pem',
        'temporal-admin.pem',
        'spawnguard-host-web01.pem',
        'spawnguard-host-web02.contoso.local.pem',
      ].sort(),
    );
    for (const pem of files.filter((f) => f.endsWith('.pem') && f !== 'ca.pem')) {
      expect(openssl('verify', '-CAfile', join(certs.dir, 'ca.pem'), join(certs.dir, pem)).trim()).toBe(
        `${join(certs.dir, pem)}: OK`,
      );
    }
    const server = new X509Certificate(readFileSync(join(certs.dir, 'temporal.pem')));
    expect(server.subjectAltName).toBe('DNS:temporal, DNS:localhost');
    expect(server.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1']));
    const host = new X509Certificate(readFileSync(join(certs.dir, 'spawnguard-host-web01.pem')));
    expect(host.subject).toBe('CN=spawnguard-host-web01');
    // A client certificate cannot serve TLS: a stolen host key does not impersonate the server.
    expect(host.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(host.checkIssued(new X509Certificate(readFileSync(join(certs.dir, 'ca.pem'))))).toBe(true);
    // Keys are readable by their owner only.
    for (const key of files.filter((f) => f.endsWith('.key'))) {
      expect({ key, mode: (statSync(join(certs.dir, key)).mode & 0o777).toString(8) }).toEqual({ key, mode: '600' });
    }
  });

  it('adds a new host to the same CA on a re-run, keeping every certificate made before', () => {
    const ca = readFileSync(join(certs.dir, 'ca.pem'), 'utf8');
    const web01 = readFileSync(join(certs.dir, 'spawnguard-host-web01.pem'), 'utf8');
    execFileSync('bash', [script, certs.dir, 'web03'], { stdio: 'pipe' });
    expect(readFileSync(join(certs.dir, 'ca.pem'), 'utf8')).toBe(ca);
    expect(readFileSync(join(certs.dir, 'spawnguard-host-web01.pem'), 'utf8')).toBe(web01);
    expect(
      openssl('verify', '-CAfile', join(certs.dir, 'ca.pem'), join(certs.dir, 'spawnguard-host-web03.pem')),
    ).toMatch(/: OK/);
  });

  it('refuses a host name that is not one, making nothing for it', () => {
    const run = () => execFileSync('bash', [script, certs.dir, 'web01;rm -rf /'], { stdio: 'pipe' });
    expect(run).toThrow(/is not a host name/);
    expect(readdirSync(certs.dir).filter((f) => f.includes('rm'))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  it('builds from a pinned Node 20 image with the locked dependencies, as a non-root user', () => {
    expect(dockerfile).toMatch(/^FROM node:20\.\d+-[\w-]+$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
