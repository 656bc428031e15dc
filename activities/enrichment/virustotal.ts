/**
 * VirusTotal v3: `GET {VT_API_URL}/files/{sha256}` with the `x-apikey` header.
 * 200 → engine counts from `data.attributes.last_analysis_stats`; 404 → unknown; 401/403 →
 * non-retryable ReputationAuthError; 429 → back off (Retry-After) and retry a few times; anything
 * else → unknown with the error.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { ReputationResult } from '../../common/incident-status';
import { knownResult, unknownResult, type ReputationProvider } from './provider';
import { DEFAULT_BACKOFF, QuotaCooldown, type BackoffPolicy } from './rate-limit';
import { readJson, requestUpstream } from './upstream';

export const REPUTATION_AUTH_ERROR = 'ReputationAuthError';

export interface VirusTotalOptions {
  apiKey: string;
  apiUrl: string;
  timeoutMs?: number;
  backoff?: BackoffPolicy;
}

/** The part of a v3 file object spawnguard reads; other engine-result categories are counted in the total. */
const VirusTotalFileSchema = z.object({
  data: z.object({
    attributes: z.object({
      last_analysis_stats: z.record(z.string(), z.number().int().min(0)),
      popular_threat_classification: z
        .object({ suggested_threat_label: z.string().max(512).optional() })
        .optional()
        .catch(undefined),
    }),
  }),
});

export function virusTotalGuiLink(sha256: string): string {
  return `https://www.virustotal.com/gui/file/${sha256}`;
}

export function createVirusTotalProvider(options: VirusTotalOptions): ReputationProvider {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const cooldown = new QuotaCooldown();
  const base = options.apiUrl.replace(/\/+$/, '');

  async function lookup(sha256: string, signal?: AbortSignal): Promise<ReputationResult> {
    const link = virusTotalGuiLink(sha256);
    const answer = await requestUpstream({
      source: 'VirusTotal',
      url: `${base}/files/${encodeURIComponent(sha256)}`,
      init: { headers: { 'x-apikey': options.apiKey, accept: 'application/json' } },
      timeoutMs,
      backoff,
      cooldown,
      ...(signal ? { signal } : {}),
    });
    if (!answer.ok) return unknownResult('virustotal', answer.error, link);
    const { response } = answer;

    if (response.status === 200) {
      const parsed = VirusTotalFileSchema.safeParse(await readJson(response, signal));
      if (!parsed.success) {
        return unknownResult('virustotal', 'VirusTotal answered 200 without a readable last_analysis_stats', link);
      }
      const { last_analysis_stats: stats, popular_threat_classification: classification } = parsed.data.data.attributes;
      return knownResult('virustotal', {
        malicious: stats.malicious ?? 0,
        suspicious: stats.suspicious ?? 0,
        total: Object.values(stats).reduce((sum, count) => sum + count, 0),
        label: classification?.suggested_threat_label ?? null,
        link,
      });
    }
    await response.body?.cancel();
    if (response.status === 404) return unknownResult('virustotal');
    if (response.status === 401 || response.status === 403) {
      // The key is never echoed: the message names the variable to fix.
      throw ApplicationFailure.nonRetryable(
        `VirusTotal rejected the API key (HTTP ${response.status}): check VT_API_KEY`,
        REPUTATION_AUTH_ERROR,
      );
    }
    return unknownResult('virustotal', `VirusTotal answered HTTP ${response.status}`, link);
  }

  return { name: 'virustotal', lookup };
}
