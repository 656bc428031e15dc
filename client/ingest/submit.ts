/**
 * Puts one alert into Temporal: signal-with-start of `alertReceived` on the incident's workflow, with
 * conflict policy USE_EXISTING, so the first alert of an incident starts the playbook and every
 * later one (another rule, another format) is recorded on the running workflow instead of starting
 * it twice. When this resolves, Temporal has durably accepted the start or the signal — or holds the
 * incident already closed (see below).
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import {
  encodeWorkflowIdConflictPolicy,
  encodeWorkflowIdReusePolicy,
  TypedSearchAttributes,
  type Payload,
} from '@temporalio/common';
import { encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { randomUUID } from 'node:crypto';
import type { CanonicalAlert } from '../../common/alert';
import { incidentWorkflowId } from '../../common/incident';
import { CENTRAL_TASK_QUEUE, SA, WORKFLOW_TYPES } from '../../common/names';
import {
  alertReceivedSignal,
  type AlertReceived,
  type PlaybookInput,
  type PlaybookPolicy,
} from '../../common/playbook';
import { withTemporalDeadline } from './temporal';

export interface Submission {
  workflowId: string;
  runId: string;
  /** True when the incident's workflow already existed: this alert was attached to it. */
  deduplicated: boolean;
  /** The incident had already completed: the alert was not recorded on it (only in the log). */
  closed?: true;
}

/** gRPC ALREADY_EXISTS: signal-with-start's answer when the reuse policy refuses a new run. */
const GRPC_ALREADY_EXISTS = 6;

export interface SubmitOptions {
  policy: PlaybookPolicy;
  /** `spawnguard-central` in production; tests use their own queue. */
  taskQueue?: string;
  deadlineMs?: number;
}

async function encode(client: Client, values: unknown[]): Promise<Payload[]> {
  const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
  let payloads = values.map((value) => payloadConverter.toPayload(value));
  for (const codec of payloadCodecs) payloads = await codec.encode(payloads);
  return payloads;
}

/**
 * The SDK's `client.workflow.signalWithStart` returns only the run id; whether the call started a
 * new run (the response's `started`, which is what `deduplicated` reports) is only in the raw
 * response, so the request is made through the workflow service directly, encoded with the
 * client's own data converter.
 */
export async function submitAlert(client: Client, alert: CanonicalAlert, options: SubmitOptions): Promise<Submission> {
  const workflowId = incidentWorkflowId(alert);
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
    // One id for this alert's retries: the gRPC layer's own retries cannot start or signal twice.
    requestId: randomUUID(),
    workflowId,
    workflowType: { name: WORKFLOW_TYPES.playbook },
    taskQueue: { name: options.taskQueue ?? CENTRAL_TASK_QUEUE },
    input: { payloads: await encode(client, [input]) },
    signalName: alertReceivedSignal.name,
    signalInput: { payloads: await encode(client, [received]) },
    workflowIdConflictPolicy: encodeWorkflowIdConflictPolicy('USE_EXISTING'),
    // A report arriving after its incident completed (a benign one closes within seconds, a 4688
    // copy of a Sysmon event may come later) must not investigate and report it again; only an
    // incident whose run failed or was terminated starts anew.
    workflowIdReusePolicy: encodeWorkflowIdReusePolicy('ALLOW_DUPLICATE_FAILED_ONLY'),
    searchAttributes: { indexedFields: encodeUnifiedSearchAttributes(undefined, searchAttributes) },
  };
  const deadlineMs = options.deadlineMs ?? 10_000;
  try {
    const response = await withTemporalDeadline(client, deadlineMs, () =>
      client.workflowService.signalWithStartWorkflowExecution(request),
    );
    return { workflowId, runId: response.runId, deduplicated: !response.started };
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== GRPC_ALREADY_EXISTS) throw err;
    // The incident completed: this alert is a late duplicate of it, answered with the closed run.
    const closed = await withTemporalDeadline(client, deadlineMs, () =>
      client.workflow.getHandle(workflowId).describe(),
    );
    return { workflowId, runId: closed.runId, deduplicated: true, closed: true };
  }
}
