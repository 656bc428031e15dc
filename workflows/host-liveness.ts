/**
 * Busy is not unreachable (DESIGN.md §1, the host step): the host worker answers a ping on its
 * control queue from slots of its own, however many actions queue on its action queue. The playbook
 * pings before it works on a host — so a host with no worker is known within the liveness timeout,
 * and said so in the status — and again whenever an action waited its whole schedule-to-start time:
 * if the worker answers, the host is busy and the action is queued again; only a host whose worker
 * does not answer is unreachable. Workflow code.
 */
import { ActivityFailure, log, patched, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { HostAddressed, HostControlActivities, HostPing } from '../common/host-contract';
import { hostControlTaskQueue, sameHost } from '../common/names';
import type { PlaybookPolicy } from '../common/playbook';

export const DEFAULT_HOST_LIVENESS_TIMEOUT = '30s';

/** No worker picked the activity up in time. */
export function isScheduleToStartTimeout(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

/** The host worker's answer, or null when none picked the ping up within the liveness timeout. */
export async function pingHost(hostname: string, policy: PlaybookPolicy, withinMs?: number): Promise<HostPing | null> {
  const { pingHost: ping } = proxyActivities<HostControlActivities>({
    taskQueue: hostControlTaskQueue(hostname, policy.hostQueues),
    scheduleToStartTimeout: withinMs ?? policy.hostLivenessTimeout ?? DEFAULT_HOST_LIVENESS_TIMEOUT,
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 1 },
    summary: `Is the host worker of ${hostname} there?`,
  });
  try {
    return await ping();
  } catch (err) {
    if (isScheduleToStartTimeout(err)) return null;
    log.warn('Host ping failed', { hostname, error: String(err) });
    return null;
  }
}

/**
 * Runs a host action; when it waited its whole schedule-to-start time, asks the host worker: if it
 * answers, the host is busy and the action is queued again; if not, the timeout stands (the host is
 * unreachable). Histories recorded before this replay as they ran.
 */
export async function onLiveHost<T>(hostname: string, policy: PlaybookPolicy, run: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (!isScheduleToStartTimeout(err) || !patched('busy-host-is-not-unreachable')) throw err;
      const ping = await pingHost(hostname, policy);
      // A worker that says it is another host is not this host's worker.
      if (!ping || !sameHost(hostname, ping)) throw err;
      log.info('Host busy: its worker answers, the action is queued again', { hostname, running: ping.running });
    }
  }
}

/**
 * The request addressed to the alert's host (`forHost`): a worker that is another host — two
 * domains' `web01` sharing a short-name queue — refuses it instead of acting on the wrong machine.
 */
export function addressedTo<R>(request: R, hostname: string): R & HostAddressed {
  return { ...request, forHost: hostname };
}

/** Every method of a host-activity proxy run through `onLiveHost`, its request addressed to the host. */
export function onLiveHostActivities<A extends object>(activities: A, hostname: string, policy: PlaybookPolicy): A {
  return new Proxy(activities, {
    get(target, name) {
      const method = (target as Record<string | symbol, unknown>)[name];
      if (typeof method !== 'function') return method;
      return (request: unknown) =>
        onLiveHost(hostname, policy, () =>
          (method as (r: unknown) => Promise<unknown>)(addressedTo(request, hostname)),
        );
    },
  });
}
