/**
 * `windowsFileEnrichment`: the seed's "Windows - File enrichment" sub-playbook. Builds its input
 * from the alert (parent and child executables), gathers host facts and reputation, and returns a
 * per-file risk with evidence. Facts already in the alert are used, not fetched again.
 */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { FileFacts, HostActivities, ProcessInfo } from '../common/host-contract';
import type { CentralActivities, EnrichmentResult, ReputationReport } from '../common/incident-status';
import { HOST_TASK_PRIORITY, hostQueueKey, hostTaskQueue, sameHost, unqualifiedHostProblem } from '../common/names';
import type { PlaybookInput } from '../common/playbook';
import { addressedTo, isScheduleToStartTimeout, onLiveHost } from './host-liveness';

import { creatorUnknown, enrichmentFromFacts, reputationHashes, resolveCreator } from './decision';

export interface EnrichmentInput {
  alert: PlaybookInput['alert'];
  policy: PlaybookInput['policy'];
  /**
   * false: the playbook pinged the host's worker and none answered before the unreachable timeout,
   * so nothing is asked of the host. Absent in incidents recorded before the ping.
   */
  hostAnswered?: boolean;
}

const { lookupReputation } = proxyActivities<CentralActivities>({
  summary: 'Reputation of a file hash (allow/deny lists, VirusTotal, MalwareBazaar)',
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['ReputationAuthError'] },
});

export async function windowsFileEnrichment({
  alert: received,
  policy,
  hostAnswered,
}: EnrichmentInput): Promise<EnrichmentResult> {
  // A short host name where queues are named in full names no queue: the host is not asked (the
  // playbook has said so in its status), and the proxy below is never called.
  const addressable = hostQueueKey(received.host.hostname, policy.hostQueues) !== null;
  const host = proxyActivities<HostActivities>({
    taskQueue: hostTaskQueue(received.host.hostname, addressable ? policy.hostQueues : undefined),
    priority: { priorityKey: HOST_TASK_PRIORITY.investigation },
    scheduleToStartTimeout: policy.hostUnreachableTimeout,
    startToCloseTimeout: '2m',
    heartbeatTimeout: policy.hostHeartbeatTimeout,
    retry: { maximumAttempts: 3 },
    summary: `Facts from ${received.host.hostname} about ${received.parent.name} and ${received.child.name}`.slice(
      0,
      200,
    ),
  });
  let hostFactsError: string | null = !addressable
    ? unqualifiedHostProblem(received.host.hostname)
    : hostAnswered === false
      ? `host ${received.host.hostname} unreachable: no host worker answered within ${policy.hostUnreachableTimeout}`
      : null;
  let hostReachable = hostAnswered !== false && addressable;
  const hostFailed = (err: unknown) => {
    hostReachable = !isScheduleToStartTimeout(err);
    hostFactsError = hostReachable
      ? describeFailure(err)
      : `host ${received.host.hostname} unreachable (no worker picked up the task)`;
  };

  // The host's answers are claims too: one from a worker that says it is another host (a worker on
  // the wrong queue, or one pretending) is not used, and the status says so.
  const answeredByTheHost = (result: { hostname: string; script: string }) => {
    if (!result.hostname || sameHost(received.host.hostname, { hostname: result.hostname })) return true;
    // The first such answer is the one reported (the file facts' before the process tree's).
    hostFactsError ??= `${result.script} answered as host ${result.hostname}, not ${received.host.hostname}: its facts are not used`;
    return false;
  };

  // A creator the event names only by PID (4688 before Windows Server 2016): the host's process list
  // says which process that was, if it started before the child. Its image is then enriched too.
  let creator: ProcessInfo | null | undefined;
  if (creatorUnknown(received) && hostReachable) {
    creator = null;
    try {
      const tree = await onLiveHost(received.host.hostname, policy, () =>
        host.getProcessTree.executeWithOptions(
          { summary: `Who was PID ${received.parent.pid} on ${received.host.hostname} (the event names no parent)` },
          [addressedTo({ processIds: [received.parent.pid] }, received.host.hostname)],
        ),
      );
      creator = answeredByTheHost(tree)
        ? (tree.results.find((info) => info.pid === received.parent.pid) ?? null)
        : null;
    } catch (err) {
      hostFailed(err);
    }
  }
  const alert = resolveCreator(received, creator).alert;
  const paths = unique([alert.parent.executable, alert.child.executable]);

  // Host facts: hash, signature, version info and location, from the host itself.
  let hostFacts: FileFacts[] = [];
  if (paths.length > 0 && hostReachable) {
    try {
      const facts = await onLiveHost(alert.host.hostname, policy, () =>
        host.getFileEnrichment.executeWithOptions(
          { summary: `Hash and signature of ${paths.length} file(s) on ${alert.host.hostname}` },
          [addressedTo({ paths }, alert.host.hostname)],
        ),
      );
      hostFacts = answeredByTheHost(facts) ? facts.results : [];
    } catch (err) {
      hostFailed(err);
    }
  }

  // The pair's process tree (ancestry and descendants), from the host's process list: Elastic's
  // first triage question, and the real launcher of a shell another shell started. Incidents
  // recorded before it was asked replay without it.
  // Asked, like the file facts, only when the alert names an image: a record is only taken for the
  // process the alert names (same image), and without one the host is not asked at all.
  let processTree: ProcessInfo[] | null | undefined;
  if (paths.length > 0 && hostReachable && patched('process-tree-gathered')) {
    processTree = null;
    try {
      const tree = await onLiveHost(alert.host.hostname, policy, () =>
        host.getProcessTree.executeWithOptions(
          { summary: `Process tree of PID ${alert.parent.pid} and ${alert.child.pid} on ${alert.host.hostname}` },
          [addressedTo({ processIds: unique([alert.parent.pid, alert.child.pid]) }, alert.host.hostname)],
        ),
      );
      processTree = answeredByTheHost(tree) ? tree.results : null;
    } catch (err) {
      // The tree is context: its absence never stops the enrichment (the decision reads without it).
      if (isScheduleToStartTimeout(err)) hostFailed(err);
    }
  }

  // Reputation: one lookup per distinct hash (the providers cache and rate-limit by hash too).
  const reputations = new Map<string, ReputationReport | null>();
  for (const sha256 of reputationHashes(alert, hostFacts)) {
    try {
      reputations.set(sha256, await lookupReputation({ sha256 }));
    } catch {
      // A provider failure never makes a file look clean: it is recorded as no reputation.
      reputations.set(sha256, null);
    }
  }

  return enrichmentFromFacts({
    alert,
    hostFacts,
    hostFactsError,
    hostReachable,
    ...(creator !== undefined ? { creator } : {}),
    ...(processTree ? { processTree } : {}),
    reputations,
    policy: policy.decision,
  });
}

function unique<T extends string | number>(values: (T | null | undefined)[]): T[] {
  return [...new Set(values.filter((v): v is T => v !== null && v !== undefined && v !== ''))];
}

export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
    if (cause) return cause.message;
  }
  return err instanceof Error ? err.message : String(err);
}
