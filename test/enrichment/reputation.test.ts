/**
 * Reputation sources against a local server speaking the VirusTotal v3 and MalwareBazaar APIs:
 * what each answer becomes, one upstream request per hash however many incidents ask, 429 handled,
 * an outage is unknown (never clean), a bad key is a non-retryable failure.
 */
import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { ReputationReportSchema, type ReputationReport } from '../../common/incident-status';
import { createReputationService } from '../../activities/enrichment';
import { createMalwareBazaarProvider } from '../../activities/enrichment/malwarebazaar';
import { parseRetryAfter } from '../../activities/enrichment/rate-limit';
import {
  FORBIDDEN_KEY,
  HASHES,
  startFakeReputationApi,
  VALID_KEY,
  type FakeReputationApi,
} from './fake-reputation-api';

let api: FakeReputationApi;
beforeEach(async () => {
  api = await startFakeReputationApi();
});
afterEach(async () => {
  await api.close();
});

const FAST_BACKOFF = { maxRetries: 3, initialDelayMs: 20, maxDelayMs: 2_000 };

/**
 * The local fake answers in milliseconds; the client's deadline is generous so a loaded CI machine
 * (2 cores, a dev server and a browser beside it) never turns an answer into a timeout. The test of
 * the deadline itself passes a short one.
 */
function service(env: Record<string, string> = {}, timeoutMs = 5_000) {
  const config = loadConfig({
    VT_API_KEY: VALID_KEY,
    VT_API_URL: api.vtUrl,
    MALWAREBAZAAR_API_KEY: VALID_KEY,
    MALWAREBAZAAR_API_URL: api.mbUrl,
    ...env,
  });
  return createReputationService(config, { timeoutMs, backoff: FAST_BACKOFF });
}

const result = (report: ReputationReport, source: string) => report.results.find((r) => r.source === source);

