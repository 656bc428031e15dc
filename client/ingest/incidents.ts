/**
 * Reading and deciding incidents: the `status` query, the `review` update and the pending-review
 * list. One implementation for the HTTP API, the review page and the CLI.
 */
import { Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import {
  IncidentStatusSchema,
  PersistenceRemovalSchema,
  ReviewStateSchema,
  type IncidentStatus,
  type PersistenceRemoval,
  type ReviewState,
} from '../../common/incident-status';
import { CENTRAL_TASK_QUEUE, SA, WORKFLOW_TYPES } from '../../common/names';
import { persistenceReviewUpdate, restoreStatusQuery, reviewUpdate, statusQuery } from '../../common/messages';
import type { PersistenceReview, ReviewUpdate } from '../../common/playbook';
import {
  RestoreInputSchema,
  restoreWorkflowId,
  RestoreStatusSchema,
  type RestoreInput,
  type RestoreStatus,
} from '../../common/restore';
import { classifyTemporalError, IncidentClosedError, withTemporalDeadline } from './temporal';

const DEFAULT_DEADLINE_MS = 10_000;
/** Status queries in flight at once while listing pending reviews. */
const STATUS_QUERY_CONCURRENCY = 8;

/** The visibility query behind `review list` and the review page. */
export const PENDING_REVIEW_QUERY = 'ReviewStatus = "pending" AND ExecutionStatus = "Running"';

export async function incidentStatus(
  client: Client,
  workflowId: string,
  deadlineMs = DEFAULT_DEADLINE_MS,
): Promise<IncidentStatus> {
  const raw = await withTemporalDeadline(client, deadlineMs, () =>
    client.workflow.getHandle(workflowId).query(statusQuery),
  );
  const parsed = IncidentStatusSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `the incident's status does not have the expected shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/**
 * Approve or reject through the `review` update, so the analyst learns at once if no review is
 * pending. The update id is derived from the decision itself: a retry of the same approval (a
 * timeout, a 503, a double click) re-attaches to the update already made and gets its result,
 * instead of being refused because the review is no longer pending.
 */
export async function reviewIncident(
  client: Client,
  workflowId: string,
  review: ReviewUpdate,
  deadlineMs = DEFAULT_DEADLINE_MS,
  firstRunId?: string,
  /** Who Temporal records as having sent the decision (the signed-in analyst), instead of this process. */
  historyIdentity?: string,
): Promise<ReviewState> {
  const sender = asSender(client, historyIdentity);
  let result: unknown;
  try {
    result = await withTemporalDeadline(sender, deadlineMs, () =>
      sender.workflow
        // With the first run id (a review link's), the server delivers the decision to that chain of
        // runs only, never to a later incident that reuses the workflow id.
        .getHandle(workflowId, undefined, firstRunId ? { firstExecutionRunId: firstRunId } : undefined)
        .executeUpdate(reviewUpdate, { args: [review], updateId: reviewUpdateId(workflowId, review) }),
    );
  } catch (err) {
    // An update cannot reach a closed workflow: the server answers "not found". Say how it closed.
    if (classifyTemporalError(err).kind === 'not-found') {
      const closed = await closedIncident(client, workflowId, deadlineMs, firstRunId).catch(() => undefined);
      if (closed) throw closed;
    }
    throw err;
  }
  return ReviewStateSchema.parse(result);
}

/** A client whose calls Temporal records as the signed-in analyst's, or the client itself. */
function asSender(client: Client, historyIdentity?: string): Client {
  return historyIdentity
    ? new Client({
        connection: client.connection,
        namespace: client.options.namespace,
        dataConverter: client.options.dataConverter,
        identity: historyIdentity,
      })
    : client;
}

/**
 * Remove or keep persistence entries proposed after remediation, through the `persistenceReview`
 * update: refused by the incident's validator when nothing (or not that entry) is pending. The
 * same decision retried (a timeout, a double click) is the same update.
 */
export async function reviewPersistence(
  client: Client,
  workflowId: string,
  review: PersistenceReview,
  deadlineMs = DEFAULT_DEADLINE_MS,
  historyIdentity?: string,
  /** A review link's first run id: the decision goes to that chain of runs only. */
  firstRunId?: string,
): Promise<PersistenceRemoval> {
  const sender = asSender(client, historyIdentity);
  const updateId = `persistence-${review.decision}-${createHash('sha256')
    .update(
      JSON.stringify([
        workflowId,
        review.decision,
        review.entries ?? 'all',
        review.analyst.trim(),
        review.comment ?? '',
      ]),
    )
    .digest('hex')
    .slice(0, 32)}`;
  try {
    const result = await withTemporalDeadline(sender, deadlineMs, () =>
      sender.workflow
        .getHandle(workflowId, undefined, firstRunId ? { firstExecutionRunId: firstRunId } : undefined)
        .executeUpdate(persistenceReviewUpdate, { args: [review], updateId }),
    );
    return PersistenceRemovalSchema.parse(result);
  } catch (err) {
    if (classifyTemporalError(err).kind === 'not-found') {
      const closed = await closedIncident(client, workflowId, deadlineMs, firstRunId).catch(() => undefined);
      if (closed)
        throw new IncidentClosedError(
          closed.message.replace('no review is pending', 'no persistence removal is pending'),
          closed.closedAt,
          closed.outcome,
        );
    }
    throw err;
  }
}

/** A review link of an earlier incident under the same workflow id: it decides nothing on this one. */
export class EarlierIncidentError extends Error {
  constructor(workflowId: string) {
    super(`the link was issued for an earlier incident under ${workflowId}, which has ended`);
    this.name = 'EarlierIncidentError';
  }
}

/**
 * Starts the undo of an incident's quarantine and persistence removals (`incidentRestore`, its own
 * workflow `<incident>.restore-<n>`, on the incident's own task queue); the caller follows it with
 * `restoreStatus`.
 */
export async function startRestore(
  client: Client,
  input: RestoreInput,
  options: {
    deadlineMs?: number;
    historyIdentity?: string;
    taskQueue?: string;
    /** A review link's first run id: refused unless the incident is that chain of runs. */
    firstRunId?: string;
  } = {},
): Promise<string> {
  const parsed = RestoreInputSchema.parse(input);
  const sender = asSender(client, options.historyIdentity);
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // The restore runs where the incident ran (its workers know it); an unknown incident is
  // refused here, before any workflow starts.
  const incident = await withTemporalDeadline(client, deadlineMs, () =>
    client.workflow.getHandle(parsed.incidentId).describe(),
  );
  if (options.firstRunId && incident.raw.workflowExecutionInfo?.firstRunId !== options.firstRunId) {
    throw new EarlierIncidentError(parsed.incidentId);
  }
  if (incident.type !== WORKFLOW_TYPES.playbook) {
    throw new IncidentClosedError(`${parsed.incidentId} is not a spawnguard incident (${incident.type})`, null, null);
  }
  const workflowId = restoreWorkflowId(parsed.incidentId, Date.now());
  await withTemporalDeadline(sender, deadlineMs, () =>
    sender.workflow.start(WORKFLOW_TYPES.restore, {
      taskQueue: options.taskQueue ?? incident.taskQueue ?? CENTRAL_TASK_QUEUE,
      workflowId,
      args: [parsed],
      staticSummary: `Restore for ${parsed.incidentId}, asked by ${parsed.analyst}`,
    }),
  );
  return workflowId;
}

export async function restoreStatus(
  client: Client,
  workflowId: string,
  deadlineMs = DEFAULT_DEADLINE_MS,
): Promise<RestoreStatus> {
  const raw = await withTemporalDeadline(client, deadlineMs, () =>
    client.workflow.getHandle(workflowId).query(restoreStatusQuery),
  );
  return RestoreStatusSchema.parse(raw);
}

/**
 * The incident's closing, in words: when, how (its outcome), and by whom when it was reviewed; or
 * undefined when the workflow is still running or does not exist (the first run id, when given,
 * must be its chain's).
 */
async function closedIncident(
  client: Client,
  workflowId: string,
  deadlineMs: number,
  firstRunId?: string,
): Promise<IncidentClosedError | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await withTemporalDeadline(client, deadlineMs, () => handle.describe());
  if (description.status.name === 'RUNNING') return undefined;
  if (firstRunId && description.raw.workflowExecutionInfo?.firstRunId !== firstRunId) return undefined;
  const closedAt = description.closeTime?.toISOString() ?? null;
  const when = closedAt ? ` at ${closedAt}` : '';
  if (description.status.name !== 'COMPLETED') {
    return new IncidentClosedError(
      `incident ${workflowId} has closed${when} (${description.status.name.toLowerCase()}); no review is pending`,
      closedAt,
      null,
    );
  }
  const status = IncidentStatusSchema.safeParse(
    await withTemporalDeadline(client, deadlineMs, () => handle.result()).catch(() => undefined),
  );
  const outcome = status.success ? (status.data.outcome ?? null) : null;
  const review = status.success ? status.data.review : undefined;
  const reviewed =
    review && (review.status === 'approved' || review.status === 'rejected')
      ? `, ${review.status} by ${review.analyst} at ${review.decidedAt}`
      : review?.status === 'timed-out'
        ? ', its review timed out'
        : '';
  return new IncidentClosedError(
    `incident ${workflowId} has closed${when} as ${outcome ?? 'completed'}${reviewed}; no review is pending`,
    closedAt,
    outcome,
  );
}

/** The same decision on the same incident, by the same analyst with the same comment, is one update. */
export function reviewUpdateId(workflowId: string, review: ReviewUpdate): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([workflowId, review.decision, review.analyst.trim(), review.comment ?? '']))
    .digest('hex');
  return `review-${review.decision}-${digest.slice(0, 32)}`;
}

export interface PendingReview {
  workflowId: string;
  startTime: string;
  alertId?: string;
  hostname?: string;
  parentProcessName?: string;
  processName?: string;
  verdict?: string;
  riskScore?: number;
  /** The incident's own status (verdict, reasons, plan); absent when the query failed, see `statusError`. */
  status?: IncidentStatus;
  statusError?: string;
}

export async function pendingReviews(
  client: Client,
  options: { limit?: number; deadlineMs?: number } = {},
): Promise<PendingReview[]> {
  const limit = options.limit ?? 100;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const reviews: PendingReview[] = (await listIncidents(client, PENDING_REVIEW_QUERY, limit, deadlineMs)).map(
    ({ workflowId, startTime, alertId, hostname, parentProcessName, processName, verdict, riskScore }) => ({
      workflowId,
      startTime,
      alertId,
      hostname,
      parentProcessName,
      processName,
      verdict,
      riskScore,
    }),
  );
  // Each query is a workflow task on the central worker. A few at a time, all within one shared
  // deadline: when the worker is down every query would wait, and the list must still come back.
  const statusDeadline = Date.now() + deadlineMs;
  let next = 0;
  const queryNext = async (): Promise<void> => {
    for (let review = reviews[next++]; review; review = reviews[next++]) {
      const remainingMs = statusDeadline - Date.now();
      if (remainingMs <= 0) {
        review.statusError = `not asked: the list's ${deadlineMs} ms for status queries ran out (is the central worker running?)`;
        continue;
      }
      try {
        review.status = await incidentStatus(client, review.workflowId, remainingMs);
      } catch (err) {
        review.statusError = classifyTemporalError(err).message;
      }
    }
  };
  await Promise.all(Array.from({ length: STATUS_QUERY_CONCURRENCY }, queryNext));
  return reviews;
}

