/**
 * The TypeScript side of the host safety rules (DESIGN.md §5). The scripts enforce the same rules;
 * these checks run before any PowerShell is spawned, so an unsafe request never leaves the worker
 * even if a script were wrong. The protected lists themselves live in common/windows/protected.ts (the one
 * TS-side list); this file applies them to requests and to what the host says about itself.
 *
 * Targets are always selected by PID (the image path and start time are identity checks for the
 * script), so "never stop PowerShell by path" means: never quarantine a PowerShell host's image,
 * and never touch the PowerShell processes this worker is running. A malicious powershell.exe child
 * may still be stopped by its PID.
 */
import { ApplicationFailure } from '@temporalio/common';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { win32 } from 'node:path';
import { HOST_FAILURE_TYPES, type ProcessTarget, type SessionActionResult } from '../../common/host-contract';
import {
  PROTECTED_PIDS,
  isCriticalProcess,
  isSharedHost,
  isPowerShellHost,
  isRemoteWindowsPath,
  isServiceAccount,
  normalizeWindowsPath,
  canonicalWindowsPath,
  trimSegment,
} from '../../common/windows';
import { normalizeUser } from '../../common/user-name';

export { isRemoteWindowsPath } from '../../common/windows';

export type ProcessAction = 'stop' | 'stop-and-quarantine';

export interface AccountName {
  name: string;
  domain?: string | undefined;
}

function parentPidFromProcStat(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The worker's own PID and its parent chain as Node can see it: the whole chain on Linux (/proc),
 * the direct parent elsewhere. On Windows the host worker adds the full chain at start-up from
 * GetProcessTree (worker/host.ts).
 */
export function workerProcessChain(platform: NodeJS.Platform = process.platform): number[] {
  const chain = [process.pid, process.ppid];
  if (platform !== 'linux') return chain;
  let pid = process.ppid;
  for (let depth = 0; depth < 64 && pid > 1; depth++) {
    const parent = parentPidFromProcStat(pid);
    if (parent === undefined || chain.includes(parent)) break;
    chain.push(parent);
    pid = parent;
  }
  return chain;
}

/** The account this worker runs as (a service account when installed as a service). */
export function workerAccount(env: NodeJS.ProcessEnv = process.env): AccountName {
  let name = env.USERNAME ?? env.USER ?? '';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (containers): keep the environment's idea.
  }
  return { name, ...(env.USERDOMAIN ? { domain: env.USERDOMAIN } : {}) };
}

function refuse(message: string, details: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({
    type: HOST_FAILURE_TYPES.protectedTarget,
    message,
    nonRetryable: true,
    details: [details],
  });
}

function invalid(message: string, details: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({
    type: HOST_FAILURE_TYPES.invalidRequest,
    message,
    nonRetryable: true,
    details: [details],
  });
}

function describe(target: ProcessTarget): string {
  const what = target.imagePath ?? target.name;
  return what ? `PID ${target.pid} (${what})` : `PID ${target.pid}`;
}

/**
 * The image path in the one canonical spelling (`canonicalWindowsPath`, with this host's own
 * %SystemRoot% as the Windows directory), or undefined when the path's real location cannot be told
 * from its text (UNC or relative paths, 8.3 short names): a critical name at such a path is treated
 * as genuine and refused.
 */
export function canonicalImagePath(path: string, systemRoot = hostSystemRoot()): string | undefined {
  const canonical = canonicalWindowsPath(path, systemRoot);
  if (!/^[a-z]:\\/.test(canonical) || canonical.includes('~')) return undefined;
  return canonical;
}

function hostSystemRoot(): string {
  return process.env.SystemRoot ?? process.env.SYSTEMROOT ?? process.env.windir ?? 'C:\\Windows';
}

/**
 * A critical process by any name the request gives it: the `name` field and the image path's own
 * file name are both checked, each against the image's location — so `notepad.exe` at
 * `C:\Windows\System32\lsass.exe` is refused, and `lsass.exe` in a user folder is an impostor.
 */
function isSvchost(identity: { name: string; path: string | null }): boolean {
  const name = identity.name.toLowerCase();
  return name === 'svchost.exe' || name === 'svchost';
}

export function isProtectedByIdentity(target: ProcessTarget, systemRoot = hostSystemRoot()): boolean {
  const path = target.imagePath === undefined ? undefined : canonicalImagePath(target.imagePath, systemRoot);
  const name = target.name === undefined ? undefined : trimSegment(target.name.trim());
  // Shared hosts (explorer, wmiprvse, wsmprovhost, services) in their genuine place are refused too:
  // stopping one harms the whole host. svchost is left to the script, which sees its parent: one
  // hosting services (started by services.exe) is refused there, while a genuine-path svchost
  // started by Word or a dropper (a hollowed copy hosting nothing) may be stopped.
  const isProtected = (identity: { name: string; path: string | null }) =>
    isCriticalProcess(identity) || (isSharedHost(identity) && !isSvchost(identity));
  const byName = name !== undefined && isProtected({ name, path: path ?? null });
  const byPath =
    target.imagePath !== undefined &&
    isProtected({
      name: trimSegment(win32.basename(normalizeWindowsPath(target.imagePath))),
      path: path ?? null,
    });
  return byName || byPath;
}