describe('VirusTotal v3', () => {
  it('turns a known file into engine counts, the suggested label and a link to the VirusTotal page', async () => {
    const report = await service().lookupReputation({ sha256: HASHES.found.toUpperCase() });
    expect(ReputationReportSchema.parse(report)).toEqual(report);
    expect(report.sha256).toBe(HASHES.found);
    expect(result(report, 'virustotal')).toEqual({
      source: 'virustotal',
      status: 'known',
      malicious: 48,
      suspicious: 2,
      total: 75,
      label: 'trojan.cobaltstrike/beacon',
      link: `https://www.virustotal.com/gui/file/${HASHES.found}`,
    });
  });

  it('reports a file VirusTotal has never seen (404) as unknown, without an error', async () => {
    const report = await service().lookupReputation({ sha256: HASHES.notFound });
    expect(result(report, 'virustotal')).toMatchObject({ status: 'unknown', malicious: 0, total: 0 });
    expect(result(report, 'virustotal')?.error).toBeUndefined();
  });

  it('makes exactly one upstream request for 50 concurrent lookups of one hash, and serves later ones from cache', async () => {
    const reputation = service();
    const reports = await Promise.all(
      Array.from({ length: 50 }, () => reputation.lookupReputation({ sha256: HASHES.foundSlowly })),
    );
    expect(api.requests.get(HASHES.foundSlowly)).toBe(1);
    expect(new Set(reports.map((r) => result(r, 'virustotal')?.malicious))).toEqual(new Set([48]));

    await reputation.lookupReputation({ sha256: HASHES.foundSlowly });
    expect(api.requests.get(HASHES.foundSlowly)).toBe(1);
  });

  it('keeps a verdict for its TTL and a "not seen" answer for a shorter one, then asks again', async () => {
    let clock = 0;
    const config = loadConfig({ VT_API_KEY: VALID_KEY, VT_API_URL: api.vtUrl });
    const reputation = createReputationService(config, {
      cache: { now: () => clock, ttlMs: 10_000, unknownTtlMs: 1_000 },
    });
    const lookBoth = () =>
      Promise.all([
        reputation.lookupReputation({ sha256: HASHES.found }),
        reputation.lookupReputation({ sha256: HASHES.notFound }),
      ]);

    await lookBoth();
    clock = 999;
    await lookBoth();
    expect([api.requests.get(HASHES.found), api.requests.get(HASHES.notFound)]).toEqual([1, 1]);
    clock = 1_000;
    await lookBoth();
    expect([api.requests.get(HASHES.found), api.requests.get(HASHES.notFound)]).toEqual([1, 2]);
    clock = 10_000;
    const [found] = await lookBoth();
    expect([api.requests.get(HASHES.found), api.requests.get(HASHES.notFound)]).toEqual([2, 3]);
    expect(result(found, 'virustotal')).toMatchObject({ status: 'known', malicious: 48 });
  });

  it('waits out a 429 with Retry-After in seconds and still gets the answer', async () => {
    const report = await service().lookupReputation({ sha256: HASHES.rateLimitedOnce });
    expect(api.requests.get(HASHES.rateLimitedOnce)).toBe(2);
    expect(result(report, 'virustotal')).toMatchObject({ status: 'known', malicious: 48 });
  });

  it('loses none of 50 concurrent lookups of one hash to a 429: one wait, one retry, every caller answered', async () => {
    const reputation = service();
    const reports = await Promise.all(
      Array.from({ length: 50 }, () => reputation.lookupReputation({ sha256: HASHES.rateLimitedOnce })),
    );
    expect(api.requests.get(HASHES.rateLimitedOnce)).toBe(2);
    for (const report of reports) {
      expect(result(report, 'virustotal')).toMatchObject({ status: 'known', malicious: 48 });
    }
  });

  it('holds back lookups of other hashes after a 429 instead of spending requests on the exhausted quota', async () => {
    // No retries: the first lookup gives up at once, but the quota it found exhausted stays so.
    const config = loadConfig({ VT_API_KEY: VALID_KEY, VT_API_URL: api.vtUrl });
    const reputation = createReputationService(config, { backoff: { ...FAST_BACKOFF, maxRetries: 0 } });
    api.exhaustQuota(1_000);

    const first = await reputation.lookupReputation({ sha256: HASHES.found });
    expect(result(first, 'virustotal')).toMatchObject({ status: 'unknown' });
    expect(result(first, 'virustotal')?.error).toMatch(/quota exceeded \(HTTP 429\) after 1 attempts/);

    const second = await reputation.lookupReputation({ sha256: HASHES.notFound });
    expect(result(second, 'virustotal')).toMatchObject({ status: 'unknown' });
    expect(result(second, 'virustotal')?.error).toBeUndefined();
    expect(api.requests.get(HASHES.notFound)).toBe(1);

    // The failed answer was not cached: the next incident with that hash asks again, and gets it.
    const again = await reputation.lookupReputation({ sha256: HASHES.found });
    expect(result(again, 'virustotal')).toMatchObject({ status: 'known', malicious: 48 });
    expect(api.requests.get(HASHES.found)).toBe(2);
  });

  it('waits out a 429 with Retry-After as an HTTP date', async () => {
    const report = await service().lookupReputation({ sha256: HASHES.rateLimitedByDate });
    expect(api.requests.get(HASHES.rateLimitedByDate)).toBe(2);
    expect(result(report, 'virustotal')).toMatchObject({ status: 'known', malicious: 48 });
  });

  it('gives up after a bounded number of 429s and reports unknown with the reason', async () => {
    const report = await service().lookupReputation({ sha256: HASHES.alwaysRateLimited });
    expect(api.requests.get(HASHES.alwaysRateLimited)).toBe(FAST_BACKOFF.maxRetries + 1);
    expect(result(report, 'virustotal')).toMatchObject({ status: 'unknown', malicious: 0 });
    expect(result(report, 'virustotal')?.error).toMatch(/429/);
  });

  it('reports a server error as unknown with the error (never as clean) and asks again next time', async () => {
    const reputation = service();
    const report = await reputation.lookupReputation({ sha256: HASHES.serverError });
    expect(result(report, 'virustotal')).toMatchObject({ status: 'unknown', error: 'VirusTotal answered HTTP 500' });
    await reputation.lookupReputation({ sha256: HASHES.serverError });
    expect(api.requests.get(HASHES.serverError)).toBe(2);
  });

  it('reports a server that does not answer in time as unknown with a timeout error', async () => {
    const report = await service({}, 500).lookupReputation({ sha256: HASHES.slow });
    expect(result(report, 'virustotal')).toMatchObject({ status: 'unknown', malicious: 0 });
    expect(result(report, 'virustotal')?.error).toMatch(/no answer within 500 ms/);
    expect(result(report, 'malwarebazaar')).toMatchObject({ status: 'unknown', malicious: 0 });
    expect(result(report, 'malwarebazaar')?.error).toMatch(/MalwareBazaar unreachable: no answer within 500 ms/);
  });

  it('reports a server that is down as unknown with the connection error', async () => {
    const reputation = service();
    await api.close();
    const report = await reputation.lookupReputation({ sha256: HASHES.found });
    expect(result(report, 'virustotal')?.status).toBe('unknown');
    expect(result(report, 'virustotal')?.error).toMatch(/VirusTotal unreachable: ECONNREFUSED/);
    expect(result(report, 'malwarebazaar')?.error).toMatch(/MalwareBazaar unreachable/);
  });

  it('treats 403 (a key without access to the file API) as a bad key too', async () => {
    await expect(
      service({ VT_API_KEY: FORBIDDEN_KEY }).lookupReputation({ sha256: HASHES.found }),
    ).rejects.toMatchObject({
      type: 'ReputationAuthError',
      nonRetryable: true,
      message: expect.stringMatching(/HTTP 403/),
    });
  });

  it('fails non-retryably with ReputationAuthError on a bad key, without revealing the key', async () => {
    const secret = 'wrong-key-do-not-print-me';
    const failure = await service({ VT_API_KEY: secret })
      .lookupReputation({ sha256: HASHES.found })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ReputationAuthError', nonRetryable: true });
    expect((failure as Error).message).toMatch(/VirusTotal rejected the API key \(HTTP 401\): check VT_API_KEY/);
    expect((failure as Error).message).not.toContain(secret);
  });
});

