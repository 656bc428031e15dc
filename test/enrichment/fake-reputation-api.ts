/**
 * A local stand-in for the VirusTotal v3 and MalwareBazaar APIs (node:http on 127.0.0.1, port 0),
 * answering as the documented APIs do. Behaviour is chosen by the hash asked for.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const VALID_KEY = 'test-key-0123456789';
/** A key the fake knows but that may not use the file API (VirusTotal's ForbiddenError, HTTP 403). */
export const FORBIDDEN_KEY = 'test-key-forbidden';

export const HASHES = {
  found: 'a'.repeat(64),
  notFound: 'b'.repeat(64),
  rateLimitedOnce: 'c'.repeat(64),
  rateLimitedByDate: 'd'.repeat(64),
  alwaysRateLimited: 'e'.repeat(64),
  serverError: 'f'.repeat(64),
  slow: '1'.repeat(64),
  foundSlowly: '2'.repeat(64),
} as const;

export interface FakeReputationApi {
  vtUrl: string;
  mbUrl: string;
  /** Upstream requests received, per hash (MalwareBazaar's as `mb:<hash>`). */
  requests: Map<string, number>;
  /** VirusTotal answers 429 (Retry-After in whole seconds) to every request for this long. */
  exhaustQuota(ms: number): void;
  /** Resolves once `count` requests for `key` (a hash, or `mb:<hash>`) have arrived. */
  waitForRequests(key: string, count: number): Promise<void>;
  close(): Promise<void>;
}

const vtReport = (sha256: string) => ({
  data: {
    id: sha256,
    type: 'file',
    attributes: {
      reputation: -42,
      last_analysis_stats: {
        malicious: 48,
        suspicious: 2,
        undetected: 20,
        harmless: 0,
        timeout: 1,
        'confirmed-timeout': 0,
        'type-unsupported': 4,
        failure: 0,
      },
      popular_threat_classification: { suggested_threat_label: 'trojan.cobaltstrike/beacon' },
    },
  },
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeReputationApi(): Promise<FakeReputationApi> {
  const requests = new Map<string, number>();
  const waiters: { key: string; count: number; wake: () => void }[] = [];
  let quotaResetsAt = 0;
  const count = (hash: string) => {
    const n = (requests.get(hash) ?? 0) + 1;
    requests.set(hash, n);
    for (const waiter of waiters.filter((w) => w.key === hash && w.count <= n)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.wake();
    }
    return n;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const vtMatch = /^\/api\/v3\/files\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && vtMatch) {
      const hash = vtMatch[1]!;
      const n = count(hash);
      if (req.headers['x-apikey'] === FORBIDDEN_KEY) {
        return json(res, 403, {
          error: { code: 'ForbiddenError', message: 'You are not allowed to perform the requested operation' },
        });
      }
      if (req.headers['x-apikey'] !== VALID_KEY) {
        return json(res, 401, { error: { code: 'WrongCredentialsError', message: 'Wrong API key' } });
      }
      const quotaLeftMs = quotaResetsAt - Date.now();
      if (quotaLeftMs > 0) {
        const seconds = String(Math.ceil(quotaLeftMs / 1000));
        return json(res, 429, { error: { code: 'QuotaExceededError' } }, { 'retry-after': seconds });
      }
      switch (hash) {
        case HASHES.found:
          return json(res, 200, vtReport(hash));
        case HASHES.foundSlowly:
          await new Promise((resolve) => setTimeout(resolve, 150));
          return json(res, 200, vtReport(hash));
        case HASHES.rateLimitedOnce:
          if (n === 1) return json(res, 429, { error: { code: 'QuotaExceededError' } }, { 'retry-after': '1' });
          return json(res, 200, vtReport(hash));
        case HASHES.rateLimitedByDate:
          if (n === 1) {
            const at = new Date(Date.now() + 1000).toUTCString();
            return json(res, 429, { error: { code: 'QuotaExceededError' } }, { 'retry-after': at });
          }
          return json(res, 200, vtReport(hash));
        case HASHES.alwaysRateLimited:
          return json(res, 429, { error: { code: 'QuotaExceededError' } }, { 'retry-after': '0' });
        case HASHES.serverError:
          return json(res, 500, { error: { code: 'TransientError' } });
        case HASHES.slow: {
          // Answers far too late (and never, once the client has hung up).
          const timer = setTimeout(() => json(res, 200, vtReport(hash)), 3_000);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        default:
          return json(res, 404, { error: { code: 'NotFoundError', message: `File "${hash}" not found` } });
      }
    }
    if (req.method === 'POST' && url.pathname === '/mb/api/v1/') {
      const form = new URLSearchParams(await readBody(req));
      const hash = form.get('hash') ?? '';
      const n = count(`mb:${hash}`);
      if (req.headers['auth-key'] !== VALID_KEY) return json(res, 401, { query_status: 'unknown_auth_key' });
      if (form.get('query') !== 'get_info') return json(res, 200, { query_status: 'unknown_operation' });
      if (!hash) return json(res, 200, { query_status: 'no_hash_provided' });
      if (!/^[0-9a-f]{64}$/.test(hash)) return json(res, 200, { query_status: 'illegal_hash' });
      if (hash === HASHES.serverError) {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
        return;
      }
      if (hash === HASHES.rateLimitedOnce && n === 1) {
        return json(res, 429, { query_status: 'rate_limited' }, { 'retry-after': '1' });
      }
      if (hash === HASHES.slow) {
        const timer = setTimeout(() => json(res, 200, { query_status: 'hash_not_found' }), 3_000);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      if (hash === HASHES.found) {
        return json(res, 200, {
          query_status: 'ok',
          data: [{ sha256_hash: hash, file_type: 'exe', signature: 'CobaltStrike', tags: ['beacon'] }],
        });
      }
      return json(res, 200, { query_status: 'hash_not_found' });
    }
    json(res, 404, { error: 'no such route' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    vtUrl: `http://127.0.0.1:${port}/api/v3`,
    mbUrl: `http://127.0.0.1:${port}/mb/api/v1/`,
    requests,
    exhaustQuota(ms) {
      quotaResetsAt = Date.now() + ms;
    },
    waitForRequests(key, wanted) {
      if ((requests.get(key) ?? 0) >= wanted) return Promise.resolve();
      return new Promise((wake) => waiters.push({ key, count: wanted, wake }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
