/** Review-link tokens: bound to one incident, expiring, unforgeable, and not interchangeable with a session. */
import {
  configuredReviewLink,
  reviewLink,
  signReviewToken,
  signSession,
  verifyReviewToken,
  verifySession,
} from '../../activities/notification/review-links';
import { loadConfig } from '../../common/config';

const SECRET = 'link-secret';
const NOW = Date.parse('2026-11-23T12:00:00Z');
const ID = 'spawnguard-web01-4312-6120.20240501T101112Z';

describe('review links', () => {
  it('makes a link to the incident on the public URL whose token verifies until it expires', () => {
    const url = new URL(
      reviewLink(ID, { publicUrl: 'https://sg.example.com/', secret: SECRET, ttlMs: 3_600_000, now: NOW }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`https://sg.example.com/review/${ID}`);
    const token = url.searchParams.get('token') as string;
    expect(verifyReviewToken(token, ID, SECRET, NOW + 3_599_999)).toEqual({ valid: true, expiresAt: NOW + 3_600_000 });
    expect(verifyReviewToken(token, ID, SECRET, NOW + 3_600_000)).toEqual({ valid: false, reason: 'expired' });
  });

  it('refuses a token for another incident, under another secret, with an edited expiry, or malformed', () => {
    const token = signReviewToken(ID, SECRET, NOW + 60_000);
    expect(verifyReviewToken(token, `${ID}x`, SECRET, NOW)).toEqual({ valid: false, reason: 'forged' });
    expect(verifyReviewToken(token, ID, 'other-secret', NOW)).toEqual({ valid: false, reason: 'forged' });
    const [version, expiry, mac] = token.split('.');
    expect(verifyReviewToken(`${version}.${Number(expiry) + 1}.${mac}`, ID, SECRET, NOW)).toEqual({
      valid: false,
      reason: 'forged',
    });
    expect(verifyReviewToken('', ID, SECRET, NOW)).toEqual({ valid: false, reason: 'malformed' });
    expect(verifyReviewToken(`${token}A`, ID, SECRET, NOW)).toEqual({ valid: false, reason: 'malformed' });
  });

  it('binds a token to the incident’s first run id when given one; the run id cannot be swapped', () => {
    const run = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const other = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c';
    const token = signReviewToken(ID, SECRET, NOW + 60_000, run);
    expect(token.startsWith(`v2.${NOW + 60_000}.${run}.`)).toBe(true);
    expect(verifyReviewToken(token, ID, SECRET, NOW)).toEqual({
      valid: true,
      expiresAt: NOW + 60_000,
      firstRunId: run,
    });
    expect(verifyReviewToken(token.replace(run, other), ID, SECRET, NOW)).toEqual({ valid: false, reason: 'forged' });
    // A v1 token with a run id spliced in, or a v2 token without one, is not a token.
    expect(verifyReviewToken(token.replace('v2.', 'v1.'), ID, SECRET, NOW)).toEqual({
      valid: false,
      reason: 'malformed',
    });
    expect(verifyReviewToken(token.replace(`${run}.`, ''), ID, SECRET, NOW)).toEqual({
      valid: false,
      reason: 'malformed',
    });
    expect(() => signReviewToken(ID, SECRET, NOW, 'not-a-run-id')).toThrow(/not a run id/);
  });

  it('keeps review tokens and sessions apart', () => {
    const session = signSession(SECRET, NOW + 60_000);
    expect(verifySession(session, SECRET, NOW).valid).toBe(true);
    expect(verifyReviewToken(session, 'analyst', SECRET, NOW).valid).toBe(false);
    expect(verifySession(signReviewToken('analyst', SECRET, NOW + 60_000), SECRET, NOW).valid).toBe(false);
  });
});

describe('review links from the configuration (what the central worker signs with)', () => {
  const env = { TEMPORAL_ADDRESS: 'localhost:7233' };

  it('signs none without SPAWNGUARD_LINK_SECRET', () => {
    expect(configuredReviewLink(loadConfig(env))).toBeUndefined();
  });

  it('links to SPAWNGUARD_PUBLIC_URL for twice SPAWNGUARD_REVIEW_TIMEOUT, verifiable with the same secret', () => {
    const sign = configuredReviewLink(
      loadConfig({
        ...env,
        SPAWNGUARD_LINK_SECRET: SECRET,
        SPAWNGUARD_PUBLIC_URL: 'https://sg.example.com',
        SPAWNGUARD_REVIEW_TIMEOUT: '2h',
      }),
    )!;
    const before = Date.now();
    const url = new URL(sign(ID));
    const after = Date.now();
    expect(`${url.origin}${url.pathname}`).toBe(`https://sg.example.com/review/${ID}`);
    const check = verifyReviewToken(url.searchParams.get('token')!, ID, SECRET, after);
    expect(check.valid).toBe(true);
    const expiresAt = (check as { expiresAt: number }).expiresAt;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 4 * 3_600_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 4 * 3_600_000);
  });

  it('defaults the public URL to the ingest port on localhost', () => {
    const sign = configuredReviewLink(loadConfig({ ...env, SPAWNGUARD_LINK_SECRET: SECRET, SPAWNGUARD_PORT: '3100' }))!;
    expect(sign(ID).startsWith(`http://localhost:3100/review/${encodeURIComponent(ID)}?token=`)).toBe(true);
  });
});
