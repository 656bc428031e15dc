/**
 * The reputation service behind the `lookupReputation` activity: every configured source asked
 * in parallel, the ones that are off listed with the reason, so the report says what was consulted.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { Config } from '../../common/config';
import type { ReputationReport } from '../../common/incident-status';
import { withCache, type CacheOptions } from './cache';
import { createHashListProvider, loadHashList } from './hash-lists';
import { createMalwareBazaarProvider } from './malwarebazaar';
import { SHA256, type DisabledProvider, type ReputationProvider } from './provider';
import type { BackoffPolicy } from './rate-limit';
import { createVirusTotalProvider } from './virustotal';

export type { ReputationProvider, DisabledProvider } from './provider';
export { parseHashList, loadHashList } from './hash-lists';
export { REPUTATION_AUTH_ERROR } from './virustotal';

const LookupRequestSchema = z.object({
  sha256: z.string().trim().toLowerCase().regex(SHA256, 'sha256 must be 64 hex characters'),
});

export interface ReputationServiceOptions {
  /** Per-request timeout for the HTTP sources. */
  timeoutMs?: number;
  backoff?: BackoffPolicy;
  cache?: CacheOptions;
}

export interface ReputationService {
  readonly enabled: ReputationProvider[];
  readonly disabled: DisabledProvider[];
  lookupReputation(request: { sha256: string }, signal?: AbortSignal): Promise<ReputationReport>;
}

export function createReputationService(config: Config, options: ReputationServiceOptions = {}): ReputationService {
  const { env } = config;
  const enabled: ReputationProvider[] = [];
  const disabled: DisabledProvider[] = [];

  if (env.SPAWNGUARD_DENYLIST) {
    enabled.push(createHashListProvider('denylist', loadHashList(env.SPAWNGUARD_DENYLIST, 'SPAWNGUARD_DENYLIST')));
  } else disabled.push({ name: 'denylist', reason: 'SPAWNGUARD_DENYLIST is not set' });

  if (env.SPAWNGUARD_ALLOWLIST) {
    enabled.push(createHashListProvider('allowlist', loadHashList(env.SPAWNGUARD_ALLOWLIST, 'SPAWNGUARD_ALLOWLIST')));
  } else disabled.push({ name: 'allowlist', reason: 'SPAWNGUARD_ALLOWLIST is not set' });

  if (env.VT_API_KEY) {
    const virusTotal = createVirusTotalProvider({
      apiKey: env.VT_API_KEY,
      apiUrl: env.VT_API_URL ?? 'https://www.virustotal.com/api/v3',
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    enabled.push(withCache(virusTotal, options.cache));
  } else disabled.push({ name: 'virustotal', reason: 'VT_API_KEY is not set' });

  if (env.MALWAREBAZAAR_API_KEY) {
    const malwareBazaar = createMalwareBazaarProvider({
      apiKey: env.MALWAREBAZAAR_API_KEY,
      apiUrl: env.MALWAREBAZAAR_API_URL ?? 'https://mb-api.abuse.ch/api/v1/',
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    enabled.push(withCache(malwareBazaar, options.cache));
  } else disabled.push({ name: 'malwarebazaar', reason: 'MALWAREBAZAAR_API_KEY is not set' });

  async function lookupReputation(request: { sha256: string }, signal?: AbortSignal): Promise<ReputationReport> {
    const parsed = LookupRequestSchema.safeParse(request);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(
        `lookupReputation needs { sha256: <64 hex characters> }: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
        'InvalidRequest',
      );
    }
    const { sha256 } = parsed.data;
    const results = await Promise.all(enabled.map((provider) => provider.lookup(sha256, signal)));
    return {
      sha256,
      results,
      consulted: enabled.map((provider) => provider.name),
      notConsulted: disabled.map(({ name, reason }) => ({ source: name, reason })),
    };
  }

  return { enabled, disabled, lookupReputation };
}
