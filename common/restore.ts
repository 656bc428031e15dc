/**
 * Undo (`incidentRestore`): puts back what an incident quarantined or removed — a false positive
 * found after remediation — through its own durable workflow, validated on the host and reported.
 * Schemas and names; workflow-safe.
 */
import { z } from 'zod';
import { ActionRecordSchema } from './incident-status';
import { AnalystIdentitySchema, PlaybookPolicySchema } from './playbook';

/** The restore workflow of an incident: `<incident>.restore-<n>`. */
export function restoreWorkflowId(incidentId: string, n: number): string {
  return `${incidentId}.restore-${n}`;
}

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 is 64 hex digits')
  .transform((s) => s.toLowerCase());

export const RestoreInputSchema = z
  .object({
    incidentId: z.string().min(1).max(1024),
    /** The quarantined files to put back, by SHA-256, or `all` of the incident's. */
    files: z.union([z.literal('all'), z.array(sha256).min(1).max(64)]).optional(),
    /** The removed persistence entries to put back, by proposal id (`p1`), or `all`. */
    persistence: z
      .union([
        z.literal('all'),
        z
          .array(z.string().regex(/^p\d{1,3}$/))
          .min(1)
          .max(64),
      ])
      .optional(),
    analyst: z.string().trim().min(1, 'analyst is required').max(256),
    comment: z.string().max(4096).optional(),
    /** Who asked, as the sign-in provider vouched (the review page and API set it). */
    identity: AnalystIdentitySchema.optional(),
    /** The deployment's host queues and timeouts (as new incidents get them). */
    policy: PlaybookPolicySchema,
  })
  .refine((input) => input.files !== undefined || input.persistence !== undefined, {
    message: 'name what to restore: files (SHA-256s or all), persistence entries (p1… or all), or both',
  });
export type RestoreInput = z.input<typeof RestoreInputSchema>;

export const RESTORE_OUTCOMES = [
  /** Everything asked for is back and verified on the host. */
  'restored',
  /** Some of it: see each action (an original path occupied, a backup missing). */
  'partially-restored',
  /** The incident quarantined or removed nothing of what was asked. */
  'nothing-to-restore',
  'host-unreachable',
] as const;

export const RestoreStatusSchema = z.object({
  workflowId: z.string(),
  incidentId: z.string(),
  phase: z.enum(['loading', 'restoring', 'validating', 'notifying', 'closed']),
  outcome: z.enum(RESTORE_OUTCOMES).nullable(),
  requestedBy: z.object({
    analyst: z.string(),
    identity: AnalystIdentitySchema.nullable().optional(),
    comment: z.string().nullable().optional(),
    at: z.string(),
  }),
  hostname: z.string().nullable(),
  lab: z.boolean(),
  /** `restore-file` and `restore-persistence` records, validated on the host. */
  actions: z.array(ActionRecordSchema),
  /** Why nothing could be done (the incident is unknown, or has not remediated). */
  message: z.string().nullable().optional(),
  reportSent: z.boolean(),
  reportError: z.string().nullable().optional(),
  timestamps: z.object({ started: z.string(), closed: z.string().nullable() }),
});
export type RestoreStatus = z.infer<typeof RestoreStatusSchema>;
