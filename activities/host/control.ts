/**
 * The host worker's control queue: `pingHost` answers at once, from its own slots, however busy
 * the action queue is. The playbook pings before it waits on a host, and again when an action
 * waited long to be picked up, to tell a busy host from one with no worker.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { HostAddressed, HostControlActivities } from '../../common/host-contract';
import { HOST_FAILURE_TYPES } from '../../common/host-failures';
import { sameHost } from '../../common/names';

/** Who a host worker is: its own name and, when known, its fully qualified one. */
export interface HostIdentity {
  hostname: string;
  fqdn?: string | undefined;
}

export interface HostLoad {
  /** Host actions running now. */
  running(): number;
}

export function createHostControlActivities(
  identity: HostIdentity,
  lab: boolean,
  load: HostLoad,
): HostControlActivities {
  const startedAt = new Date().toISOString();
  const { hostname, fqdn } = identity;
  return {
    async pingHost() {
      return { hostname, ...(fqdn ? { fqdn } : {}), pid: process.pid, startedAt, lab, running: load.running() };
    },
  };
}

/**
 * Wraps the host activities so a request addressed to another host (`forHost`) is refused before
 * anything runs: two domains' `web01` sharing a short-name queue, or a forged request. Requests
 * that name no host (from releases before the field) are the queue's, as they always were.
 */
export function refuseOtherHosts<A extends object>(activities: A, identity: HostIdentity): A {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (request: unknown, ...rest: unknown[]) => {
        const forHost = (request as HostAddressed | undefined)?.forHost;
        if (typeof forHost === 'string' && !sameHost(forHost, identity)) {
          throw ApplicationFailure.nonRetryable(
            `this host worker is ${identity.fqdn ?? identity.hostname}; the ${name} request is for ${forHost}: ` +
              'refused, nothing was run (two hosts share a task queue: name host queues by fully qualified name)',
            HOST_FAILURE_TYPES.wrongHost,
          );
        }
        return (fn as (...a: unknown[]) => Promise<unknown>)(request, ...rest);
      },
    ]),
  ) as A;
}

/** Wraps activities so the control queue can say how many run; the wrapped ones behave the same. */
export function countRunning<A extends object>(activities: A): { activities: A; load: HostLoad } {
  let running = 0;
  const counted = Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        running += 1;
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        } finally {
          running -= 1;
        }
      },
    ]),
  ) as A;
  return { activities: counted, load: { running: () => running } };
}
