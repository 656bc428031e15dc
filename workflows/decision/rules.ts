/**
 * The decision knowledge of DESIGN.md §6 as tables. Names are lower-case stems (no `.exe`); compare
 * them with `matchName` from ./names, never with `===` on raw alert text. Workflow-safe.
 */
import { EXPECTED_PARENTS, isInSystemDirectory, normalizeWindowsPath, windowsRootedPath } from '../../common/windows';

/** Office applications whose documents launch attacks (Sigma "Suspicious Microsoft Office Child Process"). */
export const OFFICE_APPLICATIONS = [
  'winword',
  'excel',
  'powerpnt',
  'outlook',
  'msaccess',
  'mspub',
  'onenote',
  'visio',
  'eqnedt32',
] as const;

/** Shells and LOLBins an Office application must not start (same Sigma rule, T1204.002). */
export const OFFICE_FORBIDDEN_CHILDREN = [
  'cmd',
  'powershell',
  'powershell_ise',
  'pwsh',
  'mshta',
  'wscript',
  'cscript',
  'rundll32',
  'regsvr32',
  'certutil',
  'certreq',
  'certoc',
  'bitsadmin',
  'schtasks',
  'wmic',
  'msbuild',
  'msiexec',
  'installutil',
  'regasm',
  'regsvcs',
  'msdt',
  'msxsl',
  'odbcconf',
  'forfiles',
  'hh',
  'cmstp',
  'curl',
  'scrcons',
  'scriptrunner',
  'pcalua',
  'ieexec',
  'mftrace',
  'verclsid',
  'bash',
  'sh',
  'wsl',
  'javaw',
  'workfolders',
  'svchost',
  'msidb',
  'microsoft.workflow.compiler',
] as const;

/**
 * System binaries that live only in `C:\Windows\System32\`, `SysWOW64\` or `WinSxS\`; one running
 * elsewhere is "System File Execution Location Anomaly" (T1036). `explorer` also lives in `C:\Windows\`.
 */
export const SYSTEM_BINARIES = [
  'svchost',
  'lsass',
  'lsaiso',
  'csrss',
  'services',
  'smss',
  'winlogon',
  'wininit',
  'logonui',
  'userinit',
  'autochk',
  'dwm',
  'fontdrvhost',
  'consent',
  'runtimebroker',
  'tiworker',
  'searchindexer',
  'searchprotocolhost',
  'dllhost',
  'spoolsv',
  'taskhost',
  'taskhostw',
  'wmiprvse',
  'wsmprovhost',
  'winrshost',
  'conhost',
  'sihost',
  'ctfmon',
  'taskmgr',
  'audiodg',
  'smartscreen',
  'lsm',
  'explorer',
  'rundll32',
  'regsvr32',
  'powershell',
  'powershell_ise',
  'cmd',
  'cscript',
  'wscript',
  'mshta',
  'certutil',
  'bitsadmin',
  'schtasks',
  'wmic',
  'msiexec',
  'cmstp',
] as const;

/** Every name the look-alike check protects: a name imitating one of these is a masquerade. */
export const IMITATED_NAMES: readonly string[] = [
  ...new Set<string>([
    ...SYSTEM_BINARIES,
    ...Object.keys(EXPECTED_PARENTS),
    ...OFFICE_APPLICATIONS,
    ...OFFICE_FORBIDDEN_CHILDREN,
  ]),
];

/**
 * Dual-use tools attackers rename to pass unnoticed (procdump as `dbgh64.exe`, PsExec's service as
 * `WinDefSvc.exe`, rclone as `svchelper.exe`): the original file name in the version resource
 * gives them away (T1036.003).
 */
export const DUAL_USE_TOOLS = [
  'procdump',
  'procdump64',
  'psexec',
  'psexec64',
  'psexesvc',
  'paexec',
  'rclone',
  'adfind',
  'nc',
  'ncat',
  'plink',
  'mimikatz',
  'winrar',
  'rar',
  '7za',
  'anydesk',
  'ngrok',
] as const;

/** Shells and LOLBins: Microsoft-signed tools whose signature says nothing about how they are used. */
export const LIVING_OFF_THE_LAND: readonly string[] = OFFICE_FORBIDDEN_CHILDREN;

/**
 * In `C:\Windows\System32\`, `SysWOW64\` or `WinSxS\` (any drive; `\SystemRoot\`, `%windir%` and
 * device paths as kernel events write them): the same reading of a path as the protected list's.
 */
export const isSystemLocation = isInSystemDirectory;

/** Whether a system binary is where it belongs; null when the stem is not a system binary. */
export function isExpectedLocation(stem: string, path: string): boolean | null {
  if (!(SYSTEM_BINARIES as readonly string[]).includes(stem)) return null;
  if (isSystemLocation(path)) return true;
  return stem === 'explorer' && windowsRootedPath(path) === 'c:\\windows\\explorer.exe';
}

/** Folders any user can write to: where droppers land. Matched as path segments. */
export const USER_WRITABLE_SEGMENTS = [
  '\\users\\',
  '\\appdata\\',
  '\\temp\\',
  '\\tmp\\',
  '\\programdata\\',
  '\\downloads\\',
  '\\$recycle.bin\\',
  '\\perflogs\\',
  '\\windows\\tasks\\',
  '\\windows\\tracing\\',
] as const;

export function userWritableSegment(path: string): string | null {
  const p = normalizeWindowsPath(path);
  return USER_WRITABLE_SEGMENTS.find((segment) => p.includes(segment)) ?? null;
}