/**
 * Throws a non-retryable failure for the first target that must not be acted on.
 * `selfPids`: the worker, its parent chain and the scripts it is running.
 */
export function assertProcessTargetsAllowed(
  targets: readonly ProcessTarget[],
  action: ProcessAction,
  selfPids: readonly number[],
): void {
  for (const target of targets) {
    if (target.imagePath !== undefined && normalizeWindowsPath(target.imagePath) === '') {
      throw invalid(`Empty image path for PID ${target.pid}`, { target });
    }
    if ((PROTECTED_PIDS as readonly number[]).includes(target.pid)) {
      throw refuse(`Refusing to act on ${describe(target)}: PID ${target.pid} belongs to the kernel`, {
        target,
        reason: 'protected-pid',
      });
    }
    if (isProtectedByIdentity(target)) {
      throw refuse(`Refusing to act on ${describe(target)}: a critical Windows process or shared system host`, {
        target,
        reason: 'protected-process',
      });
    }
    if (selfPids.includes(target.pid)) {
      throw refuse(`Refusing to act on ${describe(target)}: the host worker itself, its parent chain or its scripts`, {
        target,
        reason: 'worker-process',
      });
    }
    // A file on a share is never opened: as SYSTEM that authenticates the machine account to
    // whoever serves it. The process may still be stopped by PID; its file is only reported.
    if (action === 'stop-and-quarantine' && isRemoteWindowsPath(target.imagePath)) {
      throw refuse(
        `Refusing to quarantine ${describe(target)}: its image is on a remote or device path, which the host never opens`,
        { target, reason: 'remote-path' },
      );
    }
    // Quarantine moves the image file: a PowerShell host's image is the worker's own engine.
    const identity = { name: target.name ?? null, path: target.imagePath ?? null };
    const imageIdentity = { path: target.imagePath ?? null };
    if (action === 'stop-and-quarantine' && (isPowerShellHost(identity) || isPowerShellHost(imageIdentity))) {
      throw refuse(`Refusing to quarantine ${describe(target)}: the host worker runs its scripts with PowerShell`, {
        target,
        reason: 'powershell-by-path',
      });
    }
  }
}

/**
 * `CONTOSO\bob` or `bob@contoso` written into the name field: split it so every rule sees the
 * real account, the way the scripts split it (common/user-name.ts, Split-SpawnGuardUserName).
 */
export function splitAccount(user: AccountName): { name: string; domain: string | undefined } {
  const split = normalizeUser({ name: user.name, ...(user.domain === undefined ? {} : { domain: user.domain }) });
  return { name: split.name, domain: split.domain };
}

function sameAccount(a: AccountName, b: AccountName): boolean {
  const x = splitAccount(a);
  const y = splitAccount(b);
  if (x.name.toLowerCase() !== y.name.toLowerCase()) return false;
  // A request without a domain names every account of that name, the worker's included.
  return !x.domain || !y.domain || x.domain.toLowerCase() === y.domain.toLowerCase();
}

/**
 * Logoff requests: user names are exact names (wildcards could match everyone: invalid), service
 * accounts are never logged off, nor the account the worker itself runs as (its session would go
 * with it). Listing sessions is harmless and skips the protection rules.
 */
export function assertLogoffAllowed(users: readonly AccountName[], listOnly: boolean, worker?: AccountName): void {
  for (const user of users) {
    const account = splitAccount(user);
    const who = account.domain ? `${account.domain}\\${account.name}` : account.name;
    // TerminateSession.ps1 refuses the same characters in a name: an account name never has them.
    if (
      account.name === '' ||
      /[\\/@,"]/.test(account.name) ||
      /[*?[\]]/.test(`${account.name}${account.domain ?? ''}`)
    ) {
      throw invalid(`Invalid user name ${JSON.stringify(who)}: exact names only, no wildcards`, { user });
    }
    if (listOnly) continue;
    if (isServiceAccount(account)) {
      throw refuse(`Refusing to log off ${who}: a service account`, { user, reason: 'service-account' });
    }
    if (worker && worker.name && sameAccount(account, worker)) {
      throw refuse(`Refusing to log off ${who}: the account the host worker runs as`, {
        user,
        reason: 'worker-session',
      });
    }
  }
}

/**
 * A logoff is only ever done for a validated numeric session id (`logoff` without one logs off the
 * caller). A script that reports one without is broken: fail loudly rather than record it as done.
 */
export function assertSessionResultsSane(results: readonly SessionActionResult[], script: string): void {
  for (const result of results) {
    // 'already-done' (no session left) legitimately has no id; 'done' means a logoff happened.
    if (result.status === 'done' && (typeof result.sessionId !== 'number' || !Number.isInteger(result.sessionId))) {
      throw ApplicationFailure.create({
        type: HOST_FAILURE_TYPES.badScriptOutput,
        message: `${script} reported a logoff of ${result.user} without a numeric session id`,
        nonRetryable: true,
        details: [{ script, result }],
      });
    }
  }
}