export interface RecentIncident {
  workflowId: string;
  startTime: string;
  closeTime: string | null;
  /** Temporal's execution status: Running, Completed, Failed, Terminated, … */
  execution: string;
  hostname?: string;
  parentProcessName?: string;
  processName?: string;
  verdict?: string;
  riskScore?: number;
  reviewStatus?: string;
  remediationStatus?: string;
}

export interface RecentIncidentFilter {
  hostname?: string;
  verdict?: string;
  /** Incidents started after this time. */
  since?: Date;
  limit?: number;
}

/**
 * The visibility query for recent incidents; every value is quoted as a string literal (the
 * caller validated it: host names, verdicts), so a filter cannot add a clause.
 */
export function recentIncidentsQuery(filter: RecentIncidentFilter): string {
  const literal = (value: string) => `"${value.replace(/["\\]/g, '')}"`;
  const clauses = [`WorkflowType = ${literal(WORKFLOW_TYPES.playbook)}`];
  // Alerts name hosts short or in full: a short name also finds the host under its full names.
  if (filter.hostname) {
    clauses.push(
      filter.hostname.includes('.')
        ? `Hostname = ${literal(filter.hostname)}`
        : `(Hostname = ${literal(filter.hostname)} OR Hostname STARTS_WITH ${literal(`${filter.hostname}.`)})`,
    );
  }
  if (filter.verdict) clauses.push(`Verdict = ${literal(filter.verdict)}`);
  if (filter.since) clauses.push(`StartTime > ${literal(filter.since.toISOString())}`);
  return clauses.join(' AND ');
}

