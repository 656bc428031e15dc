/**
 * The remediation plan (DESIGN.md §6 "Which side to act on"): which of the pair to quarantine or
 * terminate, whom to log off, and why a step is skipped. Process targets carry PID, image path and
 * start time so the host can refuse a reused PID. Workflow-safe.
 */
import type { AlertProcess, CanonicalAlert } from '../../common/alert';
import type { DecisionPolicy, PlanAction, PlanStep, PlanTarget } from '../../common/decision';
import type { FileEnrichment } from '../../common/incident-status';
import {
  EXPECTED_PARENTS,
  isCriticalProcess,
  isPowerShellHost,
  isRemoteWindowsPath,
  isServiceAccount,
  isSharedHost,
} from '../../common/windows';
import { processLabel, trustedSigner } from './file-facts';
import { nameStem } from '../../common/windows';
import { OFFENDING_FILE, type Finding, type Role } from './reasons';
import { alertUser, isOfficeApplication, userLabel } from './relationship';
import { userWritableSegment } from './rules';

export interface PlanInput {
  alert: CanonicalAlert;
  files: Record<Role, FileEnrichment>;
  /** The reasons that point at the pair (positive weight, less what the allow list answers). */
  findings: Finding[];
  policy: DecisionPolicy;
  /**
   * Files on remote or device paths are never quarantined (default). False only when replaying a
   * history recorded before that rule, whose plan had no such block.
   */
  blockRemoteImages?: boolean;
  /**
   * An unsigned or unverified parent in a user-writable folder is acted on (default). False only
   * when replaying a history recorded before that rule.
   */
  actOnUnverifiedUserFolderParent?: boolean;
}

/**
 * The target of a process step. Given the child, the process is its parent: the host then also
 * requires it to have started before the child, so a younger process that reused the parent's PID
 * is never acted on.
 */
export function processTarget(process: AlertProcess, child?: AlertProcess): PlanTarget {
  return {
    description: `PID ${process.pid} ${process.executable ?? process.name}`,
    pid: process.pid,
    ...(process.executable ? { imagePath: process.executable } : {}),
    ...(process.startTime ? { startTime: process.startTime } : {}),
    ...(child?.startTime ? { startedBefore: child.startTime } : {}),
  };
}

/** The side's own file is the offender: bad reputation, a masquerade, or unsigned where users write. */
export function isOffendingFile(findings: Finding[], role: Role): boolean {
  return findings.some((f) => f.roles.includes(role) && f.weight > 0 && OFFENDING_FILE.includes(f.code));
}

/**
 * Where a genuine shared host legitimately comes from. A genuine-path svchost or explorer started by
 * anything else (Word, a dropper) is a hollowed or abused copy hosting no one's services or desktop:
 * it is the offender and may be stopped. Started by its usual parent it hosts others, and is not.
 */
const SHARED_HOST_PARENTS: Readonly<Record<string, readonly string[]>> = {
  ...EXPECTED_PARENTS,
  explorer: ['userinit', 'winlogon', 'explorer'],
};

function startedByUsualParent(child: AlertProcess, parent: AlertProcess): boolean {
  const usual = SHARED_HOST_PARENTS[nameStem(child.executable ?? child.name)];
  return usual === undefined || usual.includes(nameStem(parent.executable ?? parent.name));
}

/** Why a process must not be terminated at all, or null. */
function protectedReason(process: AlertProcess, parent?: AlertProcess): string | null {
  const identity = { pid: process.pid, name: process.name, path: process.executable ?? null };
  if (!process.executable) {
    // Without an image path the host cannot tell this process from a later one that reused its
    // PID: acting on the PID alone could kill an unrelated process (the host refuses such a request).
    return `${processLabel(process)} cannot be identified beyond its PID (the alert has no image path)`;
  }
  if (isCriticalProcess(identity)) return `${processLabel(process)} is a critical Windows process: never terminated`;
  if (isSharedHost(identity) && (!parent || startedByUsualParent(process, parent))) {
    return `${processLabel(process)} is a shared host: terminating it harms the machine or its users without removing the threat`;
  }
  return null;
}

