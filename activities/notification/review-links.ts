/**
 * Review links: `<publicUrl>/review/<workflowId>?token=…`. The token is an HMAC (SHA-256, keyed
 * with SPAWNGUARD_LINK_SECRET) over the workflow id, the incident's first run id and an expiry, so
 * a link opens the page for that one incident until it expires, and cannot be forged or moved to
 * another incident — not even to a later incident under the same workflow id: the first run id
 * names the chain of runs (continue-as-new keeps it), and the decision is sent to that chain only.
 * Opening a link changes nothing; the token only authorizes the page's POST. Links issued before
 * the run id was bound (`v1`) name the workflow id only, and still work until they expire.
 *
 * The same secret signs the review page's session cookie, under another purpose so that neither
 * kind of token is accepted as the other.
 *
 * Below both sides that use it: the central worker signs the links it mails (worker/central.ts),
 * the review page verifies them (client/review/page.ts).
 */
import { msToNumber, type Duration } from '@temporalio/common/lib/time';
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { publicUrl, type Config } from '../../common/config';

/** A secret's SHA-256: what constant-time comparisons compare (equal lengths whatever the secret). */
export const secretDigest = (secret: string): Buffer => hash('sha256', secret, 'buffer');

/**
 * Constant-time comparison. Both sides are hashed first so the comparison runs over equal lengths
 * and the time taken says nothing about the expected token's length or content.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(secretDigest(presented), secretDigest(expected));
}

function mac(secret: string, purpose: string, subject: string, expiresAt: number): string {
  return createHmac('sha256', secret).update(`${purpose}\n${subject}\n${expiresAt}`).digest('base64url');
}

function sign(secret: string, purpose: string, subject: string, expiresAt: number): string {
  return `v1.${expiresAt}.${mac(secret, purpose, subject, expiresAt)}`;
}

export type TokenCheck =
  | { valid: true; expiresAt: number; firstRunId?: string }
  | { valid: false; reason: 'malformed' | 'forged' | 'expired' };

/** What a token signs: the subject, and the first run id when the token is bound to one. */
const boundSubject = (subject: string, firstRunId?: string) => (firstRunId ? `${subject}\n${firstRunId}` : subject);

/** A run id as Temporal makes them (a UUID); nothing else is signed into a token. */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function verify(token: string, secret: string, purpose: string, subject: string, now: number): TokenCheck {
  const match = /^(v1|v2)\.(\d{10,13})\.(?:([0-9a-f-]{36})\.)?([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match || (match[1] === 'v2') !== (match[3] !== undefined)) return { valid: false, reason: 'malformed' };
  const expiresAt = Number(match[2]);
  const firstRunId = match[3];
  const signed = boundSubject(subject, firstRunId);
  // The signature is checked before the expiry so an altered expiry reads as forged.
  if (!secretsEqual(match[4] as string, mac(secret, purpose, signed, expiresAt)))
    return { valid: false, reason: 'forged' };
  if (expiresAt <= now) return { valid: false, reason: 'expired' };
  return { valid: true, expiresAt, ...(firstRunId ? { firstRunId } : {}) };
}

/**
 * Expiry is in milliseconds since the epoch. With the incident's first run id the token is bound to
 * that chain of runs (`v2`); without one (an incident recorded before the status carried it), to
 * the workflow id only.
 */
export function signReviewToken(workflowId: string, secret: string, expiresAt: number, firstRunId?: string): string {
  if (firstRunId === undefined) return sign(secret, 'review', workflowId, expiresAt);
  if (!RUN_ID.test(firstRunId)) throw new Error(`not a run id: ${firstRunId}`);
  return `v2.${expiresAt}.${firstRunId}.${mac(secret, 'review', boundSubject(workflowId, firstRunId), expiresAt)}`;
}

export function verifyReviewToken(token: string, workflowId: string, secret: string, now = Date.now()): TokenCheck {
  return verify(token, secret, 'review', workflowId, now);
}

export interface ReviewLinkOptions {
  /** Where analysts reach the review page (SPAWNGUARD_PUBLIC_URL), e.g. `https://spawnguard.example.com`. */
  publicUrl: string;
  /** SPAWNGUARD_LINK_SECRET: the ingest service must have the same one to accept the link. */
  secret: string;
  /** How long the link works; a review that outlives it is still reachable from the review list. */
  ttlMs: number;
  now?: number;
}

/** The link the review-request email carries for one incident (bound to its chain of runs when given). */
export function reviewLink(workflowId: string, options: ReviewLinkOptions, firstRunId?: string): string {
  const expiresAt = (options.now ?? Date.now()) + options.ttlMs;
  const base = options.publicUrl.replace(/\/+$/, '');
  const token = signReviewToken(workflowId, options.secret, expiresAt, firstRunId);
  return `${base}/review/${encodeURIComponent(workflowId)}?token=${encodeURIComponent(token)}`;
}

/**
 * The signer of review links the configuration asks for: with SPAWNGUARD_LINK_SECRET set, links to
 * SPAWNGUARD_PUBLIC_URL (default `http://localhost:<SPAWNGUARD_PORT>`, as the email's other links)
 * that work for twice SPAWNGUARD_REVIEW_TIMEOUT, so a link still opens the incident after its review
 * timed out. Without a secret, none: the email then gives the CLI and HTTP instructions only.
 */
export function configuredReviewLink(
  config: Config,
): ((workflowId: string, firstRunId?: string) => string) | undefined {
  const secret = config.env.SPAWNGUARD_LINK_SECRET;
  if (!secret) return undefined;
  const base = publicUrl(config.env);
  const ttlMs = 2 * msToNumber(config.env.SPAWNGUARD_REVIEW_TIMEOUT as Duration);
  return (workflowId, firstRunId) => reviewLink(workflowId, { publicUrl: base, secret, ttlMs }, firstRunId);
}

/** The review page's session (after the analyst signed in with the ingest token). */
export function signSession(secret: string, expiresAt: number): string {
  return sign(secret, 'session', 'analyst', expiresAt);
}

export function verifySession(token: string, secret: string, now = Date.now()): TokenCheck {
  return verify(token, secret, 'session', 'analyst', now);
}

/**
 * A value carried by the browser (a cookie) that only this service can have written: the JSON,
 * its expiry and an HMAC over both under `purpose`. Used for the signed-in analyst's session and for
 * the sign-in in progress; neither is accepted as the other, nor as a review link.
 */
export function signValue(value: unknown, secret: string, purpose: string, expiresAt: number): string {
  const body = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `s1.${expiresAt}.${body}.${mac(secret, purpose, body, expiresAt)}`;
}

/** The value of a token signValue made for `purpose`, or undefined when it is malformed, forged or expired. */
export function verifyValue(token: string, secret: string, purpose: string, now = Date.now()): unknown {
  const match = /^s1\.(\d{10,13})\.([A-Za-z0-9_-]{1,8000})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return undefined;
  const expiresAt = Number(match[1]);
  const body = match[2] as string;
  if (!secretsEqual(match[3] as string, mac(secret, purpose, body, expiresAt)) || expiresAt <= now) return undefined;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
