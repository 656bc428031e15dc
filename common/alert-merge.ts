/**
 * Later alerts about the same pair, merged before the decision (issue 15 item 4): another sensor or
 * rule often knows what the first did not (a Sysmon event's hashes and original file name after an
 * Elastic alert, a 4688's command line). Only facts the incident's alert lacks are taken, and only
 * for the same process instances (same PIDs, and same start time or sensor id when both have one):
 * a later alert never overwrites what was already known. Pure: safe in workflow code.
 */
import type { AlertProcess, CanonicalAlert } from './alert';
import { isUnknownProcess } from './process-identity';

const PROCESS_FACTS = [
  'entityId',
  'executable',
  'commandLine',
  'startTime',
  'signature',
  'originalFileName',
  'user',
] as const satisfies readonly (keyof AlertProcess)[];

function sameInstance(a: AlertProcess, b: AlertProcess): boolean {
  if (a.pid !== b.pid) return false;
  if (a.entityId && b.entityId && a.entityId !== b.entityId) return false;
  if (a.startTime && b.startTime && Date.parse(a.startTime) !== Date.parse(b.startTime)) return false;
  return true;
}

function mergeProcess(known: AlertProcess, later: AlertProcess): { process: AlertProcess; added: string[] } {
  const merged: AlertProcess = { ...known };
  const added: string[] = [];
  // An unnamed creator takes the later event's name and image together.
  if (isUnknownProcess(known) && !isUnknownProcess(later)) {
    merged.name = later.name;
    if (later.executable) merged.executable = later.executable;
    added.push('name');
  }
  for (const fact of PROCESS_FACTS) {
    if (merged[fact] === undefined && later[fact] !== undefined) {
      (merged as Record<string, unknown>)[fact] = later[fact];
      added.push(fact);
    }
  }
  const hashes = { ...(later.hashes ?? {}), ...(known.hashes ?? {}) };
  const newHashes = Object.keys(hashes).filter((h) => !(known.hashes && h in known.hashes));
  if (newHashes.length > 0) {
    merged.hashes = hashes;
    added.push(...newHashes.map((h) => `hashes.${h}`));
  }
  return { process: merged, added };
}

/** The incident's alert with the facts `later` adds about the same pair, and which facts those were. */
export function mergeLaterAlert(
  known: CanonicalAlert,
  later: CanonicalAlert,
): { alert: CanonicalAlert; added: string[] } {
  if (!sameInstance(known.parent, later.parent) || !sameInstance(known.child, later.child))
    return { alert: known, added: [] };
  const parent = mergeProcess(known.parent, later.parent);
  const child = mergeProcess(known.child, later.child);
  const alert: CanonicalAlert = { ...known, parent: parent.process, child: child.process };
  const added = [...parent.added.map((f) => `parent.${f}`), ...child.added.map((f) => `child.${f}`)];
  if (!known.user && later.user) {
    alert.user = later.user;
    added.push('user');
  }
  return { alert, added };
}
