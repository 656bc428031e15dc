/**
 * Puts one alert into Temporal: a start of the incident's workflow with conflict policy
 * USE_EXISTING, so the first alert of an incident starts the playbook (one call, as fast as a plain
 * start); when the workflow already runs, the alert (another rule, another format) is then recorded
 * on it with the `alertReceived` signal instead of starting it twice. When this resolves, Temporal
 * has durably accepted the start or the signal — or holds the incident already closed (see below).
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import {
  encodeWorkflowIdConflictPolicy,
  encodeWorkflowIdReusePolicy,
  TypedSearchAttributes,
  type Payload,
} from '@temporalio/common';
import { encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { createHash, randomUUID } from 'node:crypto';
import type { CanonicalAlert } from '../../common/alert';
import { incidentWorkflowId } from '../../common/incident';
import { CENTRAL_TASK_QUEUE, SA, WORKFLOW_TYPES } from '../../common/names';
import { alertReceivedSignal, type AlertReceived } from '../../common/messages';
import type { PlaybookInput, PlaybookPolicy, ReopenLink } from '../../common/playbook';
import { IncidentStatusSchema, type IncidentStatus, type Outcome } from '../../common/incident-status';
import { withTemporalDeadline } from './temporal';
import { displayText } from '../../common/display-text';

export interface Submission {
  workflowId: string;
  runId: string;
  /** True when the incident's workflow already existed: this alert was attached to it. */
  deduplicated: boolean;
  /** The incident had already completed and knew this alert: a re-send, acknowledged, not re-run. */
  closed?: true;
  /** New evidence for a closed incident: this alert started the incident's next run, linked to this one. */
  reopened?: string;
}

/** gRPC ALREADY_EXISTS: the start's answer when the reuse policy refuses a new run. */
const GRPC_ALREADY_EXISTS = 6;
/** gRPC NOT_FOUND: the signal's answer when the run completed in the meantime. */
const GRPC_NOT_FOUND = 5;

export interface SubmitOptions {
  policy: PlaybookPolicy;
  /** `spawnguard-central` in production; tests use their own queue. */
  taskQueue?: string;
  deadlineMs?: number;
  /** The alert's incident workflow id, when the caller has computed it already. */
  workflowId?: string;
}

async function encode(client: Client, values: unknown[]): Promise<Payload[]> {
  const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
  let payloads = values.map((value) => payloadConverter.toPayload(value));
  for (const codec of payloadCodecs) payloads = await codec.encode(payloads);
  return payloads;
}

/**
 * The SDK's `client.workflow.start` does not say whether a start with USE_EXISTING started a new
 * run (the response's `started`, which is what `deduplicated` reports), so the requests are made
 * through the workflow service directly, encoded with the client's own data converter.
 */
export async function submitAlert(client: Client, alert: CanonicalAlert, options: SubmitOptions): Promise<Submission> {
  const incidentId = options.workflowId ?? incidentWorkflowId(alert);
  let reopens: ReopenLink | undefined;
  // The incident, or the latest re-opening of it: a closed one either knew this alert (a re-send:
  // acknowledged with the closed run) or did not (new evidence: the next one in the chain starts).
  for (let generation = 1; ; generation++) {
    const workflowId = generation === 1 ? incidentId : reopenedWorkflowId(incidentId, generation);
    const submission = await startOrSignal(client, alert, options, workflowId, reopens);
    if (!submission.closed) return { ...submission, ...(reopens ? { reopened: reopens.workflowId } : {}) };
    const deadlineMs = options.deadlineMs ?? 10_000;
    const closed = await withTemporalDeadline(client, deadlineMs, () =>
      client.workflow.getHandle(workflowId, submission.runId).result(),
    ).catch(() => null);
    const status = IncidentStatusSchema.safeParse(closed);
    if (
      !status.success ||
      knowsAlert(status.data, alert.alertId) ||
      !REOPENED_OUTCOMES.includes(status.data.outcome as Outcome) ||
      generation >= MAX_GENERATIONS
    ) {
      return submission;
    }
    reopens = {
      workflowId,
      runId: submission.runId,
      outcome: status.data.outcome ?? 'unknown',
      closedAt: status.data.timestamps.closed,
    };
  }
}

/**
 * Outcomes new evidence re-opens: the incident ended without removing the threat. A remediated
 * incident is not re-opened by a late copy of its alert (its process is gone).
 */
const REOPENED_OUTCOMES: readonly Outcome[] = [
  'closed-benign',
  'closed-false-positive',
  'closed-unreviewed',
  'host-unreachable',
];

/** A run that ran away cannot chain incidents without end. */
const MAX_GENERATIONS = 20;

/** `<incident>.reopened-2`, `-3`, …: the same incident, re-opened by new evidence. */
export function reopenedWorkflowId(incidentId: string, generation: number): string {
  return `${incidentId}.reopened-${generation}`;
}

function knowsAlert(status: IncidentStatus, alertId: string): boolean {
  return (
    status.alert.alertId === alertId ||
    (status.alertIds ?? []).includes(alertId) ||
    status.duplicates.some((d) => d.alertId === alertId)
  );
}

