/** Bearer-token checks for the ingest API and the review page. */
import { timingSafeEqual } from 'node:crypto';
import { secretDigest as digest, secretsEqual } from '../../activities/notification/review-links';

export { secretsEqual };

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** A check of `Authorization` headers against one token (`credentialCheck` with one credential). */
export function bearerCheck(expected: string): (header: string | undefined) => boolean {
  const check = credentialCheck([{ name: 'bearer', token: expected }]);
  return (header) => check(header) !== undefined;
}

export function hasValidBearer(header: string | undefined, expected: string): boolean {
  return bearerCheck(expected)(header);
}

export interface SenderCredential {
  name: string;
  token: string;
}

/**
 * Which credential an `Authorization` header presents, if any: each token's digest is computed
 * once, and every one is compared on every request, so the time taken does not say which matched.
 */
export function credentialCheck(credentials: SenderCredential[]): (header: string | undefined) => string | undefined {
  const expected = credentials.map((c) => ({ name: c.name, digest: digest(c.token) }));
  return (header) => {
    const token = bearerToken(header);
    if (token === undefined) return undefined;
    const presented = digest(token);
    let match: string | undefined;
    for (const candidate of expected) {
      if (timingSafeEqual(presented, candidate.digest) && match === undefined) match = candidate.name;
    }
    return match;
  };
}
