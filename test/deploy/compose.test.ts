/**
 * docker-compose.yml checked structurally (no Docker engine runs here): the services a deployment
 * needs, pinned images, health checks, persistent volumes, the search attributes spawnguard relies
 * on, and environment names the config schema knows, so a typo cannot silently drop a setting.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EnvironmentSchema } from '../../common/config';
import { SEARCH_ATTRIBUTES } from '../../common/names';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}

const root = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const configNames = new Set(Object.keys(EnvironmentSchema.shape));

describe('docker-compose.yml', () => {
  it('has the production-like stack of DESIGN.md §2', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'central-worker',
        'ingest',
        'mail',
        'postgresql',
        'temporal',
        'temporal-search-attributes',
        'temporal-ui',
      ].sort(),
    );
  });

  it('pins every image to an explicit version', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, image: service.image }).toEqual({
        name,
        image: expect.stringMatching(/^[\w./-]+:v?\d+(\.\d+)+$/),
      });
    }
  });

  it('gives every long-running service a health check and a restart policy', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'temporal-search-attributes') continue; // one-shot job
      expect({ name, health: Array.isArray(service.healthcheck?.test) }).toEqual({ name, health: true });
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
    }
  });

  it('keeps Temporal and mail state in named volumes', () => {
    expect(services.postgresql?.volumes).toContain('postgresql-data:/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['postgresql-data', 'mail-data']));
  });

  it('exposes the documented ports: frontend 7233, UI, ingest 3000, SMTP 1025 and mail view 8025', () => {
    expect(services.temporal?.ports).toContain('7233:7233');
    expect(services['temporal-ui']?.ports).toContain('8080:8080');
    expect(services.ingest?.ports).toContain('3000:3000');
    expect(services.mail?.ports).toEqual(expect.arrayContaining(['1025:1025', '8025:8025']));
  });

  it('registers exactly spawnguard’s search attributes with their types', () => {
    const script = [services['temporal-search-attributes']?.command].flat().join(' ');
    const registered = Object.fromEntries([...script.matchAll(/(\w+)=(Keyword|Int)\b/g)].map((m) => [m[1], m[2]]));
    expect(registered).toEqual(SEARCH_ATTRIBUTES);
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
    expect(
      EnvironmentSchema.safeParse({
        ...sample,
        SPAWNGUARD_PUBLIC_URL: 'http://localhost:3000',
        SPAWNGUARD_TEMPORAL_UI_URL: 'http://localhost:8080',
        MAIL_TO: 'soc@localhost',
      }).success,
    ).toBe(true);
  });

  it('runs the ingest service and the central worker from the project image, after the search attributes exist', () => {
    expect(services.ingest?.command).toEqual(['node', 'bin/spawnguard.js', 'serve']);
    expect(services['central-worker']?.command).toEqual(['node', 'bin/spawnguard.js', 'worker', 'central']);
    for (const name of ['ingest', 'central-worker']) {
      expect(services[name]?.build).toBe('.');
      expect(services[name]?.depends_on?.['temporal-search-attributes']?.condition).toBe(
        'service_completed_successfully',
      );
    }
  });

  it('never carries a secret in the file itself', () => {
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    for (const secret of ['SPAWNGUARD_INGEST_TOKEN', 'SPAWNGUARD_LINK_SECRET', 'VT_API_KEY', 'MALWAREBAZAAR_API_KEY']) {
      expect(text).toMatch(new RegExp(`${secret}: \\$\\{${secret}[:?-]`));
    }
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