/** Command-line indicators of a download cradle or hidden/encoded script (T1059.001, T1027, T1105). */
export const SUSPICIOUS_COMMAND_LINE: readonly { indicator: string; pattern: RegExp }[] = [
  { indicator: 'encoded PowerShell command', pattern: /(?:^|\s)[-/]e(?:c|n[a-z]*)?\s+["']?[A-Za-z0-9+/=]{16,}/i },
  { indicator: 'base64 decoding', pattern: /frombase64string/i },
  { indicator: 'hidden window', pattern: /(?:^|\s)[-/]w[a-z]*\s+(?:hidden|1)\b/i },
  {
    indicator: 'download cradle',
    pattern:
      /downloadstring|downloadfile|downloaddata|net\.webclient|invoke-webrequest|\biwr\b|start-bitstransfer|\/transfer\b/i,
  },
  { indicator: 'in-memory execution', pattern: /\biex\b|invoke-expression/i },
  {
    indicator: 'certutil download or decode',
    pattern: /certutil(?:\.exe)?["']?\s.*(?:-urlcache|-decode|-f\s+https?:)/i,
  },
  {
    indicator: 'script or DLL fetched from a URL',
    pattern: /(?:mshta|regsvr32|rundll32)(?:\.exe)?["']?\s.*(?:https?:|javascript:|vbscript:)/i,
  },
  { indicator: 'execution policy bypass', pattern: /(?:^|\s)[-/](?:ex[a-z]*|ep)\s+bypass\b/i },
];

/**
 * The indicators in a command line; with `decode`, also those in the script an encoded PowerShell
 * command hides (`-enc <base64>`), as an analyst decodes it, marked as such.
 */
export function commandLineIndicators(commandLine: string | undefined, { decode = false } = {}): string[] {
  if (!commandLine) return [];
  const found = SUSPICIOUS_COMMAND_LINE.filter(({ pattern }) => pattern.test(commandLine)).map(
    ({ indicator }) => indicator,
  );
  const decoded = decode ? decodedPowerShell(commandLine) : null;
  if (decoded) {
    for (const { indicator, pattern } of SUSPICIOUS_COMMAND_LINE) {
      if (!found.includes(indicator) && pattern.test(decoded)) found.push(`${indicator} (in the decoded command)`);
    }
  }
  return found;
}

const ENCODED_COMMAND = /(?:^|\s)[-/]e(?:c|n[a-z]*)?\s+["']?([A-Za-z0-9+/=]{16,})/i;
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The script of `powershell -EncodedCommand <base64>` (UTF-16LE, as PowerShell takes it), or null.
 * Decoded by hand: workflow code has no Buffer. Only read, never run.
 */
export function decodedPowerShell(commandLine: string): string | null {
  const encoded = ENCODED_COMMAND.exec(commandLine)?.[1]?.replace(/=+$/, '');
  if (!encoded) return null;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of encoded) {
    buffer = (buffer << 6) | BASE64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  let text = '';
  for (let i = 0; i + 1 < bytes.length; i += 2)
    text += String.fromCharCode((bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8));
  return text;
}

/** Downloads and runs in memory in one command (decoded too): `IEX (New-Object Net.WebClient).DownloadString(…)`. */
export function downloadsAndExecutes(commandLine: string | undefined): boolean {
  if (!commandLine) return false;
  const texts = [commandLine, decodedPowerShell(commandLine) ?? ''];
  const downloads =
    /downloadstring|downloaddata|downloadfile|net\.webclient|invoke-webrequest|\biwr\b|invoke-restmethod|\birm\b|start-bitstransfer/i;
  const executes = /\biex\b|invoke-expression|\|\s*iex|\.invoke\(|\[scriptblock\]::create|start-process/i;
  return texts.some((text) => downloads.test(text) && executes.test(text));
}

/** Score bands: at or above `malicious` the verdict is malicious, at or above `suspicious` suspicious. */
export const SCORE_BANDS = { malicious: 70, suspicious: 30 } as const;

/**
 * Server applications whose children should never be shells or recon tools: a web shell or
 * `xp_cmdshell` (Sigma "Suspicious Shells Spawn by Web Servers", T1505.003).
 */
export const SERVER_APPLICATIONS = [
  'w3wp',
  'httpd',
  'nginx',
  'php-cgi',
  'tomcat',
  'tomcat7',
  'tomcat8',
  'tomcat9',
  'ws_tomcatservice',
  'umworkerprocess',
  'sqlservr',
] as const;

/** What a web server or database spawning is a web shell at work: shells, LOLBins and recon commands. */
export const SERVER_FORBIDDEN_CHILDREN: readonly string[] = [
  ...OFFICE_FORBIDDEN_CHILDREN.filter((name) => name !== 'svchost'),
  'whoami',
  'net',
  'net1',
  'systeminfo',
  'ipconfig',
  'nltest',
  'tasklist',
  'quser',
  'query',
  'hostname',
  'netstat',
  'reg',
];

/** Interactive shells and script hosts: what an attacker runs commands with. */
export const SHELLS = ['cmd', 'powershell', 'powershell_ise', 'pwsh', 'wscript', 'cscript', 'mshta'] as const;

/** Parents that legitimately start shells as a service account (the service manager and the task scheduler). */
export const SERVICE_SHELL_LAUNCHERS = ['services', 'svchost'] as const;
