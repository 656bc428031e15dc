/**
 * From facts to the enrichment the decision reads: the host's file facts (GetFileEnrichment.ps1),
 * its record of an unnamed creator (GetProcessTree.ps1) and the reputation answers, put together the
 * one way the enrichment workflow, `spawnguard explain --facts` and `npm run eval` all use.
 * Workflow-safe.
 */
import type { CanonicalAlert } from '../../common/alert';
import type { DecisionPolicy } from '../../common/decision';
import type { FileFacts, ProcessInfo } from '../../common/host-contract';
import type { EnrichmentResult, ReputationReport } from '../../common/incident-status';
import { processTreeFor } from './ancestry';
import { buildFileEnrichment, hashForReputation, hostFactsFor } from './file-facts';

export interface EnrichmentFacts {
  /** The alert with its creator resolved (`resolveCreator`): its image is the one the host enriched. */
  alert: CanonicalAlert;
  hostFacts: readonly FileFacts[];
  hostFactsError: string | null;
  hostReachable: boolean;
  /** The host's record of the creator PID, when the event did not name the parent (undefined: not asked). */
  creator?: ProcessInfo | null;
  /** The host's process-list records of the pair (undefined: not asked). */
  processTree?: readonly ProcessInfo[] | null;
  /** Reputation per SHA-256 (`reputationHashes`); null: the lookup did not answer. */
  reputations: ReadonlyMap<string, ReputationReport | null>;
  policy: DecisionPolicy;
}

/** The distinct hashes reputation is looked up for: one lookup per hash, as the providers cache too. */
export function reputationHashes(alert: CanonicalAlert, hostFacts: readonly FileFacts[]): string[] {
  const hashes = [hashForReputation(hostFacts, alert.parent), hashForReputation(hostFacts, alert.child)];
  return [...new Set(hashes.filter((h): h is string => h !== null))];
}

export function enrichmentFromFacts(facts: EnrichmentFacts): EnrichmentResult {
  const { alert, hostFacts, hostFactsError, reputations, policy } = facts;
  const enrich = (role: 'parent' | 'child') => {
    const process = alert[role];
    const sha256 = hashForReputation(hostFacts, process);
    return buildFileEnrichment({
      role,
      process,
      hostFacts: hostFactsFor(hostFacts, process),
      hostFactsError,
      reputation: sha256 ? (reputations.get(sha256) ?? null) : null,
      policy,
    });
  };
  return {
    parent: enrich('parent'),
    child: enrich('child'),
    hostReachable: facts.hostReachable,
    ...(facts.creator !== undefined ? { creator: facts.creator } : {}),
    ...(facts.processTree ? { processTree: processTreeFor(alert, facts.processTree) } : {}),
  };
}
