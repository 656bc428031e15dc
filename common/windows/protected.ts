/**
 * The TypeScript side's one list of what must never be terminated, quarantined or logged off
 * (DESIGN.md §5). The PowerShell scripts keep their own copy (powershell/SpawnGuard.Safety/ProtectedLists.ps1
 * mirrors this); a test checks the two agree. Workflow-safe.
 */
import { baseName, windowsRootedPath } from './paths';

const SYSTEM_ROOTS = ['c:\\windows\\system32\\', 'c:\\windows\\syswow64\\', 'c:\\windows\\winsxs\\'];

/** Critical OS processes: terminating one crashes or destabilizes the host. Matched by name AND system path. */
export const CRITICAL_PROCESS_NAMES = [
  'system',
  'registry',
  'memcompression',
  'memory compression',
  'smss.exe',
  'csrss.exe',
  'wininit.exe',
  'winlogon.exe',
  'lsass.exe',
  'lsaiso.exe',
  'services.exe',
  'logonui.exe',
] as const;

/** Shared hosts whose death harms the machine or its users without removing the threat (act on the child). */
export const SHARED_HOST_NAMES = [
  'services.exe',
  'svchost.exe',
  'explorer.exe',
  'wmiprvse.exe',
  'wsmprovhost.exe',
] as const;

/** PowerShell hosts: never stopped by path (the host worker runs its scripts with powershell.exe). */
export const POWERSHELL_NAMES = ['powershell.exe', 'powershell_ise.exe', 'pwsh.exe'] as const;

export const SERVICE_ACCOUNTS = [
  'system',
  'local service',
  'network service',
  'localsystem',
  'localservice',
  'networkservice',
];
const SERVICE_ACCOUNT_DOMAINS = ['nt authority', 'nt service', 'window manager', 'font driver host'];

/** PIDs 0 (Idle) and 4 (System) are never valid targets. */
export const PROTECTED_PIDS = [0, 4] as const;

export function isInSystemDirectory(path: string): boolean {
  const p = windowsRootedPath(path);
  return SYSTEM_ROOTS.some((root) => p.startsWith(root));
}

function withExe(name: string): string {
  const n = name.trim().toLowerCase();
  return n.includes('.') || n === 'system' || n === 'registry' || n.startsWith('mem') ? n : `${n}.exe`;
}

/**
 * A critical process: PID 0/4, or a critical name running from the system directory (or with no
 * path known — we cannot prove it is an impostor, so we refuse). A `lsass.exe` in a user folder is
 * NOT protected: it is an impostor and may be acted on.
 */
export function isCriticalProcess(process: { pid?: number; name?: string | null; path?: string | null }): boolean {
  if (process.pid !== undefined && (PROTECTED_PIDS as readonly number[]).includes(process.pid)) return true;
  const name = process.name ? withExe(process.name) : process.path ? baseName(process.path) : '';
  if (!(CRITICAL_PROCESS_NAMES as readonly string[]).includes(name)) return false;
  if (name === 'system' || name === 'registry' || name.startsWith('mem')) return true;
  return !process.path || isInSystemDirectory(process.path);
}

/** A shared system host (`svchost`, `explorer`, …) in its genuine location. */
export function isSharedHost(process: { name?: string | null; path?: string | null }): boolean {
  const name = process.name ? withExe(process.name) : process.path ? baseName(process.path) : '';
  if (!(SHARED_HOST_NAMES as readonly string[]).includes(name)) return false;
  if (!process.path) return true;
  const p = windowsRootedPath(process.path);
  return isInSystemDirectory(p) || p === 'c:\\windows\\explorer.exe';
}

export function isPowerShellHost(process: { name?: string | null; path?: string | null }): boolean {
  const name = process.name ? withExe(process.name) : process.path ? baseName(process.path) : '';
  return (POWERSHELL_NAMES as readonly string[]).includes(name);
}

export function isServiceAccount(user: { name: string; domain?: string | null }): boolean {
  // `NT AUTHORITY\SYSTEM` or `SYSTEM@NT AUTHORITY` written into the name field.
  const raw = user.name.trim().toLowerCase();
  const slash = raw.lastIndexOf('\\');
  const at = raw.indexOf('@');
  const name = slash >= 0 ? raw.slice(slash + 1) : at > 0 ? raw.slice(0, at) : raw;
  const embeddedDomain = slash >= 0 ? raw.slice(0, slash) : at > 0 ? raw.slice(at + 1) : '';
  const domain = (user.domain ?? embeddedDomain).trim().toLowerCase();
  if (SERVICE_ACCOUNTS.includes(name)) return true;
  if (SERVICE_ACCOUNT_DOMAINS.includes(domain)) return true;
  // Machine accounts (HOST$) and well-known service SIDs.
  return name.endsWith('$') || /^s-1-5-(18|19|20)$/i.test(name);
}

/** Microsoft signer subject names (OS binaries and Office alike). */
export function isMicrosoftSigner(signer: string | null | undefined): boolean {
  if (!signer) return false;
  // Every Microsoft signing identity: "Microsoft Windows", "Microsoft Corporation", "Microsoft 3rd
  // Party Application Component", … (as a simple name or a subject with O=Microsoft Corporation). Only
  // valid signatures reach this check, so the name is backed by a trusted chain.
  const s = signer.trim();
  return /^(cn=)?microsoft\b/i.test(s) || /(^|,\s*)o=microsoft corporation(,|$)/i.test(s);
}

export function isTrustedPublisher(signer: string | null | undefined, trustedPublishers: readonly string[]): boolean {
  if (!signer) return false;
  const s = signer.trim().toLowerCase();
  return isMicrosoftSigner(signer) || trustedPublishers.some((t) => t.trim().toLowerCase() === s);
}

/**
 * A Run-family key persistence removal may touch: Run, RunOnce, RunOnceEx and Policies\Explorer\Run
 * of HKLM (and its 32-bit view) or of a user's hive (HKU\<SID>, local and Azure AD users alike), as FetchPersistenceEntries
 * names them. Any other key is never written to on an analyst's approval.
 */
export function isRunKeyLocation(location: string): boolean {
  return /^(HKLM\\SOFTWARE\\(Wow6432Node\\)?|HKU\\S-1-(5|12)-[0-9-]+\\Software\\(Wow6432Node\\)?)Microsoft\\Windows\\CurrentVersion\\(Run|RunOnce|RunOnceEx|Policies\\Explorer\\Run)$/i.test(
    location.trim(),
  );
}