describe('MalwareBazaar', () => {
  it('reports a sample in the corpus as known malicious with its signature', async () => {
    const report = await service().lookupReputation({ sha256: HASHES.found });
    expect(result(report, 'malwarebazaar')).toEqual({
      source: 'malwarebazaar',
      status: 'known',
      malicious: 1,
      suspicious: 0,
      total: 1,
      label: 'CobaltStrike',
      link: `https://bazaar.abuse.ch/sample/${HASHES.found}/`,
    });
  });

  it('reports hash_not_found as unknown without an error, and an HTTP failure as unknown with one', async () => {
    const reputation = service();
    const missing = await reputation.lookupReputation({ sha256: HASHES.notFound });
    expect(result(missing, 'malwarebazaar')).toMatchObject({ status: 'unknown' });
    expect(result(missing, 'malwarebazaar')?.error).toBeUndefined();
    const broken = await reputation.lookupReputation({ sha256: HASHES.serverError });
    expect(result(broken, 'malwarebazaar')).toMatchObject({
      status: 'unknown',
      error: 'MalwareBazaar answered HTTP 502',
    });
  });

  it('waits out a 429 and still gets the answer', async () => {
    const report = await service().lookupReputation({ sha256: HASHES.rateLimitedOnce });
    expect(api.requests.get(`mb:${HASHES.rateLimitedOnce}`)).toBe(2);
    expect(result(report, 'malwarebazaar')).toMatchObject({ status: 'unknown' });
    expect(result(report, 'malwarebazaar')?.error).toBeUndefined();
  });

  it('reports illegal_hash as an error', async () => {
    const provider = createMalwareBazaarProvider({ apiKey: VALID_KEY, apiUrl: api.mbUrl });
    expect(await provider.lookup('not-a-hash')).toMatchObject({
      status: 'unknown',
      error: 'MalwareBazaar query failed: illegal_hash',
    });
  });

  it('fails non-retryably with ReputationAuthError on a bad key', async () => {
    const failure = await service({ MALWAREBAZAAR_API_KEY: 'nope-secret' })
      .lookupReputation({ sha256: HASHES.notFound })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ type: 'ReputationAuthError', nonRetryable: true });
    expect((failure as Error).message).toMatch(/MALWAREBAZAAR_API_KEY/);
    expect((failure as Error).message).not.toContain('nope-secret');
  });
});