async function startOrSignal(
  client: Client,
  alert: CanonicalAlert,
  options: SubmitOptions,
  workflowId: string,
  reopens: ReopenLink | undefined,
): Promise<Submission> {
  const receivedAt = new Date().toISOString();
  const input: PlaybookInput = { alert, policy: options.policy, receivedAt, ...(reopens ? { reopens } : {}) };
  const received: AlertReceived = { alertId: alert.alertId, source: alert.source, receivedAt, alert };
  const searchAttributes = new TypedSearchAttributes([
    { key: SA.AlertId, value: alert.alertId },
    { key: SA.Hostname, value: alert.host.hostname },
    { key: SA.ProcessName, value: alert.child.name },
    { key: SA.ParentProcessName, value: alert.parent.name },
  ]);
  const [summary, details] = await encode(client, [incidentSummary(alert), incidentDetails(alert, reopens)]);
  const request = {
    namespace: client.options.namespace,
    identity: client.options.identity,
    // One id for this alert's retries: the gRPC layer's own retries cannot start twice.
    requestId: randomUUID(),
    workflowId,
    workflowType: { name: WORKFLOW_TYPES.playbook },
    taskQueue: { name: options.taskQueue ?? CENTRAL_TASK_QUEUE },
    input: { payloads: await encode(client, [input]) },
    workflowIdConflictPolicy: encodeWorkflowIdConflictPolicy('USE_EXISTING'),
    // A report arriving after its incident completed is answered by submitAlert (a re-send, or new
    // evidence that re-opens it); only an incident whose run failed or was terminated starts anew here.
    workflowIdReusePolicy: encodeWorkflowIdReusePolicy('ALLOW_DUPLICATE_FAILED_ONLY'),
    searchAttributes: { indexedFields: encodeUnifiedSearchAttributes(undefined, searchAttributes) },
    // The Temporal UI's summary and details of the run (instead of "No summary available").
    userMetadata: { summary, details },
    // The Temporal UI shows what a re-opened incident continues.
    ...(reopens ? { memo: { fields: { reopenedFrom: (await encode(client, [reopens]))[0] as Payload } } } : {}),
  };
  const deadlineMs = options.deadlineMs ?? 10_000;
  const closedRun = async (): Promise<Submission> => {
    // The incident completed: submitAlert decides whether this alert is a re-send or new evidence.
    const closed = await withTemporalDeadline(client, deadlineMs, () =>
      client.workflow.getHandle(workflowId).describe(),
    );
    return { workflowId, runId: closed.runId, deduplicated: true, closed: true };
  };
  let response;
  try {
    response = await withTemporalDeadline(client, deadlineMs, () =>
      client.workflowService.startWorkflowExecution(request),
    );
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== GRPC_ALREADY_EXISTS) throw err;
    return closedRun();
  }
  if (response.started) return { workflowId, runId: response.runId, deduplicated: false };
  // The incident already runs: record this alert on it (only duplicates pay for this second call).
  const signalInput = { payloads: await encode(client, [received]) };
  try {
    await withTemporalDeadline(client, deadlineMs, () =>
      client.workflowService.signalWorkflowExecution({
        namespace: client.options.namespace,
        identity: client.options.identity,
        // The same alert on the same run is one signal: Temporal keeps a signal's request id and
        // drops a repeat, so a storm of resends adds nothing to the incident's history.
        requestId: signalRequestId(workflowId, response.runId, alert.alertId),
        // The incident's current run, not the one the start answered with: a wait that continued as
        // new in between (a storm of later alerts) has handed the incident to its next run.
        workflowExecution: { workflowId },
        signalName: alertReceivedSignal.name,
        input: signalInput,
      }),
    );
  } catch (err) {
    // It completed between the two calls.
    if (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND) return closedRun();
    throw err;
  }
  return { workflowId, runId: response.runId, deduplicated: true };
}

/** A request id fixed by the run and the alert id, in UUID form. */
export function signalRequestId(workflowId: string, runId: string, alertId: string): string {
  const hex = createHash('sha256')
    .update(JSON.stringify(['alertReceived', workflowId, runId, alertId]))
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Alert text inside a Markdown code span: shown literally, never a link or markup. */
function code(value: string): string {
  return `\`${displayText(value).replace(/`/g, "'").slice(0, 300)}\``;
}

/** One line for the Temporal UI's workflow list: the pair and the host. */
export function incidentSummary(alert: CanonicalAlert): string {
  return displayText(`${alert.parent.name} → ${alert.child.name} on ${alert.host.hostname}`).slice(0, 200);
}

/**
 * The run's details in the Temporal UI (Markdown): what the incident is about. The verdict and how
 * it closed follow in the run's current details and in the Verdict and Outcome search attributes.
 */
export function incidentDetails(alert: CanonicalAlert, reopens?: ReopenLink): string {
  const user = alert.user ? `${alert.user.domain ? `${alert.user.domain}\\` : ''}${alert.user.name}` : undefined;
  return [
    `**spawnguard incident** — alert ${code(alert.alertId)} (${code(alert.source)}${alert.ruleName ? `, rule ${code(alert.ruleName)}` : ''})`,
    '',
    `- Host: ${code(alert.host.hostname)}${user ? `, user ${code(user)}` : ''}`,
    `- Parent: ${code(alert.parent.executable ?? alert.parent.name)} (PID ${alert.parent.pid})`,
    `- Child: ${code(alert.child.executable ?? alert.child.name)} (PID ${alert.child.pid})`,
    ...(reopens ? [`- Re-opens ${code(reopens.workflowId)} (closed ${code(reopens.outcome)})`] : []),
    '',
    'Verdict, review and outcome: the current details above, and the `Verdict`, `ReviewStatus` and `Outcome` search attributes.',
  ].join('\n');
}
