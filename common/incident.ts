/**
 * Incident identity: duplicates of one incident (same host, same parent instance, same child
 * instance) get the same workflow ID whichever rule or format reported them (DESIGN.md §3).
 * Node-side only (ingest, CLI): workflow code never computes an incident's id.
 */
import { createHash } from 'node:crypto';
import type { AlertProcess, CanonicalAlert } from './alert';
import { shortHostname } from './names';

/**
 * `2024-05-01T12:11:12.3456+02:00` → `20240501T101112Z`: UTC, to the second, since sensors differ
 * in sub-second precision and a canonical alert may carry an offset.
 */
function utcSecond(isoTimestamp: string): string {
  return new Date(isoTimestamp)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * A process instance: PID plus start time is the identity every format can give (Elastic
 * `process.start`, Sysmon `UtcTime`, the 4688 event time); the sensor's entity id is the fallback.
 */
function processInstance(process: AlertProcess): string | undefined {
  if (process.startTime) return `${process.pid}.${utcSecond(process.startTime)}`;
  // Hashed, not stripped: `{AAAA-BBBB}` and `AAAA.BBBB` are different processes.
  if (process.entityId)
    return `${process.pid}.e${createHash('sha256').update(process.entityId).digest('hex').slice(0, 20)}`;
  return undefined;
}

/**
 * e.g. `spawnguard-web01-4312-6120.20240501T101112Z` — readable in the Temporal UI, safe in a URL.
 * A child instance has exactly one parent, so once the child instance is known the parent's PID
 * completes the pair; the parent's start time is left out because Sysmon and 4688 never report it,
 * and including it would split one incident reported by Elastic and by Sysmon into two.
 */
export function incidentWorkflowId(alert: CanonicalAlert): string {
  const child = processInstance(alert.child);
  const parent = child ? String(alert.parent.pid) : (processInstance(alert.parent) ?? String(alert.parent.pid));
  return ['spawnguard', shortHostname(alert.host.hostname), parent, child ?? String(alert.child.pid)]
    .join('-')
    .replace(/[^A-Za-z0-9._-]/g, '_');
}
