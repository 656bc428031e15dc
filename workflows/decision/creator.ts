/**
 * Resolving a creator the event does not name (DESIGN.md §6, Security 4688 before Windows Server
 * 2016): the host's process-tree record for the creator PID (GetProcessTree.ps1) names it when that
 * process started before the child. A PID whose process is gone, or was started after the child (the
 * PID was reused), leaves the parent unknown: the alert is still decided, on the child. Workflow-safe.
 */
import type { CanonicalAlert } from '../../common/alert';
import { isUnknownProcess } from '../../common/process-identity';
import type { ProcessInfo } from '../../common/host-contract';
import { finding, type Finding } from './reasons';

export interface CreatorResolution {
  /** The alert, with the parent's image filled in when the host named it. */
  alert: CanonicalAlert;
  /** Why the parent is what it is now (weight 0), or null when the event named it itself. */
  finding: Finding | null;
}

/** Whether the playbook should ask the host who the creator was. */
export function creatorUnknown(alert: CanonicalAlert): boolean {
  return isUnknownProcess(alert.parent);
}

export function resolveCreator(alert: CanonicalAlert, creator: ProcessInfo | null | undefined): CreatorResolution {
  if (!creatorUnknown(alert)) return { alert, finding: null };
  const pid = alert.parent.pid;
  const unknown = (why: string): CreatorResolution => ({
    alert,
    finding: finding(
      'parent-unknown',
      ['parent'],
      `the event names the creator only by PID ${pid} (Security 4688 before Windows Server 2016 records no parent name) and ${why}: the parent is not acted on, the decision rests on the child`,
    ),
  });
  if (!creator || creator.pid !== pid) return unknown('the host was not asked or did not answer');
  if (!creator.found) return unknown(`no process with PID ${pid} runs on the host any more`);
  if (!creator.path) return unknown(`the host could not read the image path of PID ${pid}`);

  const childStarted = Date.parse(alert.child.startTime ?? alert.detectedAt);
  const creatorStarted = creator.creationTime ? Date.parse(creator.creationTime) : NaN;
  if (Number.isNaN(creatorStarted)) return unknown(`the host could not read when PID ${pid} started`);
  if (Number.isNaN(childStarted) || creatorStarted > childStarted) {
    return unknown(
      `PID ${pid} on the host now is ${creator.path}, started ${creator.creationTime}, after the child: the PID was reused`,
    );
  }

  const name = creator.name || creator.path.split(/[\\/]/).pop() || creator.path;
  return {
    alert: {
      ...alert,
      parent: {
        ...alert.parent,
        name,
        executable: creator.path,
        startTime: new Date(creatorStarted).toISOString(),
        ...(creator.commandLine ? { commandLine: creator.commandLine } : {}),
      },
    },
    finding: finding(
      'parent-resolved-on-host',
      ['parent'],
      `the event names the creator only by PID ${pid}; the host's process list gives ${creator.path}, started ${creator.creationTime}, before the child (facts from the host)`,
    ),
  };
}
