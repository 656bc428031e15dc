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
import type { PlaybookInput, PlaybookPolicy } from '../../common/playbook';
import { withTemporalDeadline } from './temporal';

export interface Submission {
  workflowId: string;
  runId: string;
  /** True when the incident's workflow already existed: this alert was attached to it. */
  deduplicated: boolean;
  /** The incident had already completed: the alert was not recorded on it (only in the log). */
  closed?: true;
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
  const workflowId = options.workflowId ?? incidentWorkflowId(alert);
  const receivedAt = new Date().toISOString();
  const input: PlaybookInput = { alert, policy: options.policy, receivedAt };
  const received: AlertReceived = { alertId: alert.alertId, source: alert.source, receivedAt };
  const searchAttributes = new TypedSearchAttributes([
    { key: SA.AlertId, value: alert.alertId },
    { key: SA.Hostname, value: alert.host.hostname },
    { key: SA.ProcessName, value: alert.child.name },
    { key: SA.ParentProcessName, value: alert.parent.name },
  ]);
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
    // A report arriving after its incident completed (a benign one closes within seconds, a 4688
    // copy of a Sysmon event may come later) must not investigate and report it again; only an
    // incident whose run failed or was terminated starts anew.
    workflowIdReusePolicy: encodeWorkflowIdReusePolicy('ALLOW_DUPLICATE_FAILED_ONLY'),
    searchAttributes: { indexedFields: encodeUnifiedSearchAttributes(undefined, searchAttributes) },
  };
  const deadlineMs = options.deadlineMs ?? 10_000;
  const closedRun = async (): Promise<Submission> => {
    // The incident completed: this alert is a late duplicate of it, answered with the closed run.
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
