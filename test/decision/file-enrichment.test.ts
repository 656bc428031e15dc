/**
 * `buildFileEnrichment`: one file's facts from the alert, the host and reputation, rated with
 * evidence. Facts the alert already carries are used as they are.
 */
import type { FileFacts } from '../../common/host-contract';
import { buildFileEnrichment } from '../../workflows/decision';
import {
  denylisted,
  hashOf,
  MS_CORPORATION,
  MS_WINDOWS,
  policyOf,
  POWERSHELL,
  proc,
  reportFor,
  SYS32,
  vt,
  vtClean,
  vtNotFound,
  WORD,
} from './builders';

const policy = policyOf();

describe('buildFileEnrichment', () => {
  it('uses the hash, signature and original file name the alert carries (ECS / Sysmon), with no host facts', () => {
    const process = proc(6120, POWERSHELL, MS_WINDOWS, { originalFileName: 'PowerShell.EXE' });
    const file = buildFileEnrichment({
      role: 'child',
      process,
      hostFacts: null,
      hostFactsError: null,
      reputation: null,
      policy,
    });
    expect(file).toMatchObject({
      role: 'child',
      path: POWERSHELL,
      sha256: hashOf(6120),
      factsFrom: ['alert'],
      signature: { status: 'valid', signer: MS_WINDOWS },
      isMicrosoftSigned: true,
      isOsBinary: true,
      expectedLocation: true,
      originalFileName: 'PowerShell.EXE',
      reputation: null,
    });
  });

  it('keeps the alert’s hash over the host’s and takes the signature the host verified', () => {
    const process = proc(4312, WORD);
    const hostFacts: FileFacts = {
      path: WORD,
      exists: true,
      sha256: 'f'.repeat(64),
      signature: { status: 'valid', signer: MS_CORPORATION, isMicrosoft: true, isOsBinary: false },
      versionInfo: { originalFilename: 'WinWord.exe', companyName: 'Microsoft Corporation' },
    };
    const file = buildFileEnrichment({
      role: 'parent',
      process,
      hostFacts,
      hostFactsError: null,
      reputation: null,
      policy,
    });
    expect(file).toMatchObject({
      sha256: hashOf(4312),
      factsFrom: ['alert', 'host'],
      signature: { status: 'valid', signer: MS_CORPORATION },
      isMicrosoftSigned: true,
      isOsBinary: false,
      originalFileName: 'WinWord.exe',
    });
  });

  it('takes the hash and signature from the host when the alert has none (Security 4688)', () => {
    const process = { pid: 7720, name: 'svchost.exe', executable: 'C:\\Users\\Public\\svchost.exe' };
    const hostFacts: FileFacts = {
      path: 'C:\\Users\\Public\\svchost.exe',
      exists: true,
      sha256: 'AB'.repeat(32),
      signature: { status: 'unsigned', signer: null, isMicrosoft: false, isOsBinary: false },
      expectedLocation: false,
    };
    const file = buildFileEnrichment({
      role: 'child',
      process,
      hostFacts,
      hostFactsError: null,
      reputation: reportFor('ab'.repeat(32), [vtNotFound]),
      policy,
    });
    expect(file).toMatchObject({
      sha256: 'ab'.repeat(32),
      factsFrom: ['alert', 'host', 'reputation'],
      signature: { status: 'unsigned' },
      isMicrosoftSigned: false,
      expectedLocation: false,
      risk: 'high',
    });
    expect(file.evidence.join('\n')).toMatch(/outside C:\\Windows\\System32/);
    expect(file.evidence.join('\n')).toMatch(/unsigned and runs from a user-writable folder/);
  });

  it('rates a file with no reputation at all medium, never low, and says why', () => {
    const process = proc(2200, `${SYS32}\\notepad.exe`, MS_WINDOWS);
    const file = buildFileEnrichment({
      role: 'child',
      process,
      hostFacts: null,
      hostFactsError: null,
      reputation: null,
      policy,
    });
    expect(file.risk).toBe('medium');
    expect(file.evidence).toContain('no reputation for notepad.exe (PID 2200): the reputation lookup did not answer');
  });

  it('names the sources that are off when none was consulted', () => {
    const process = proc(2200, `${SYS32}\\notepad.exe`, MS_WINDOWS);
    const file = buildFileEnrichment({
      role: 'child',
      process,
      hostFacts: null,
      hostFactsError: null,
      reputation: reportFor(hashOf(2200), 'off'),
      policy,
    });
    expect(file.factsFrom).toEqual(['alert']);
    expect(file.evidence.join('\n')).toMatch(/no source is configured; off: virustotal \(VT_API_KEY is not set\)/);
  });

  it('rates a signed System32 binary known clean low', () => {
    const process = proc(2200, `${SYS32}\\notepad.exe`, MS_WINDOWS);
    const file = buildFileEnrichment({
      role: 'child',
      process,
      hostFacts: null,
      hostFactsError: null,
      reputation: reportFor(hashOf(2200), [vtClean]),
      policy,
    });
    expect(file.risk).toBe('low');
    expect(file.evidence).toContain(
      'signed by Microsoft Windows (valid, as the alert claims; not verified on the host)',
    );
  });

  it('rates a file at the malicious engine threshold or on the deny list high', () => {
    const process = proc(2300, 'C:\\Program Files\\Vendor\\setup.exe', 'Vendor Inc');
    const at = (reputation: Parameters<typeof reportFor>[1]) =>
      buildFileEnrichment({
        role: 'child',
        process,
        hostFacts: null,
        hostFactsError: null,
        reputation: reportFor(hashOf(2300), reputation),
        policy,
      });
    expect(at([vt(5, 0, 70, 'trojan.agent')]).risk).toBe('high');
    expect(at([vt(5, 0, 70, 'trojan.agent')]).evidence[0]).toBe(
      'VirusTotal: 5 malicious, 0 suspicious of 70 engines for setup.exe (PID 2300) (trojan.agent); malicious at 5',
    );
    expect(at([vt(2, 1, 70)]).risk).toBe('medium');
    expect(at([denylisted]).risk).toBe('high');
  });

  it('records a host failure and a file that is gone', () => {
    const process = proc(2600, 'C:\\Users\\bob\\AppData\\Roaming\\x\\x.exe');
    const gone = buildFileEnrichment({
      role: 'child',
      process,
      hostFacts: { path: process.executable as string, exists: false },
      hostFactsError: null,
      reputation: null,
      policy,
    });
    expect(gone.factsFrom).toContain('host');
    expect(gone.evidence).toContain('C:\\Users\\bob\\AppData\\Roaming\\x\\x.exe no longer exists on the host');

    const unreachable = buildFileEnrichment({
      role: 'child',
      process,
      hostFacts: null,
      hostFactsError: 'host web01 unreachable (no worker picked up the task)',
      reputation: null,
      policy,
    });
    expect(unreachable.hostFactsError).toBe('host web01 unreachable (no worker picked up the task)');
    expect(unreachable.factsFrom).not.toContain('host');
    expect(unreachable.evidence).toContain(
      'host facts unavailable: host web01 unreachable (no worker picked up the task)',
    );
  });
});
