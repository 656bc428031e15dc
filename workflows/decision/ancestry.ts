/**
 * The process tree (Elastic's first triage question): the pair's ancestry and descendants as the
 * host's process list gives them (GetProcessTree.ps1), kept only for the processes the alert names,
 * and what the ancestry says about the pair — the real launcher of a shell that a shell started.
 * Workflow-safe.
 */
import type { CanonicalAlert, AlertProcess } from '../../common/alert';
import type { ProcessInfo } from '../../common/host-contract';
import type { ProcessTree } from '../../common/incident-status';
import { processLabel } from './file-facts';
import { canonicalWindowsPath, matchName } from '../../common/windows';
import { finding, type Finding } from './reasons';
import { OFFICE_APPLICATIONS, OFFICE_FORBIDDEN_CHILDREN, SERVER_APPLICATIONS } from './rules';

/** How far up the ancestry the real launcher is looked for. */
const ANCESTRY_DEPTH = 6;
/** Start times within this of each other are the same process (the sources round differently). */
const SAME_START_MS = 1_000;

/**
 * The host's records of the pair, each kept only when it is the process the alert names: same
 * image, and started when the alert says. A reused PID's record is dropped, saying so.
 */
export function processTreeFor(alert: CanonicalAlert, records: readonly ProcessInfo[]): ProcessTree {
  const notes: string[] = [];
  const pick = (role: 'parent' | 'child'): ProcessInfo | null => {
    const process = alert[role];
    const record = records.find((r) => r.pid === process.pid && r.found);
    if (!record) return null;
    // A PID is never taken on its own: without the alert's image there is nothing to check it against.
    const why = process.executable
      ? differs(process, record, alert.detectedAt)
      : 'the alert names no image to check the host record against';
    if (why) {
      notes.push(`${role} PID ${process.pid}: ${why}; its host record is not used`);
      return null;
    }
    return record;
  };
  return { parent: pick('parent'), child: pick('child'), notes };
}

function differs(process: AlertProcess, record: ProcessInfo, alertedAt: string): string | null {
  if (!record.path || canonicalWindowsPath(process.executable!) !== canonicalWindowsPath(record.path)) {
    return `the host runs ${record.path ?? 'an image it cannot name'} under that PID now, not ${process.executable}`;
  }
  if (!record.creationTime) return null;
  const started = Date.parse(record.creationTime);
  if (process.startTime) {
    const gap = Math.abs(Date.parse(process.startTime) - started);
    if (Number.isFinite(gap) && gap > SAME_START_MS) {
      return `the process under that PID started at ${record.creationTime}, not ${process.startTime}`;
    }
  } else if (Number.isFinite(started) && started > Date.parse(alertedAt) + SAME_START_MS) {
    // Without the alert's start time: a process younger than the alert is not the one it names.
    return `the process under that PID started at ${record.creationTime}, after the alert (${alertedAt})`;
  }
  return null;
}

/**
 * A shell or LOLBin started by another shell or LOLBin hides its real launcher one level up: Word
 * starting cmd starting powershell is an alert about cmd → powershell. The ancestry names it.
 */
export function ancestryFindings(alert: CanonicalAlert, tree: ProcessTree | null | undefined): Finding[] {
  const ancestors = tree?.parent?.parentChain ?? [];
  if (ancestors.length === 0) return [];
  const { parent, child } = alert;
  const isLauncher = (name: string, list: readonly string[]) => matchName(name, list)?.exact === true;
  // The pair's own rules already judge a launcher that is the parent itself.
  if (isLauncher(parent.name, OFFICE_APPLICATIONS) || isLauncher(parent.name, SERVER_APPLICATIONS)) return [];
  if (!matchName(child.name, OFFICE_FORBIDDEN_CHILDREN) || !matchName(parent.name, OFFICE_FORBIDDEN_CHILDREN)) {
    return [];
  }
  const chain: string[] = [];
  for (const ancestor of ancestors.slice(0, ANCESTRY_DEPTH)) {
    const name = ancestor.name ?? '';
    const label = `${name || '?'} (PID ${ancestor.pid})`;
    const through = `${processLabel(child)} was started by ${processLabel(parent)}${chain.length ? `, started by ${chain.join(', started by ')}` : ''}, started by ${label}`;
    if (isLauncher(name, OFFICE_APPLICATIONS)) {
      return [
        finding(
          'launched-by-office-ancestor',
          ['parent', 'child'],
          `${through}: the real launcher of the shell is an Office application (process tree from the host; Sigma "Suspicious Microsoft Office Child Process" one level down)`,
        ),
      ];
    }
    if (isLauncher(name, SERVER_APPLICATIONS)) {
      return [
        finding(
          'launched-by-server-app-ancestor',
          ['parent', 'child'],
          `${through}: the real launcher of the shell is a web server or database, as with a web shell (process tree from the host)`,
        ),
      ];
    }
    chain.push(label);
  }
  return [];
}
