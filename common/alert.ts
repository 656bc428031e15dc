/**
 * The canonical alert: the one shape every input format is normalized to, and the playbook's input.
 * Pure (no Node APIs): safe to import from workflow code.
 */
import { z } from 'zod';

export { isUnknownProcess, SYSTEM_PROCESS_ID, UNKNOWN_PROCESS_NAME } from './process-identity';

export const ALERT_SOURCES = ['canonical', 'elastic', 'sysmon', 'security-4688'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

const isoTimestamp = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' });
const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters')
  .transform((s) => s.toLowerCase());
const sha1 = z
  .string()
  .regex(/^[0-9a-fA-F]{40}$/, 'must be 40 hex characters')
  .transform((s) => s.toLowerCase());
const md5 = z
  .string()
  .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hex characters')
  .transform((s) => s.toLowerCase());

export const FileHashesSchema = z.object({ sha256: sha256.optional(), sha1: sha1.optional(), md5: md5.optional() });

/**
 * Code signature as the sensor saw it. `valid` means a chain that verified; `trusted` follows the
 * sensor's own word where it gives one (ECS `code_signature.trusted`, Sysmon `SignatureStatus`).
 */
export const SignatureSchema = z.object({
  status: z.enum(['valid', 'invalid', 'unsigned', 'unknown']),
  signer: z.string().min(1).max(512).optional(),
});

export const UserSchema = z.object({
  name: z.string().min(1).max(256),
  domain: z.string().min(1).max(256).optional(),
  sid: z.string().max(256).optional(),
});

/** No Windows file name or path holds a NUL: one in an alert is an attempt to cut a path short. */
const noNul = (text: string) => !text.includes('\u0000');

export const ProcessSchema = z.object({
  /** PID 0 is the Idle process, which starts nothing and is started by nothing. */
  pid: z.number().int().min(1, 'PID 0 (the Idle process) is never part of a process creation').max(0xffffffff),
  /** Sensor-assigned unique id: Sysmon ProcessGuid, Elastic `process.entity_id`. */
  entityId: z.string().min(1).max(256).optional(),
  /** Image file name, e.g. `WINWORD.EXE`. */
  name: z.string().min(1).max(260).refine(noNul, 'contains a NUL character'),
  /** Full image path, e.g. `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`. */
  executable: z.string().min(1).max(32_767).refine(noNul, 'contains a NUL character').optional(),
  commandLine: z.string().max(32_767).optional(),
  startTime: isoTimestamp.optional(),
  hashes: FileHashesSchema.optional(),
  signature: SignatureSchema.optional(),
  /** Original file name from the PE version resource (renamed-binary detection). */
  originalFileName: z.string().max(260).optional(),
  user: UserSchema.optional(),
});

export const HostSchema = z.object({
  /** As reported; `shortHostname()` gives the form used for task queues. */
  hostname: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a DNS host name'),
  ip: z.array(z.string().max(64)).max(32).optional(),
  os: z.string().max(256).optional(),
});

export const SessionSchema = z.object({
  /** Windows terminal session id (Sysmon TerminalSessionId). */
  id: z.number().int().min(0).max(65_535).optional(),
  logonId: z.string().max(64).optional(),
  /** Client address the sensor reported; client-reported for RDP, so it can be spoofed. */
  remoteIp: z.string().max(64).optional(),
});

export const CanonicalAlertSchema = z.object({
  alertId: z.string().min(1).max(256),
  source: z.enum(ALERT_SOURCES),
  ruleName: z.string().max(512).optional(),
  severity: z.enum(['low', 'medium', 'high', 'critical']).optional(),
  detectedAt: isoTimestamp,
  host: HostSchema,
  /** The user the child process runs as. */
  user: UserSchema.optional(),
  session: SessionSchema.optional(),
  parent: ProcessSchema,
  child: ProcessSchema,
});

export type CanonicalAlert = z.infer<typeof CanonicalAlertSchema>;
export type AlertProcess = z.infer<typeof ProcessSchema>;
export type AlertUser = z.infer<typeof UserSchema>;
export type FileHashes = z.infer<typeof FileHashesSchema>;
export type Signature = z.infer<typeof SignatureSchema>;
