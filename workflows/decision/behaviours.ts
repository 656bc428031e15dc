/**
 * Behavioural indicators (DESIGN.md §6): what a pair does that is an attack whatever its files'
 * reputation says, from the public detection content for this alert type (Elastic prebuilt rules,
 * Sigma process-creation rules). The indicators' codes, weights, ATT&CK techniques and sources are
 * the BEHAVIOURS table in ./reasons; `behaviourFindings` says which ones a pair shows. Workflow-safe.
 */
import { SYSTEM_PROCESS_ID, type AlertProcess, type CanonicalAlert } from '../../common/alert';
import { normalizeWindowsPath } from '../../common/protected';
import { processLabel } from './file-facts';
import { matchName, nameStem } from './names';
import { BEHAVIOURS, finding, type BehaviourCode, type Finding } from './reasons';
import {
  commandLineIndicators,
  EXPECTED_PARENTS,
  isSystemLocation,
  OFFICE_APPLICATIONS,
  OFFICE_FORBIDDEN_CHILDREN,
  SHELLS,
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

const REMOTE_MANAGEMENT_HOSTS = ['wmiprvse', 'wsmprovhost', 'winrshost'] as const;

/** `cmd /c echo 559891bb017 > \\.\pipe\5e120a` (Meterpreter and Cobalt Strike getsystem). */
const PIPE_ECHO = /\becho\b.*>\s*\\\\\.\\pipe\\/i;

/** A URL, a UNC path, or a decode/transfer switch: how an Office-started LOLBin fetches or unpacks its payload. */
const NETWORK_OR_DECODE =
  /https?:\/\/|\\\\[a-z0-9._-]+\\|(?:^|\s)[-/](?:decode|decodehex|urlcache|transfer|addfile)\b|frombase64string/i;

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

const exact = (name: string, known: readonly string[]) => matchName(name, known)?.exact === true;

/** The genuine system process of that name: its exact name, and in System32 when its path is known. */
function genuine(process: AlertProcess, known: readonly string[]): boolean {
  return exact(process.name, known) && (!process.executable || isSystemLocation(process.executable));
}

export function behaviourFindings(alert: CanonicalAlert): Finding[] {
  const { parent, child } = alert;
  const parentLabel = processLabel(parent);
  const childLabel = processLabel(child);
  const commandLine = child.commandLine ?? '';
  const found: Finding[] = [];
  const add = (code: BehaviourCode, evidence: string) => {
    const { technique, source } = BEHAVIOURS[code];
    found.push(finding(code, ['parent', 'child'], `${evidence} (${technique}; ${source})`));
  };

  const childRunsCommands = matchName(child.name, COMMAND_RUNNERS) !== null;
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
        `${parentLabel} started ${childLabel} writing to a named pipe (${commandLine.trim().slice(0, 160)}): a service created to connect to an attacker's pipe, whose token is then impersonated (getsystem)`,
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
      `${childLabel} registers a scriptlet fetched from the network (${commandLine.trim().slice(0, 160)}): Squiblydoo`,
    );
  } else if (exact(child.name, ['regsvr32']) && /scrobj\.dll/i.test(commandLine) && /[-/]i:/i.test(commandLine)) {
    add(
      'scriptlet-from-url',
      `${childLabel} runs a COM scriptlet through scrobj.dll (${commandLine.trim().slice(0, 160)}): Squiblydoo`,
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
    const indicators = commandLineIndicators(child.commandLine);
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
    NETWORK_OR_DECODE.test(commandLine)
  ) {
    add(
      'office-lolbin-network-or-decode',
      `${parentLabel} started ${childLabel} with network or decode arguments (${commandLine.trim().slice(0, 160)}): a document fetching or unpacking its payload`,
    );
  }

  return found;
}
