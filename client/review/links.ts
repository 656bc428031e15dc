/**
 * Review links: `<publicUrl>/review/<workflowId>?token=…`. The token is an HMAC (SHA-256, keyed
 * with SPAWNGUARD_LINK_SECRET) over the workflow id and an expiry, so a link opens the page for
 * that one incident until it expires, and cannot be forged or moved to another incident. Opening
 * a link changes nothing; the token only authorizes the page's POST.
 *
 * The same secret signs the review page's session cookie, under another purpose so that neither
 * kind of token is accepted as the other.
 */
import { msToNumber, type Duration } from '@temporalio/common/lib/time';
import { createHmac } from 'node:crypto';
import { publicUrl, type Config } from '../../common/config';
import { secretsEqual } from '../ingest/auth';

const VERSION = 'v1';

function mac(secret: string, purpose: string, subject: string, expiresAt: number): string {
  return createHmac('sha256', secret).update(`${purpose}\n${subject}\n${expiresAt}`).digest('base64url');
}

function sign(secret: string, purpose: string, subject: string, expiresAt: number): string {
  return `${VERSION}.${expiresAt}.${mac(secret, purpose, subject, expiresAt)}`;
}

export type TokenCheck =
  { valid: true; expiresAt: number } | { valid: false; reason: 'malformed' | 'forged' | 'expired' };

function verify(token: string, secret: string, purpose: string, subject: string, now: number): TokenCheck {
  const match = /^v1\.(\d{10,13})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { valid: false, reason: 'malformed' };
  const expiresAt = Number(match[1]);
  // The signature is checked before the expiry so an altered expiry reads as forged.
  if (!secretsEqual(match[2] as string, mac(secret, purpose, subject, expiresAt)))
    return { valid: false, reason: 'forged' };
  if (expiresAt <= now) return { valid: false, reason: 'expired' };
  return { valid: true, expiresAt };
}

/** Expiry is in milliseconds since the epoch. */
export function signReviewToken(workflowId: string, secret: string, expiresAt: number): string {
  return sign(secret, 'review', workflowId, expiresAt);
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

/** The link the review-request email carries for one incident. */
export function reviewLink(workflowId: string, options: ReviewLinkOptions): string {
  const expiresAt = (options.now ?? Date.now()) + options.ttlMs;
  const base = options.publicUrl.replace(/\/+$/, '');
  const token = signReviewToken(workflowId, options.secret, expiresAt);
  return `${base}/review/${encodeURIComponent(workflowId)}?token=${encodeURIComponent(token)}`;
}

/**
 * The signer of review links the configuration asks for: with SPAWNGUARD_LINK_SECRET set, links to
 * SPAWNGUARD_PUBLIC_URL (default `http://localhost:<SPAWNGUARD_PORT>`, as the email's other links)
 * that work for twice SPAWNGUARD_REVIEW_TIMEOUT, so a link still opens the incident after its review
 * timed out. Without a secret, none: the email then gives the CLI and HTTP instructions only.
 */
export function configuredReviewLink(config: Config): ((workflowId: string) => string) | undefined {
  const secret = config.env.SPAWNGUARD_LINK_SECRET;
  if (!secret) return undefined;
  const base = publicUrl(config.env);
  const ttlMs = 2 * msToNumber(config.env.SPAWNGUARD_REVIEW_TIMEOUT as Duration);
  return (workflowId) => reviewLink(workflowId, { publicUrl: base, secret, ttlMs });
}

/** The review page's session (after the analyst signed in with the ingest token). */
export function signSession(secret: string, expiresAt: number): string {
  return sign(secret, 'session', 'analyst', expiresAt);
}

export function verifySession(token: string, secret: string, now = Date.now()): TokenCheck {
  return verify(token, secret, 'session', 'analyst', now);
}
