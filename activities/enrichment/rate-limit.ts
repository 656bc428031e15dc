/**
 * How long to wait after an HTTP 429: the server's Retry-After when it gives one, bounded either way;
 * and a per-source cooldown, because a quota (VirusTotal's free tier: 4 lookups a minute) is spent
 * by every hash alike: after a 429, no request for any hash goes out until the wait is over.
 */
import { sleep } from './provider';

/** Parses Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface BackoffPolicy {
  /** Retries after the first 429 before giving up with "unknown". */
  maxRetries: number;
  /** First wait when the server gives no Retry-After; doubles each time. */
  initialDelayMs: number;
  /** Upper bound on any single wait, whatever Retry-After says. */
  maxDelayMs: number;
}

/** Worst case 3 waits of 20 s plus 4 requests of 10 s: inside the activity's 2-minute start-to-close. */
export const DEFAULT_BACKOFF: BackoffPolicy = { maxRetries: 3, initialDelayMs: 1_000, maxDelayMs: 20_000 };

/** The wait before retry number `retry` (0-based). */
export function retryDelay(policy: BackoffPolicy, retry: number, retryAfter: string | null | undefined): number {
  const fromServer = parseRetryAfter(retryAfter);
  const exponential = policy.initialDelayMs * 2 ** retry;
  return Math.min(policy.maxDelayMs, fromServer ?? exponential);
}

/** One per source: holds every request back until the last 429's wait is over. */
export class QuotaCooldown {
  private resumeAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Called after a 429: no request before `now + ms` (a later deadline is never shortened). */
  pauseFor(ms: number): void {
    this.resumeAt = Math.max(this.resumeAt, this.now() + ms);
  }

  /** Resolves once the cooldown is over (at once when there is none). */
  async ready(signal?: AbortSignal): Promise<void> {
    for (let wait = this.resumeAt - this.now(); wait > 0; wait = this.resumeAt - this.now()) {
      await sleep(wait, signal);
    }
  }
}
