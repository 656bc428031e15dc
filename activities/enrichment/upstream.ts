/**
 * One HTTP exchange with a reputation API, the same way for every source: wait out the source's
 * quota cooldown, send with a timeout, and on 429 back off (Retry-After) and try again a bounded
 * number of times. Network failures, timeouts and exhausted retries come back as an error text
 * for an "unknown" result; any other HTTP answer is the caller's to interpret.
 */
import { describeNetworkError, requestSignal } from './provider';
import { retryDelay, type BackoffPolicy, type QuotaCooldown } from './rate-limit';

export interface UpstreamRequest {
  /** Human name for messages: `VirusTotal`, `MalwareBazaar`. */
  source: string;
  url: string;
  init: RequestInit;
  timeoutMs: number;
  backoff: BackoffPolicy;
  cooldown: QuotaCooldown;
  /** The caller's cancellation (activity cancelled): rethrown, never turned into "unknown". */
  signal?: AbortSignal;
}

export type UpstreamAnswer = { ok: true; response: Response } | { ok: false; error: string };

export async function requestUpstream(request: UpstreamRequest): Promise<UpstreamAnswer> {
  const { source, timeoutMs, backoff, cooldown, signal } = request;
  for (let attempt = 0; ; attempt++) {
    await cooldown.ready(signal);
    let response: Response;
    try {
      response = await fetch(request.url, { ...request.init, signal: requestSignal(timeoutMs, signal) });
    } catch (err) {
      if (signal?.aborted) throw err;
      return { ok: false, error: `${source} unreachable: ${describeNetworkError(err, timeoutMs)}` };
    }
    if (response.status !== 429) return { ok: true, response };

    await response.body?.cancel();
    // The quota is spent for every hash, so the cooldown holds even when this lookup gives up.
    cooldown.pauseFor(retryDelay(backoff, attempt, response.headers.get('retry-after')));
    if (attempt >= backoff.maxRetries) {
      return { ok: false, error: `${source} quota exceeded (HTTP 429) after ${attempt + 1} attempts` };
    }
  }
}

/** Reads a JSON body under the request's timeout; undefined when it is not JSON (or times out). */
export async function readJson(response: Response, signal?: AbortSignal): Promise<unknown> {
  try {
    return await response.json();
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}
