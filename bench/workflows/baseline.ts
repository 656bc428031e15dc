/**
 * The bench's baseline for "alert → validated remediation and sent email": a workflow that does
 * nothing but run the same number of activities, one after another, on the same two kinds of task
 * queue as the playbook (the central worker's and the host worker's). Each activity returns at once,
 * so its time is Temporal's orchestration cost alone; the playbook's extra time over it is our code.
 */
import { proxyActivities } from '@temporalio/workflow';

export type BaselineStep = 'central' | 'host';

export interface BaselineInput {
  /** The playbook's activities in the order it scheduled them, by the worker that ran each. */
  steps: BaselineStep[];
  centralTaskQueue: string;
  hostTaskQueue: string;
}

export interface BaselineActivities {
  noop(step: number): Promise<number>;
}

export async function minimalRemediationBaseline(input: BaselineInput): Promise<number> {
  // Timeouts like the playbook's own; they only bound failures, which a no-op never has.
  const central = proxyActivities<BaselineActivities>({
    taskQueue: input.centralTaskQueue,
    startToCloseTimeout: '1m',
  });
  const host = proxyActivities<BaselineActivities>({
    taskQueue: input.hostTaskQueue,
    scheduleToStartTimeout: '10m',
    startToCloseTimeout: '5m',
  });
  let done = 0;
  for (const [index, step] of input.steps.entries()) {
    await (step === 'host' ? host : central).noop(index);
    done++;
  }
  return done;
}