/** Why a file must not be quarantined (terminate only), or null. */
function quarantineBlock(
  process: AlertProcess,
  file: FileEnrichment,
  policy: DecisionPolicy,
  blockRemoteImages: boolean,
): string | null {
  if (blockRemoteImages && isRemoteWindowsPath(process.executable)) {
    return 'its file is on a remote or device path (share, WebDAV, \\\\?\\UNC): the host never opens such a path (as SYSTEM that would authenticate the machine account to whoever serves it); the file is reported, terminate only';
  }
  const signer = trustedSigner(file, policy);
  if (signer && file.isOsBinary) return `OS binary signed by ${signer}: terminate only, never quarantined`;
  if (signer && file.isMicrosoftSigned) return `signed by ${signer}: terminate only, never quarantined`;
  if (signer) return `signed by trusted publisher ${signer}: terminate only, never quarantined`;
  if (isPowerShellHost({ name: process.name, path: process.executable ?? null })) {
    return 'a PowerShell host: never quarantined (the host worker runs its scripts with PowerShell); terminate only';
  }
  return null;
}

const step = (action: PlanAction, target: PlanTarget, skipped?: string | null): PlanStep =>
  skipped ? { action, target, skipped } : { action, target };

export function remediationPlan({
  alert,
  files,
  findings,
  policy,
  blockRemoteImages = true,
  actOnUnverifiedUserFolderParent = true,
}: PlanInput): PlanStep[] {
  const { parent, child } = alert;
  const plan: PlanStep[] = [];

  // ---- the parent: only when it is suspect itself or is the Office host that opened the document ----
  const parentOffending = isOffendingFile(findings, 'parent');
  const officeLauncher =
    isOfficeApplication(parent.name) &&
    findings.some((f) => f.code === 'office-spawned-shell' || f.code === 'office-spawned-user-binary');
  // A parent in a user-writable folder whose file is not validly signed (unsigned, or its signature
  // could not be read at all) is acted on too: the host checks the signature again before any move.
  const unverifiedUserFolderParent =
    actOnUnverifiedUserFolderParent &&
    parent.executable !== undefined &&
    userWritableSegment(parent.executable) !== null &&
    files.parent.signature?.status !== 'valid';
  const parentProtected = protectedReason(parent);
  if (parentProtected) {
    plan.push(
      step('terminate-parent', processTarget(parent, child), `${parentProtected}; acting on the child instead`),
    );
  } else if (parentOffending || officeLauncher || unverifiedUserFolderParent) {
    const block =
      quarantineBlock(parent, files.parent, policy, blockRemoteImages) ??
      (parentOffending || unverifiedUserFolderParent
        ? null
        : `${processLabel(parent)} only opened the document; its own file is not the offender: terminate only`);
    if (block) {
      plan.push(step('quarantine-parent', processTarget(parent, child), block));
      plan.push(step('terminate-parent', processTarget(parent, child)));
    } else {
      plan.push(step('quarantine-parent', processTarget(parent, child)));
    }
  }

  // ---- the child and its descendants; its file too when it is the offending binary ----
  const childProtected = protectedReason(child, parent);
  if (childProtected) {
    plan.push(step('terminate-child', processTarget(child), `${childProtected}: not terminated`));
  } else {
    plan.push(step('terminate-child', processTarget(child)));
    if (isOffendingFile(findings, 'child')) {
      plan.push(
        step('quarantine-child', processTarget(child), quarantineBlock(child, files.child, policy, blockRemoteImages)),
      );
    }
  }

  // ---- persistence is always collected: it is how the offender would come back. Before the logoff:
  // logging the user off unloads their hive, and with it their Run keys, COM registrations and the like ----
  plan.push(step('fetch-persistence', { description: `persistence entries on ${alert.host.hostname}` }));

  // ---- the user's sessions ----
  const user = alertUser(alert);
  if (!user) {
    plan.push(step('logoff-user', { description: 'unknown user' }, 'no user is known from the alert'));
  } else {
    const who = userLabel(user);
    const target: PlanTarget = {
      description: who,
      user: { name: user.name, ...(user.domain ? { domain: user.domain } : {}) },
    };
    plan.push(
      step('logoff-user', target, isServiceAccount(user) ? `${who} is a service account: never logged off` : null),
    );
  }
  return plan;
}
