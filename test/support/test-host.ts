/**
 * The host the playbook tests register at the activity boundary: the lab host (the product's
 * simulated Windows host, with its safety rules) wrapped to record every call and to inject
 * failures or pauses, so a test can assert what reached the host and what the host looks like after.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { createLabHostActivities } from '../../activities/lab/lab-host';
import { LabScenarioSchema, type LabScenario } from '../../activities/lab/scenario';
import type { HostActivities } from '../../common/host-contract';
import { normalizeWindowsPath } from '../../common/windows';

export type HostActivityName = keyof HostActivities;

export interface TestHost {
  /** The simulated host's live state (processes, files, sessions, persistence, quarantine). */
  state: LabScenario;
  calls: { activity: HostActivityName; request: unknown }[];
  /** Activities that fail (non-retryably, as AccessDenied) with this message. */
  failures: Partial<Record<HostActivityName, string>>;
  /** Called at the start of every activity; may block (e.g. to stop a worker mid-step). */
  beforeActivity?: (activity: HostActivityName) => Promise<void>;
  /** Adds processes, files, sessions and persistence entries (scenario file syntax, defaults applied). */
  add(contents: Omit<z.input<typeof LabScenarioSchema>, 'hostname'>): void;
  hasFile(path: string): boolean;
  activities: HostActivities;
}

export function createTestHost(hostname: string): TestHost {
  const state = LabScenarioSchema.parse({ hostname });
  const lab = createLabHostActivities(state);
  const host: TestHost = {
    state,
    calls: [],
    failures: {},
    add(contents) {
      const parsed = LabScenarioSchema.parse({ hostname, ...contents });
      state.processes.push(...parsed.processes);
      state.files.push(...parsed.files);
      state.sessions.push(...parsed.sessions);
      state.persistence.push(...parsed.persistence);
    },
    hasFile: (path) => state.files.some((f) => normalizeWindowsPath(f.path) === normalizeWindowsPath(path)),
    activities: {} as HostActivities,
  };
  const names = Object.keys(lab) as HostActivityName[];
  for (const name of names) {
    const implementation = lab[name] as (request: unknown) => Promise<unknown>;
    (host.activities as unknown as Record<string, (request: unknown) => Promise<unknown>>)[name] = async (request) => {
      host.calls.push({ activity: name, request });
      await host.beforeActivity?.(name);
      const failure = host.failures[name];
      if (failure) throw ApplicationFailure.nonRetryable(failure, 'AccessDenied');
      return implementation(request);
    };
  }
  return host;
}
