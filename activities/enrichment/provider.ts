/**
 * The one shape every reputation source has: a name and a lookup by SHA-256.
 * "unknown" is never "clean": a source that was unreachable says so in `error`.
 */
import type { ReputationResult } from '../../common/incident-status';

export type ReputationSource = ReputationResult['source'];

export interface ReputationProvider {
  readonly name: ReputationSource;
  /** Resolves for every answer, including outages (status unknown + error); throws only for misconfiguration. */
  lookup(sha256: string, signal?: AbortSignal): Promise<ReputationResult>;
}

/** A provider that is configured off, and why (it goes into the report's `notConsulted`). */
export interface DisabledProvider {
  readonly name: ReputationSource;
  readonly reason: string;
}

export const SHA256 = /^[0-9a-f]{64}$/;

export function knownResult(
  source: ReputationSource,
  fields: Partial<Omit<ReputationResult, 'source' | 'status'>>,
): ReputationResult {
  return { source, status: 'known', malicious: 0, suspicious: 0, total: 0, ...fields };
}

export function unknownResult(source: ReputationSource, error?: string, link?: string): ReputationResult {
  return {
    source,
    status: 'unknown',
    malicious: 0,
    suspicious: 0,
    total: 0,
    ...(error ? { error } : {}),
    ...(link ? { link } : {}),
  };
}

/** Describes a fetch failure without echoing request headers (the API key lives there). */
export function describeNetworkError(err: unknown, timeoutMs: number): string {
  // Duck-typed: fetch's errors may come from another realm (jest's sandbox), so no instanceof.
  const error = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(err);
}

/** Combines the caller's signal (activity cancellation) with a per-request timeout. */
export function requestSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
