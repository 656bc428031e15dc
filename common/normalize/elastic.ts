/**
 * Elastic Security alerts (`kibana.alert.*` beside the ECS source event) and plain ECS process events.
 * Field names as Elastic emits them; dotted keys (`"process.parent.pid": 1`) are expanded first.
 */
import { z } from 'zod';
import { UNKNOWN_PROCESS_NAME, type AlertProcess, type CanonicalAlert, type Signature } from '../alert';
import type { FieldOrigins } from './errors';
import { compact, eventTime, windowsBaseName, windowsPid } from './fields';

const hashes = z.looseObject({
  sha256: z.string().optional(),
  sha1: z.string().optional(),
  md5: z.string().optional(),
});
const codeSignature = z.looseObject({
  exists: z.boolean().optional(),
  trusted: z.boolean().optional(),
  status: z.string().optional(),
  subject_name: z.string().optional(),
});

const ecsProcessFields = {
  pid: windowsPid,
  entity_id: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  executable: z.string().min(1).optional(),
  command_line: z.string().optional(),
  start: eventTime.optional(),
  hash: hashes.optional(),
  code_signature: codeSignature.optional(),
  pe: z.looseObject({ original_file_name: z.string().optional() }).optional(),
};
const namedProcess = <T extends z.ZodRawShape>(shape: T) =>
  z
    .looseObject(shape)
    .refine((p) => Boolean((p as { name?: string }).name || (p as { executable?: string }).executable), {
      message: 'needs `name` or `executable`',
    });

export const ElasticDocumentSchema = z.looseObject({
  '@timestamp': eventTime,
  kibana: z
    .looseObject({
      alert: z
        .looseObject({
          uuid: z.string().min(1).optional(),
          original_time: eventTime.optional(),
          severity: z.string().optional(),
          rule: z.looseObject({ name: z.string().optional() }).optional(),
        })
        .optional(),
    })
    .optional(),
  event: z.looseObject({ id: z.string().min(1).optional() }).optional(),
  _id: z.string().min(1).optional(),
  host: z.looseObject({
    hostname: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    ip: z.union([z.string(), z.array(z.string())]).optional(),
    os: z.looseObject({ full: z.string().optional(), name: z.string().optional() }).optional(),
  }),
  user: z
    .looseObject({
      name: z.string().min(1).optional(),
      domain: z.string().min(1).optional(),
      id: z.string().optional(),
    })
    .optional(),
  source: z.looseObject({ ip: z.string().optional() }).optional(),
  // The parent may lack both (its process had exited when the sensor looked): it stays unknown.
  process: namedProcess({ ...ecsProcessFields, parent: z.looseObject(ecsProcessFields) }),
});

type EcsProcess = z.infer<typeof ElasticDocumentSchema>['process'];

function signatureFrom(cs: z.infer<typeof codeSignature> | undefined): Signature | undefined {
  if (!cs) return undefined;
  const signer = cs.subject_name || undefined;
  if (cs.exists === false) return { status: 'unsigned' };
  if (cs.trusted === true || cs.status === 'trusted') return compact({ status: 'valid' as const, signer });
  if (cs.trusted === false || (cs.status && cs.status !== 'trusted'))
    return compact({ status: 'invalid' as const, signer });
  return compact({ status: 'unknown' as const, signer });
}

function processFrom(p: EcsProcess | EcsProcess['parent']): AlertProcess {
  const executable = p.executable;
  return compact({
    pid: p.pid,
    entityId: p.entity_id,
    name: p.name ?? (executable ? windowsBaseName(executable) : UNKNOWN_PROCESS_NAME),
    executable,
    commandLine: p.command_line,
    startTime: p.start,
    hashes: p.hash ? compact({ sha256: p.hash.sha256, sha1: p.hash.sha1, md5: p.hash.md5 }) : undefined,
    signature: signatureFrom(p.code_signature),
    originalFileName: p.pe?.original_file_name,
  });
}

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

export function fromElastic(doc: z.infer<typeof ElasticDocumentSchema>): Omit<CanonicalAlert, 'alertId'> & {
  alertId?: string;
} {
  const alert = doc.kibana?.alert;
  const hostname = doc.host.hostname ?? doc.host.name;
  const severity = SEVERITIES.find((s) => s === alert?.severity?.toLowerCase());
  const user = doc.user?.name ? compact({ name: doc.user.name, domain: doc.user.domain, sid: doc.user.id }) : undefined;
  return compact({
    alertId: alert?.uuid ?? doc.event?.id ?? doc._id,
    source: 'elastic' as const,
    ruleName: alert?.rule?.name,
    severity,
    detectedAt: alert?.original_time ?? doc['@timestamp'],
    host: compact({
      hostname: hostname as string,
      ip: doc.host.ip === undefined ? undefined : ([] as string[]).concat(doc.host.ip),
      os: doc.host.os?.full ?? doc.host.os?.name,
    }),
    user,
    session: doc.source?.ip ? { remoteIp: doc.source.ip } : undefined,
    parent: processFrom(doc.process.parent),
    child: compact({ ...processFrom(doc.process), user }),
  });
}

function ecsProcessOrigins(
  canonical: 'child' | 'parent',
  ecs: string,
  process: { name?: string },
): Record<string, string> {
  return {
    [`${canonical}.pid`]: `${ecs}.pid`,
    [`${canonical}.entityId`]: `${ecs}.entity_id`,
    [`${canonical}.name`]: process.name ? `${ecs}.name` : `${ecs}.executable`,
    [`${canonical}.executable`]: `${ecs}.executable`,
    [`${canonical}.commandLine`]: `${ecs}.command_line`,
    [`${canonical}.startTime`]: `${ecs}.start`,
    [`${canonical}.hashes.sha256`]: `${ecs}.hash.sha256`,
    [`${canonical}.hashes.sha1`]: `${ecs}.hash.sha1`,
    [`${canonical}.hashes.md5`]: `${ecs}.hash.md5`,
    [`${canonical}.signature`]: `${ecs}.code_signature`,
    [`${canonical}.signature.signer`]: `${ecs}.code_signature.subject_name`,
    [`${canonical}.originalFileName`]: `${ecs}.pe.original_file_name`,
  };
}

/** Canonical field → the Elastic field it was read from (see fromElastic). */
export function elasticFieldOrigins(doc: z.infer<typeof ElasticDocumentSchema>): FieldOrigins {
  const alert = doc.kibana?.alert;
  const user = { name: 'user.name', domain: 'user.domain', sid: 'user.id' };
  return {
    alertId: alert?.uuid ? 'kibana.alert.uuid' : doc.event?.id ? 'event.id' : '_id',
    ruleName: 'kibana.alert.rule.name',
    detectedAt: alert?.original_time ? 'kibana.alert.original_time' : '@timestamp',
    'host.hostname': doc.host.hostname ? 'host.hostname' : 'host.name',
    'host.ip': 'host.ip',
    'host.os': doc.host.os?.full ? 'host.os.full' : 'host.os.name',
    'user.name': user.name,
    'user.domain': user.domain,
    'user.sid': user.sid,
    'child.user.name': user.name,
    'child.user.domain': user.domain,
    'child.user.sid': user.sid,
    'session.remoteIp': 'source.ip',
    ...ecsProcessOrigins('child', 'process', doc.process),
    ...ecsProcessOrigins('parent', 'process.parent', doc.process.parent),
  };
}
