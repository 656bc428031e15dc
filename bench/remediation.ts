/**
 * Sections 3 and 4: a malicious alert all the way through — posted to the ingest service, enriched,
 * decided, remediated and validated on the lab host, reported by email to a real SMTP server — and
 * the minimal workflow that runs the same number of activities on the same kinds of queue.
 */
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { randomUUID } from 'node:crypto';
import { incidentWorkflowId } from '../common/incident';
import { IncidentStatusSchema, type IncidentStatus } from '../common/incident-status';
import type { BenchAlert } from './alerts';
import type { JsonPoster } from './load';
import type { BaselineInput, BaselineStep, minimalRemediationBaseline } from './workflows/baseline';

export interface RemediationContext {
  client: Client;
  /** Posts to the ingest service that starts incidents on the central worker's queue. */
  poster: JsonPoster;
  centralTaskQueue: string;
  /** When the report email of an incident reached the SMTP server (undefined: not yet). */
  mailArrival: (workflowId: string) => number | undefined;
}

/** Fails unless the incident ended as the bench expects: remediated, every action validated, report sent. */
function checkRemediated(status: IncidentStatus, ctx: RemediationContext): void {
  const problems: string[] = [];
  if (status.decision?.verdict !== 'malicious') problems.push(`verdict ${status.decision?.verdict ?? 'none'}`);
  if (status.outcome !== 'remediated') problems.push(`outcome ${status.outcome}`);
  const unvalidated = status.actions.filter((a) => a.status !== 'skipped' && a.validated !== true);
  if (unvalidated.length > 0)
    problems.push(`not validated: ${unvalidated.map((a) => `${a.action} ${a.status}`).join(', ')}`);
  if (!status.reportSent) problems.push(`report not sent (${status.reportError ?? 'no error'})`);
  if (ctx.mailArrival(status.workflowId) === undefined) problems.push('no report email reached the SMTP server');
  if (problems.length > 0)
    throw new Error(`incident ${status.workflowId} did not complete as expected: ${problems.join('; ')}`);
}

/**
 * Milliseconds from posting the alert to the closed, remediated, reported incident (`ms`), and to
 * its report email reaching the SMTP server (`mailMs`).
 */
export async function timeIncident(
  ctx: RemediationContext,
  alert: BenchAlert,
): Promise<{ ms: number; mailMs: number; workflowId: string }> {
  const started = performance.now();
  const answer = await ctx.poster.post(alert.body);
  const workflowId = incidentWorkflowId(alert.alert);
  if (answer.status !== 202)
    throw new Error(`POST /v1/alerts answered ${answer.status} ${JSON.stringify(answer.body)}`);
  const result = IncidentStatusSchema.parse(await ctx.client.workflow.getHandle(workflowId).result());
  const ms = performance.now() - started;
  checkRemediated(result, ctx);
  return { ms, mailMs: ctx.mailArrival(workflowId)! - started, workflowId };
}

/** Posts every alert at once and waits for all the incidents to close; returns the wall time. */
export async function burst(ctx: RemediationContext, alerts: BenchAlert[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    alerts.map(async (alert) => {
      const answer = await ctx.poster.post(alert.body);
      if (answer.status !== 202)
        throw new Error(`POST /v1/alerts answered ${answer.status} ${JSON.stringify(answer.body)}`);
      const result = IncidentStatusSchema.parse(
        await ctx.client.workflow.getHandle(incidentWorkflowId(alert.alert)).result(),
      );
      checkRemediated(result, ctx);
    }),
  );
  return performance.now() - started;
}

/**
 * The playbook's activities in the order it scheduled them (the enrichment child's first, then its
 * own), by the queue each ran on: the shape the baseline copies.
 */
export async function activitySteps(ctx: RemediationContext, workflowId: string): Promise<BaselineStep[]> {
  const steps: BaselineStep[] = [];
  for (const id of [`${workflowId}-enrichment`, workflowId]) {
    const history = await ctx.client.workflow.getHandle(id).fetchHistory();
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (!scheduled) continue;
      steps.push(scheduled.taskQueue?.name === ctx.centralTaskQueue ? 'central' : 'host');
    }
  }
  return steps;
}

export interface BaselineContext {
  client: Client;
  input: BaselineInput;
}

/** Milliseconds from starting the minimal workflow to its result. */
export async function timeBaseline(ctx: BaselineContext): Promise<{ ms: number; workflowId: string }> {
  const started = performance.now();
  const workflowId = `bench-baseline-${randomUUID()}`;
  const done = await ctx.client.workflow.execute<typeof minimalRemediationBaseline>('minimalRemediationBaseline', {
    taskQueue: ctx.input.centralTaskQueue,
    workflowId,
    args: [ctx.input],
  });
  const ms = performance.now() - started;
  if (done !== ctx.input.steps.length)
    throw new Error(`the baseline ran ${done} of ${ctx.input.steps.length} activities`);
  return { ms, workflowId };
}

/** Where a run's time went, from its history (server clock): inside activities, inside workflow tasks. */
export interface HistoryProfile {
  activities: number;
  /** Sum over activities of started → completed. */
  activityMs: number;
  workflowTasks: number;
  /** Sum over workflow tasks of started → completed: workers running workflow code. */
  workflowTaskMs: number;
  /** Started → completed by activity type, summed. */
  activityMsByType: Record<string, number>;
}

export async function historyProfile(client: Client, workflowIds: string[]): Promise<HistoryProfile> {
  const profile: HistoryProfile = {
    activities: 0,
    activityMs: 0,
    workflowTasks: 0,
    workflowTaskMs: 0,
    activityMsByType: {},
  };
  for (const id of workflowIds) {
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const timeOf = new Map(events.map((e) => [Number(e.eventId), optionalTsToMs(e.eventTime) ?? 0]));
    const typeOf = new Map(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [Number(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? 'unknown']),
    );
    for (const event of events) {
      const at = optionalTsToMs(event.eventTime) ?? 0;
      const activity = event.activityTaskCompletedEventAttributes;
      if (activity) {
        const ms = at - (timeOf.get(Number(activity.startedEventId)) ?? at);
        const type = typeOf.get(Number(activity.scheduledEventId)) ?? 'unknown';
        profile.activities++;
        profile.activityMs += ms;
        profile.activityMsByType[type] = (profile.activityMsByType[type] ?? 0) + ms;
      }
      const task = event.workflowTaskCompletedEventAttributes;
      if (task) {
        profile.workflowTasks++;
        profile.workflowTaskMs += at - (timeOf.get(Number(task.startedEventId)) ?? at);
      }
    }
  }
  return profile;
}
