/**
 * Sections 1 and 2: the start path. No worker polls the task queue these incidents go to, so what
 * is measured is only getting an alert durably into Temporal: through the ingest service (HTTP,
 * auth, normalization, validation, start with USE_EXISTING) against `client.workflow.start` of the same
 * workflows by a client in the same process.
 */
import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { CanonicalAlert } from '../common/alert';
import { incidentWorkflowId } from '../common/incident';
import { SA, WORKFLOW_TYPES } from '../common/names';
import { alertReceivedSignal } from '../common/messages';
import type { PlaybookInput, PlaybookPolicy } from '../common/playbook';
import type { BenchAlert } from './alerts';
import { runBounded, type JsonPoster, type LoadRun } from './load';

export interface StartPathContext {
  client: Client;
  poster: JsonPoster;
  /** A queue no worker polls. */
  taskQueue: string;
  policy: PlaybookPolicy;
  concurrency: number;
}

interface Accepted {
  workflowId: string;
  deduplicated: boolean;
}

/** One post; anything but a 202 naming the alert's own incident stops the bench: the figures would be wrong. */
async function post(ctx: StartPathContext, alert: BenchAlert): Promise<Accepted> {
  const answer = await ctx.poster.post(alert.body);
  const body = answer.body as Partial<Accepted> | null;
  const expected = incidentWorkflowId(alert.alert);
  if (answer.status !== 202 || body?.workflowId !== expected || typeof body.deduplicated !== 'boolean') {
    throw new Error(
      `POST /v1/alerts answered ${answer.status} ${JSON.stringify(answer.body)} (expected 202 for ${expected})`,
    );
  }
  return { workflowId: body.workflowId, deduplicated: body.deduplicated };
}

/** What the ingest service starts, with the same search attributes, so the server does the same work. */
function startOptions(ctx: StartPathContext, alert: CanonicalAlert) {
  const input: PlaybookInput = { alert, policy: ctx.policy, receivedAt: new Date().toISOString() };
  return {
    taskQueue: ctx.taskQueue,
    workflowId: incidentWorkflowId(alert),
    args: [input] as [PlaybookInput],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA.AlertId, value: alert.alertId },
      { key: SA.Hostname, value: alert.host.hostname },
      { key: SA.ProcessName, value: alert.child.name },
      { key: SA.ParentProcessName, value: alert.parent.name },
    ]),
  };
}

export function postAll(ctx: StartPathContext, alerts: BenchAlert[]): Promise<LoadRun<Accepted>> {
  return runBounded(alerts, ctx.concurrency, (alert) => post(ctx, alert));
}

export function startAll(ctx: StartPathContext, alerts: BenchAlert[]): Promise<LoadRun<string>> {
  return runBounded(alerts, ctx.concurrency, async ({ alert }) => {
    const handle = await ctx.client.workflow.start(WORKFLOW_TYPES.playbook, startOptions(ctx, alert));
    return handle.workflowId;
  });
}

/** The storm's raw counterpart: every copy goes to Temporal, attached by USE_EXISTING as ingest would. */
export function signalWithStartAll(ctx: StartPathContext, alerts: BenchAlert[]): Promise<LoadRun<string>> {
  return runBounded(alerts, ctx.concurrency, async ({ alert }) => {
    const options = startOptions(ctx, alert);
    const handle = await ctx.client.workflow.signalWithStart(WORKFLOW_TYPES.playbook, {
      ...options,
      workflowIdConflictPolicy: 'USE_EXISTING',
      signal: alertReceivedSignal,
      signalArgs: [{ alertId: alert.alertId, source: alert.source, receivedAt: options.args[0].receivedAt }],
    });
    return handle.workflowId;
  });
}