/** Recent incidents, newest first, from Temporal visibility (search attributes only: no query to workers). */
export async function recentIncidents(
  client: Client,
  filter: RecentIncidentFilter,
  deadlineMs = DEFAULT_DEADLINE_MS,
): Promise<RecentIncident[]> {
  const incidents = await listIncidents(client, recentIncidentsQuery(filter), filter.limit ?? 20, deadlineMs);
  return incidents.map(({ alertId: _alertId, ...incident }) => incident);
}

/** Incidents a visibility query finds, newest first, as their search attributes describe them (no worker asked). */
async function listIncidents(
  client: Client,
  query: string,
  limit: number,
  deadlineMs: number,
): Promise<(RecentIncident & { alertId?: string })[]> {
  return withTemporalDeadline(client, deadlineMs, async () => {
    const found: (RecentIncident & { alertId?: string })[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: limit })) {
      const attributes = execution.typedSearchAttributes;
      found.push({
        workflowId: execution.workflowId,
        startTime: execution.startTime.toISOString(),
        closeTime: execution.closeTime?.toISOString() ?? null,
        execution: execution.status.name,
        alertId: attributes.get(SA.AlertId),
        hostname: attributes.get(SA.Hostname),
        parentProcessName: attributes.get(SA.ParentProcessName),
        processName: attributes.get(SA.ProcessName),
        verdict: attributes.get(SA.Verdict),
        riskScore: attributes.get(SA.RiskScore),
        reviewStatus: attributes.get(SA.ReviewStatus),
        remediationStatus: attributes.get(SA.RemediationStatus),
      });
      if (found.length >= limit) break;
    }
    return found;
  });
}
