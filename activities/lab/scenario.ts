/** The lab host's scenario file: a simulated Windows host's processes, files, sessions and persistence. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PERSISTENCE_KINDS } from '../../common/host-contract';

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/)
  .transform((s) => s.toLowerCase());

export const LabScenarioSchema = z.object({
  hostname: z.string().min(1),
  quarantineDirectory: z.string().default('C:\\ProgramData\\spawnguard\\quarantine'),
  processes: z
    .array(
      z.object({
        pid: z.number().int().min(0),
        parentPid: z.number().int().min(0),
        name: z.string(),
        path: z.string().nullable().default(null),
        commandLine: z.string().nullable().default(null),
        startTime: z.string(),
        owner: z.string().nullable().default(null),
        sessionId: z.number().int().nullable().default(null),
        running: z.boolean().default(true),
      }),
    )
    .default([]),
  files: z
    .array(
      z.object({
        path: z.string(),
        sha256,
        sha1: z.string().nullable().default(null),
        size: z.number().int().default(0),
        signatureStatus: z.enum(['valid', 'invalid', 'unsigned', 'unknown']).default('unsigned'),
        signer: z.string().nullable().default(null),
        originalFilename: z.string().nullable().default(null),
        companyName: z.string().nullable().default(null),
        productName: z.string().nullable().default(null),
      }),
    )
    .default([]),
  sessions: z
    .array(
      z.object({
        id: z.number().int().min(0),
        user: z.string(),
        type: z.enum(['console', 'rdp', 'other']).default('console'),
        state: z.string().default('Active'),
        clientAddress: z.string().nullable().default(null),
      }),
    )
    .default([]),
  persistence: z
    .array(
      z.object({
        kind: z.enum(PERSISTENCE_KINDS),
        location: z.string(),
        name: z.string(),
        command: z.string(),
        user: z.string().nullable().default(null),
      }),
    )
    .default([]),
  /** Persistence entries removed on an analyst's approval, as their backups (restorable). */
  persistenceBackups: z
    .array(
      z.object({
        id: z.string(),
        incidentId: z.string(),
        format: z.enum(['registry-value', 'task-xml', 'service-start', 'wmi-instance', 'quarantined-file']),
        entry: z.object({
          kind: z.enum(PERSISTENCE_KINDS),
          location: z.string(),
          name: z.string(),
          command: z.string(),
          user: z.string().nullable().default(null),
        }),
        restored: z.boolean().default(false),
        /** A startup file moved to quarantine with its entry. */
        movedFile: z.object({ from: z.string(), to: z.string() }).optional(),
      }),
    )
    .default([]),
  /** Files moved into quarantine so far (kept so repeats are idempotent). */
  quarantined: z
    .array(
      z.object({
        sha256: z.string(),
        originalPath: z.string(),
        quarantinePath: z.string(),
        signer: z.string().nullable(),
        incidentId: z.string(),
      }),
    )
    .default([]),
});
export type LabScenario = z.infer<typeof LabScenarioSchema>;

export function loadLabScenario(path: string): LabScenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`lab scenario ${path}: ${(err as Error).message}`);
  }
  const parsed = LabScenarioSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `lab scenario ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
