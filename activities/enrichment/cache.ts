/**
 * Caches a provider's answers by hash for a TTL and keeps ONE upstream lookup in flight per hash:
 * concurrent callers share its promise (VirusTotal's free tier allows 4 requests a minute).
 * Answers carrying an error (outage, quota) are not cached, so the next incident asks again; a
 * "not seen" answer is kept for a shorter time than a verdict, since the file may be submitted soon.
 */
import type { ReputationResult } from '../../common/incident-status';
import type { ReputationProvider } from './provider';

export interface CacheOptions {
  /** How long a known answer is kept (default 6 h). */
  ttlMs?: number;
  /** How long a "not seen by this source" answer is kept (default 1 h). */
  unknownTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export function withCache(provider: ReputationProvider, options: CacheOptions = {}): ReputationProvider {
  const ttlMs = options.ttlMs ?? 6 * 60 * 60 * 1000;
  const unknownTtlMs = options.unknownTtlMs ?? 60 * 60 * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const answers = new Map<string, { result: ReputationResult; expires: number }>();
  const inFlight = new Map<string, Promise<ReputationResult>>();

  function remember(sha256: string, result: ReputationResult): void {
    if (result.error) return;
    answers.delete(sha256);
    answers.set(sha256, { result, expires: now() + (result.status === 'known' ? ttlMs : unknownTtlMs) });
    // Map keeps insertion order: the first key is the oldest entry.
    while (answers.size > maxEntries) answers.delete(answers.keys().next().value as string);
  }

  return {
    name: provider.name,
    lookup(sha256, signal) {
      const cached = answers.get(sha256);
      if (cached && cached.expires > now()) return Promise.resolve(cached.result);
      if (cached) answers.delete(sha256);

      let pending = inFlight.get(sha256);
      if (!pending) {
        // The shared lookup is not tied to any one caller's cancellation.
        pending = provider.lookup(sha256).then(
          (result) => {
            inFlight.delete(sha256);
            remember(sha256, result);
            return result;
          },
          (err: unknown) => {
            inFlight.delete(sha256);
            throw err;
          },
        );
        inFlight.set(sha256, pending);
      }
      return signal ? abandonOnAbort(pending, signal) : pending;
    },
  };
}

function abandonOnAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
