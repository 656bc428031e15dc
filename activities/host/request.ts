/**
 * The one way a host activity reads its request (the PowerShell ones and the lab's alike): the
 * contract's zod schema, and a non-retryable InvalidRequest naming every bad field otherwise.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { HOST_FAILURE_TYPES } from '../../common/host-failures';

export function parseHostRequest<S extends z.ZodType>(schema: S, request: unknown, activity: string): z.output<S> {
  const parsed = schema.safeParse(request);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
  throw ApplicationFailure.create({
    type: HOST_FAILURE_TYPES.invalidRequest,
    message: `Invalid ${activity} request: ${issues}`,
    nonRetryable: true,
  });
}
