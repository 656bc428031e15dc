/** Bearer-token checks for the ingest API and the review page. */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time comparison. Both sides are hashed first so the comparison runs over equal lengths
 * and the time taken says nothing about the expected token's length or content.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function hasValidBearer(header: string | undefined, expected: string): boolean {
  const token = bearerToken(header);
  return token !== undefined && secretsEqual(token, expected);
}
