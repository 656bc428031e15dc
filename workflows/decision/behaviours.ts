/**
 * Behavioural indicators (DESIGN.md §6): what a pair does that is an attack whatever its files'
 * reputation says, from the public detection content for this alert type (Elastic prebuilt rules,
 * Sigma process-creation rules). The indicators' codes, weights, ATT&CK techniques and sources are
 * the BEHAVIOURS table in ./reasons; `behaviourFindings` says which ones a pair shows. Workflow-safe.
 */
import type { AlertProcess, CanonicalAlert } from '../../common/alert';
import { SYSTEM_PROCESS_ID } from '../../common/process-identity';
import { EXPECTED_PARENTS, normalizeWindowsPath } from '../../common/windows';
import { processLabel } from './file-facts';
import { matchName, nameStem } from '../../common/windows';
import { BEHAVIOURS, finding, type BehaviourCode, type Finding } from './reasons';
import type { FileEnrichment } from '../../common/incident-status';
import {
  commandLineIndicators,
  decodedPowerShell,
  downloadsAndExecutes,
  isSystemLocation,
  OFFICE_APPLICATIONS,
  OFFICE_FORBIDDEN_CHILDREN,
  SERVER_APPLICATIONS,
  SHELLS,
  userWritableSegment,
} from './rules';

/** Processes whose death or misuse is the machine's: csrss, smss, wininit, lsass, services, winlogon. */
const CRITICAL_PARENTS = ['csrss', 'smss', 'wininit', 'lsass', 'winlogon'] as const;

/** Shells, script hosts and the two DLL runners: what an attacker runs commands with. */
const COMMAND_RUNNERS: readonly string[] = [...SHELLS, 'rundll32', 'regsvr32'];

/**
 * What each system process is known to start: the reverse of EXPECTED_PARENTS, plus the children
 * Windows documents for it (error reporting, the accessibility tools at the logon screen, logon
 * notifications).
 */
const KNOWN_CHILDREN: Readonly<Record<(typeof CRITICAL_PARENTS)[number], readonly string[]>> = {
  smss: [...childrenOf('smss'), 'werfault'],
  wininit: [...childrenOf('wininit'), 'werfault'],
  winlogon: [
    ...childrenOf('winlogon'),
    'werfault',
    'mpnotify',
    'wlrmdr',
    'atbroker',
    'utilman',
    'sethc',
    'osk',
    'magnify',
    'narrator',
    'displayswitch',
  ],
  lsass: ['werfault', 'lsaiso'],
  csrss: ['werfault', 'conhost'],
};

function childrenOf(parent: string): string[] {
  return Object.entries(EXPECTED_PARENTS)
    .filter(([, parents]) => parents.includes(parent))
    .map(([child]) => child);
}

/** What the System process (PID 4) starts: the session manager and its own memory processes. */
const SYSTEM_CHILDREN = ['smss', 'registry', 'memcompression', 'memory compression'];

const MAIL_AND_BROWSERS = [
  'outlook',
  'thunderbird',
  'chrome',
  'msedge',
  'firefox',
  'iexplore',
  'brave',
  'opera',
  'browser_broker',
] as const;

const SCRIPT_HOSTS = ['mshta', 'wscript', 'cscript'] as const;

/** Where mail clients and browsers keep what they open: an attachment or a download runs from here. */
const MAIL_AND_BROWSER_CACHES = [
  '\\content.outlook\\',
  '\\outlook temp\\',
  '\\inetcache\\',
  '\\temporary internet files\\',
  '\\downloads\\',
  '\\mozilla\\firefox\\profiles\\',
  '\\thunderbird\\profiles\\',
] as const;

/** Command-line indicators that deliver code (not a hidden window or a policy bypass, which admins use too). */
const PAYLOAD_INDICATORS = [
  'encoded PowerShell command',
  'base64 decoding',
  'download cradle',
  'in-memory execution',
  'certutil download or decode',
  'script or DLL fetched from a URL',
];

const REMOTE_MANAGEMENT_HOSTS = ['wmiprvse', 'wsmprovhost', 'winrshost'] as const;

