/**
 * The host worker's control queue: `pingHost` answers at once, from its own slots, however busy
 * the action queue is. The playbook pings before it waits on a host, and again when an action
 * waited long to be picked up, to tell a busy host from one with no worker.
 */
import type { HostControlActivities } from '../../common/host-contract';

export interface HostLoad {
  /** Host actions running now. */
  running(): number;
}

export function createHostControlActivities(hostname: string, lab: boolean, load: HostLoad): HostControlActivities {
  const startedAt = new Date().toISOString();
  return {
    async pingHost() {
      return { hostname, pid: process.pid, startedAt, lab, running: load.running() };
    },
  };
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
