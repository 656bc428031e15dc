/**
 * Temporal from the ingest service's and the CLI's side: a lazy client (the service must start, and
 * answer 503, while Temporal is down) and one classification of Temporal errors, so HTTP status
 * codes and CLI exit codes say the same thing.
 */
import {
  Client,
  Connection,
  isGrpcServiceError,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { TemporalSettings } from '../../common/config';
import { spawnguardDataConverter } from '../../common/payload-codec';

/** Connects on first use; a Temporal that is down shows up as failed calls, not as a crash at start-up. */
export function lazyClient(settings: TemporalSettings): Client {
  const connection = Connection.lazy({
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
  const dataConverter = spawnguardDataConverter(settings);
  return new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
}

/** Runs one Temporal call with a deadline: the SDK's own retries would otherwise wait far longer than an HTTP client. */
export function withTemporalDeadline<T>(client: Client, deadlineMs: number, call: () => Promise<T>): Promise<T> {
  return client.withDeadline(Date.now() + deadlineMs, call);
}

/** A decision for an incident that has already closed: nothing was recorded. */
export class IncidentClosedError extends Error {
  constructor(
    message: string,
    readonly closedAt: string | null,
    readonly outcome: string | null,
  ) {
    super(message);
    this.name = 'IncidentClosedError';
  }
}

export type TemporalProblem =
  /** Temporal (or the worker that answers queries and updates) could not be reached in time: retry later. */
  | { kind: 'unavailable'; message: string }
  | { kind: 'not-found'; message: string }
  /** The workflow refused the request (an update validator, a failed update). */
  | { kind: 'rejected'; message: string }
  /** The incident has closed: a decision for it changes nothing (the message says how it closed). */
  | { kind: 'closed'; message: string }
  | { kind: 'other'; message: string };

/** gRPC status codes (stable across gRPC implementations; @grpc/grpc-js is not a direct dependency). */
const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
const UNAVAILABLE_CODES: readonly number[] = [
  GRPC.UNAVAILABLE,
  GRPC.DEADLINE_EXCEEDED,
  GRPC.CANCELLED,
  GRPC.RESOURCE_EXHAUSTED,
];
const CODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(GRPC).map(([name, code]) => [code, name]));

function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return e.code;
  }
  return undefined;
}

export function classifyTemporalError(err: unknown): TemporalProblem {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof IncidentClosedError) return { kind: 'closed', message };
  if (err instanceof WorkflowNotFoundError) return { kind: 'not-found', message: 'no such incident' };
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return { kind: 'unavailable', message: 'the incident did not answer in time (is the central worker running?)' };
  }
  if (err instanceof WorkflowUpdateFailedError) {
    return { kind: 'rejected', message: err.cause?.message ?? message };
  }
  const code = grpcCode(err);
  if (code === GRPC.NOT_FOUND) return { kind: 'not-found', message: 'no such incident' };
  if (code !== undefined && UNAVAILABLE_CODES.includes(code)) {
    return { kind: 'unavailable', message: `Temporal is unreachable or did not answer in time (${CODE_NAMES[code]})` };
  }
  // Connection set-up failures (waitForReady) come without a gRPC code.
  if (err instanceof ServiceError || /failed to connect|connect ECONNREFUSED|deadline/i.test(message)) {
    return { kind: 'unavailable', message: `Temporal is unreachable: ${message}` };
  }
  return { kind: 'other', message };
}