/** `cmd /c echo 559891bb017 > \\.\pipe\5e120a` (Meterpreter and Cobalt Strike getsystem). */
const PIPE_ECHO = /\becho\b.*>\s*\\\\\.\\pipe\\/i;

/**
 * A URL, a WebDAV or bare-IP share, or a decode/transfer switch: how an Office-started LOLBin fetches
 * or unpacks its payload (a script on the company's own file server is not this).
 */
const NETWORK_OR_DECODE =
  /https?:\/\/|\\\\\d{1,3}(?:\.\d{1,3}){3}\\|@ssl\\|davwwwroot|(?:^|\s)[-/](?:decode|decodehex|urlcache|transfer|addfile)\b|frombase64string/i;

/** The command line holds nothing but the image itself (`rundll32.exe`, `"C:\…\rundll32.exe"`). */
function withoutArguments(process: AlertProcess): boolean {
  const commandLine = process.commandLine?.trim();
  if (!commandLine) return false;
  const closing = commandLine.startsWith('"') ? commandLine.indexOf('"', 1) : -1;
  const image = commandLine.startsWith('"')
    ? commandLine.slice(1, closing === -1 ? undefined : closing)
    : (commandLine.split(/\s+/)[0] ?? '');
  const rest = commandLine.startsWith('"')
    ? closing === -1
      ? ''
      : commandLine.slice(closing + 1)
    : commandLine.slice(image.length);
  return rest.trim() === '' && nameStem(image) === nameStem(process.name);
}

const URL = /https?:\/\//i;

/** Discovery and account commands a web shell's operator starts with (T1033, T1087, T1016, T1082). */
const DISCOVERY_TOOLS = [
  'whoami',
  'net',
  'net1',
  'nltest',
  'systeminfo',
  'ipconfig',
  'quser',
  'qwinsta',
  'tasklist',
  'hostname',
  'dsquery',
  'adfind',
] as const;
const DISCOVERY_COMMANDS =
  /\b(?:whoami|nltest|systeminfo|quser|qwinsta|dsquery|adfind)\b|\bnet1?(?:\.exe)?\s+(?:user|group|localgroup|accounts|view|share|session)\b|\bipconfig\s+\/all\b/i;