describe('which sources are consulted', () => {
  it('lists a source without its key or list as not consulted, with the reason, and does not call it', async () => {
    const report = await createReputationService(loadConfig({ VT_API_URL: api.vtUrl })).lookupReputation({
      sha256: HASHES.found,
    });
    expect(report.results).toEqual([]);
    expect(report.consulted).toEqual([]);
    expect(report.notConsulted).toEqual(
      expect.arrayContaining([
        { source: 'virustotal', reason: 'VT_API_KEY is not set' },
        { source: 'malwarebazaar', reason: 'MALWAREBAZAAR_API_KEY is not set' },
        { source: 'allowlist', reason: 'SPAWNGUARD_ALLOWLIST is not set' },
        { source: 'denylist', reason: 'SPAWNGUARD_DENYLIST is not set' },
      ]),
    );
    expect(api.requests.size).toBe(0);
  });

  it('refuses a request that is not a SHA-256, non-retryably', async () => {
    await expect(service().lookupReputation({ sha256: 'abc' })).rejects.toMatchObject({
      type: 'InvalidRequest',
      nonRetryable: true,
    });
  });
});

describe('local allow and deny lists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spawnguard-lists-'));
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads hashes one a line, ignoring comments, blank lines and case', async () => {
    const deny = write(
      'deny.txt',
      ['# known bad', '', `${HASHES.found.toUpperCase()}  # beacon dropper`, '   ', `  ${HASHES.slow}`].join('\r\n'),
    );
    const allow = write('allow.txt', `# golden images\n${HASHES.notFound}\n`);
    const reputation = createReputationService(loadConfig({ SPAWNGUARD_DENYLIST: deny, SPAWNGUARD_ALLOWLIST: allow }));

    const bad = await reputation.lookupReputation({ sha256: HASHES.found });
    expect(bad.consulted.sort()).toEqual(['allowlist', 'denylist']);
    expect(result(bad, 'denylist')).toMatchObject({ status: 'known', malicious: 1 });
    expect(result(bad, 'allowlist')).toMatchObject({ status: 'unknown' });
    expect((await reputation.lookupReputation({ sha256: HASHES.slow })).results).toContainEqual(
      expect.objectContaining({ source: 'denylist', status: 'known', malicious: 1 }),
    );

    const good = await reputation.lookupReputation({ sha256: HASHES.notFound });
    expect(result(good, 'allowlist')).toMatchObject({ status: 'known', malicious: 0 });
    expect(result(good, 'denylist')).toMatchObject({ status: 'unknown' });
  });

  it('refuses a list with bad lines, naming the variable, the file and every bad line number', () => {
    const deny = write('broken.txt', ['# header', HASHES.found, 'deadbeef', '', `${HASHES.found}0`, 'zz'].join('\n'));
    let message = '';
    try {
      createReputationService(loadConfig({ SPAWNGUARD_DENYLIST: deny }));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`SPAWNGUARD_DENYLIST: ${deny} line 3: "deadbeef" is not a SHA-256 hash`);
    expect(message).toContain(`line 5: "${HASHES.found}0"`);
    expect(message).toContain('line 6: "zz"');
    expect(message).not.toMatch(/line [124]:/);
  });

  it('refuses a list file that does not exist', () => {
    expect(() => createReputationService(loadConfig({ SPAWNGUARD_ALLOWLIST: join(dir, 'missing.txt') }))).toThrow(
      /SPAWNGUARD_ALLOWLIST: cannot read .*missing\.txt \(ENOENT\)/,
    );
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates, and ignores what it cannot read', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