/** procdump -ma lsass, comsvcs.dll MiniDump, Mimikatz modules. */
const CREDENTIAL_DUMPING =
  /[-/]m[ap]\s+(?:\S*\\)?lsass(?:\.exe)?\b|comsvcs(?:\.dll)?["']?[,\s]+(?:#\+?0*24|minidump)|sekurlsa::|lsadump::|\bprocdump\S*\s.*\blsass\b/i;

/** Impacket wmiexec/smbexec: `cmd.exe /Q /c … 1> \\127.0.0.1\ADMIN$\__1698765432.12 2>&1`. */
const REMOTE_EXEC_OUTPUT = /\\\\(?:127\.0\.0\.1|localhost)\\(?:admin|c)\$\\__/i;

/** Signed Microsoft binaries that run code from a file they are given (T1218). */
const PROXY_LOLBINS = [
  'installutil',
  'regasm',
  'regsvcs',
  'msbuild',
  'odbcconf',
  'cmstp',
  'regsvr32',
  'rundll32',
  'mshta',
  'msiexec',
] as const;

/** Directly in C:\Windows (ADMIN$), not in a folder under it. */
function inWindowsRoot(path: string): boolean {
  return /^[a-z]:\\windows\\[^\\]+$/.test(normalizeWindowsPath(path));
}

/** The few binaries Windows itself keeps in C:\Windows. */
const WINDOWS_ROOT_BINARIES = [
  'explorer',
  'hh',
  'notepad',
  'regedit',
  'splwow64',
  'winhlp32',
  'bfsvc',
  'helppane',
  'write',
];
function isWindowsRootBinary(process: AlertProcess): boolean {
  return exact(process.name, WINDOWS_ROOT_BINARIES);
}

const clip = (text: string) => text.trim().slice(0, 160);

const exact = (name: string, known: readonly string[]) => matchName(name, known)?.exact === true;

/** The genuine system process of that name: its exact name, and in System32 when its path is known. */
function genuine(process: AlertProcess, known: readonly string[]): boolean {
  return exact(process.name, known) && (!process.executable || isSystemLocation(process.executable));
}

/** What the host knows of each file that the alert may not say (its original name, its signature). */
export type BehaviourFiles = Partial<
  Record<'parent' | 'child', Pick<FileEnrichment, 'originalFileName' | 'signature'>>
>;

export function behaviourFindings(alert: CanonicalAlert, files: BehaviourFiles = {}): Finding[] {
  const { parent, child } = alert;
  const parentLabel = processLabel(parent);
  const childLabel = processLabel(child);
  const commandLine = child.commandLine ?? '';
  const found: Finding[] = [];
  const add = (code: BehaviourCode, evidence: string) => {
    const { technique, source } = BEHAVIOURS[code];
    found.push(finding(code, ['parent', 'child'], `${evidence} (${technique}; ${source})`));
  };

  // A shell under another name (sethc.exe replaced by cmd.exe) is a shell: its original name says so.
  const childOriginal = child.originalFileName ?? files.child?.originalFileName ?? null;
  const childRunsCommands =
    matchName(child.name, COMMAND_RUNNERS) !== null ||
    (childOriginal !== null && exact(childOriginal, COMMAND_RUNNERS));
  if (genuine(parent, CRITICAL_PARENTS)) {
    const stem = nameStem(parent.name) as (typeof CRITICAL_PARENTS)[number];
    if (childRunsCommands) {
      add(
        'critical-process-spawned-shell',
        `${parentLabel} started ${childLabel}: a critical system process never starts a shell or script host; one that does runs injected code or an accessibility backdoor`,
      );
    } else if (!exact(child.name, KNOWN_CHILDREN[stem])) {
      add(
        'unexpected-child-of-system-process',
        `${parentLabel} started ${childLabel}; ${stem}.exe only starts ${KNOWN_CHILDREN[stem].map((c) => `${c}.exe`).join(', ')}`,
      );
    }
  }

  if (genuine(parent, ['services'])) {
    if (exact(child.name, ['cmd']) && PIPE_ECHO.test(commandLine)) {
      add(
        'named-pipe-impersonation',
        `${parentLabel} started ${childLabel} writing to a named pipe (${clip(commandLine)}): a service created to connect to an attacker's pipe, whose token is then impersonated (getsystem)`,
      );
    }
    if (childRunsCommands) {
      add(
        'service-manager-spawned-shell',
        `${parentLabel} started ${childLabel}: a service whose binary is a shell command, as remote service execution (PsExec, smbexec) creates`,
      );
    }
  }

  if (parent.pid === SYSTEM_PROCESS_ID && !exact(child.name, SYSTEM_CHILDREN)) {
    add(
      'system-spawned-unexpected-child',
      `the System process (PID 4) started ${childLabel}; System only starts smss.exe and its memory processes: code running in the kernel started it`,
    );
  }

  if (exact(child.name, ['rundll32', 'regsvr32']) && withoutArguments(child)) {
    const browserParent = /\\appdata\\local\\|\\microsoft\\edge\\/.test(normalizeWindowsPath(parent.executable ?? ''));
    if (!browserParent) {
      add(
        'lolbin-without-arguments',
        `${childLabel} runs with no arguments (${commandLine.trim()}), started by ${parentLabel}: a sacrificial process for injected code (Cobalt Strike spawn-to), never a DLL call`,
      );
    }
  }

  if (exact(child.name, ['regsvr32']) && /[-/]i:\s*["']?(?:https?:|\\\\)/i.test(commandLine)) {
    add(
      'scriptlet-from-url',
      `${childLabel} registers a scriptlet fetched from the network (${clip(commandLine)}): Squiblydoo`,
    );
  } else if (exact(child.name, ['regsvr32']) && /scrobj\.dll/i.test(commandLine) && /[-/]i:/i.test(commandLine)) {
    add(
      'scriptlet-from-url',
      `${childLabel} runs a COM scriptlet through scrobj.dll (${clip(commandLine)}): Squiblydoo`,
    );
  }

  if (exact(parent.name, MAIL_AND_BROWSERS) && exact(child.name, SCRIPT_HOSTS)) {
    const cache = MAIL_AND_BROWSER_CACHES.find((segment) => normalizeWindowsPath(commandLine).includes(segment));
    if (cache) {
      add(
        'script-in-mail-or-browser-cache',
        `${parentLabel} started ${childLabel} on a file in its cache (${cache.replaceAll('\\', '')}): a script attachment or download opened by the user`,
      );
    } else {
      add(
        'script-host-from-mail-or-browser',
        `${parentLabel} started ${childLabel}: a mail client or browser starting a script host`,
      );
    }
  }

  if (exact(parent.name, REMOTE_MANAGEMENT_HOSTS) && childRunsCommands) {
    const indicators = commandLineIndicators(child.commandLine, { decode: true }).filter((indicator) =>
      PAYLOAD_INDICATORS.some((payload) => indicator.startsWith(payload)),
    );
    if (indicators.length > 0) {
      add(
        'remote-management-shell-with-payload',
        `${parentLabel} started ${childLabel} with ${indicators.join(', ')}: a remote WMI or WinRM command delivering a payload`,
      );
    } else {
      add(
        'remote-management-shell',
        `${parentLabel} started ${childLabel}: a shell started through WMI or WinRM, as administrators and lateral movement both do`,
      );
    }
  }

  if (
    exact(parent.name, OFFICE_APPLICATIONS) &&
    matchName(child.name, OFFICE_FORBIDDEN_CHILDREN) !== null &&
    (NETWORK_OR_DECODE.test(commandLine) || userWritableSegment(commandLine) !== null)
  ) {
    add(
      'office-lolbin-payload',
      `${parentLabel} started ${childLabel} with a download, a decode or a file it dropped (${clip(commandLine)}): a document fetching or running its payload`,
    );
  }

  if (downloadsAndExecutes(commandLine)) {
    add(
      'download-and-execute',
      `${childLabel} downloads code and runs it (${clip(decodedPowerShell(commandLine) ?? commandLine)})`,
    );
  }

  if (
    (exact(child.name, ['certutil']) && /[-/](?:urlcache|verifyctl)\b/i.test(commandLine) && URL.test(commandLine)) ||
    (exact(child.name, ['bitsadmin']) && /[-/](?:transfer|addfile)\b/i.test(commandLine) && URL.test(commandLine))
  ) {
    add('lolbin-download', `${childLabel} downloads a file from the network (${clip(commandLine)})`);
  }

  if (
    exact(parent.name, SERVER_APPLICATIONS) &&
    (exact(child.name, DISCOVERY_TOOLS) || DISCOVERY_COMMANDS.test(commandLine))
  ) {
    add(
      'web-shell-discovery',
      `${parentLabel} started ${childLabel} running discovery or account commands (${clip(commandLine || child.name)}): an attacker's first commands through a web shell or xp_cmdshell`,
    );
  }

  if (CREDENTIAL_DUMPING.test(commandLine)) {
    add('credential-dumping', `${childLabel} dumps credentials from LSASS memory (${clip(commandLine)})`);
  }

  if (REMOTE_EXEC_OUTPUT.test(commandLine)) {
    add(
      'remote-exec-output-to-admin-share',
      `${childLabel} writes its output to the local admin share (${clip(commandLine)}): Impacket wmiexec/smbexec running commands remotely`,
    );
  }

  if (
    genuine(parent, ['services']) &&
    child.executable &&
    inWindowsRoot(child.executable) &&
    !isWindowsRootBinary(child)
  ) {
    const signature = files.child?.signature ?? child.signature ?? null;
    const unsigned = signature?.status === 'unsigned' || signature?.status === 'invalid';
    add(
      unsigned ? 'unsigned-service-binary-in-windows-root' : 'service-binary-in-windows-root',
      `${parentLabel} started ${childLabel} from the Windows folder itself (${child.executable})${unsigned ? ', unsigned' : ''}: a service binary copied through ADMIN$ for remote execution`,
    );
  }

  if (
    exact(child.name, PROXY_LOLBINS) &&
    userWritableSegment(commandLine) !== null &&
    !exact(parent.name, OFFICE_APPLICATIONS)
  ) {
    add(
      'lolbin-proxy-user-file',
      `${childLabel} loads a file from a user-writable folder (${clip(commandLine)}): a signed Microsoft binary running someone's code`,
    );
  }

  return found;
}
