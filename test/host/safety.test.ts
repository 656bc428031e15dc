/**
 * The TypeScript safety rules in front of the scripts: an unsafe request is refused with a typed,
 * non-retryable failure before any PowerShell process is spawned (the stand-in records every run,
 * so "no record" proves "no spawn"); hostile strings reach the script only as data.
 */
import { ApplicationFailure } from '@temporalio/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHostActivities } from '../../activities/host/activities';
import { loadConfig } from '../../common/config';
import { canonicalImagePath, isProtectedByIdentity, workerProcessChain } from '../../activities/host/safety';
import {
  HOST_FAILURE_TYPES,
  type HostActivities,
  type ProcessTarget,
  type TerminateTarget,
} from '../../common/host-contract';
import { createFakeHost, type FakeHost } from './standin';

let host: FakeHost;
let activities: HostActivities;
beforeEach(async () => {
  host = await createFakeHost('ok');
  activities = createHostActivities({
    scriptsDirectory: host.scriptsDirectory,
    manifest: host.manifest,
    powershellPath: host.powershellPath,
    workerUser: { name: 'svc-spawnguard', domain: 'CONTOSO' },
  });
});
afterEach(() => host.remove());

const EVIL = 'C:\\Users\\Public\\evil.exe';

async function refusal(run: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await run.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const stop = (target: TerminateTarget) => activities.stopProcess({ incidentId: 'incident-1', targets: [target] });
const quarantine = (target: TerminateTarget) =>
  activities.stopAndQuarantineProcess({ incidentId: 'incident-1', targets: [target] });

describe('process targets refused before any process is spawned', () => {
  it.each<[string, TerminateTarget]>([
    ['lsass.exe by its System32 path', { pid: 712, imagePath: 'C:\\Windows\\System32\\lsass.exe' }],
    [
      'an innocent name at lsass.exe’s path',
      { pid: 712, name: 'notepad.exe', imagePath: 'C:\\Windows\\System32\\lsass.exe' },
    ],
    ['a device path to lsass.exe', { pid: 712, imagePath: '\\Device\\HarddiskVolume3\\Windows\\System32\\lsass.exe' }],
    ['a trailing dot and .. segments', { pid: 712, imagePath: 'C:\\Users\\..\\Windows\\System32\\lsass.exe.' }],
    ['csrss.exe', { pid: 600, name: 'csrss.exe', imagePath: 'C:\\Windows\\System32\\csrss.exe' }],
    ['the genuine explorer.exe', { pid: 2100, imagePath: 'C:\\Windows\\explorer.exe' }],
    [
      'the genuine explorer.exe, by device path',
      { pid: 2100, imagePath: '\\Device\\HarddiskVolume3\\Windows\\explorer.exe' },
    ],
    ['PID 4 (System)', { pid: 4, imagePath: EVIL }],
    ['PID 0 (Idle)', { pid: 0, imagePath: EVIL }],
    ['the worker itself', { pid: process.pid, name: 'node.exe', imagePath: 'C:\\Program Files\\nodejs\\node.exe' }],
    ['the worker’s parent', { pid: process.ppid, imagePath: EVIL }],
  ])('%s', async (_label, target) => {
    for (const run of [stop(target), quarantine(target)]) {
      const failure = await refusal(run);
      expect(failure.type).toBe(HOST_FAILURE_TYPES.protectedTarget);
      expect(failure.nonRetryable).toBe(true);
    }
    expect(host.argvFileExists()).toBe(false);
  });

  it('refuses the whole request when any one target is protected', async () => {
    const failure = await refusal(
      activities.stopProcess({
        incidentId: 'incident-1',
        targets: [
          { pid: 4242, name: 'evil.exe', imagePath: EVIL },
          { pid: 4, imagePath: EVIL },
        ],
      }),
    );
    expect(failure.type).toBe(HOST_FAILURE_TYPES.protectedTarget);
    expect(host.argvFileExists()).toBe(false);
  });

  it('never quarantines a PowerShell image, but a malicious powershell.exe child can be stopped by PID', async () => {
    const powershell = { pid: 5150, imagePath: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe' };
    const failure = await refusal(quarantine(powershell));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.protectedTarget);
    expect(host.argvFileExists()).toBe(false);

    await expect(stop(powershell)).resolves.toMatchObject({ ok: true });
    expect(host.records().map((r) => r.request)).toEqual([
      { incidentId: 'incident-1', targets: [powershell], includeDescendants: true },
    ]);
  });

  it.each([
    ['a share', '\\\\fileserver\\share\\evil.exe'],
    ['WebDAV', '\\\\attacker@SSL\\DavWWWRoot\\evil.exe'],
    ['\\\\?\\UNC', '\\\\?\\UNC\\fileserver\\share\\evil.exe'],
    ['\\Device\\Mup', '\\Device\\Mup\\fileserver\\share\\evil.exe'],
    ['GLOBALROOT', '\\\\.\\GLOBALROOT\\Device\\Mup\\fileserver\\share\\evil.exe'],
  ])('never quarantines a file on %s, but the process can be stopped by PID', async (_label, imagePath) => {
    const remote = { pid: 5151, imagePath };
    const failure = await refusal(quarantine(remote));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.protectedTarget);
    expect(failure.details?.[0]).toMatchObject({ reason: 'remote-path' });
    expect(host.argvFileExists()).toBe(false);

    await expect(stop(remote)).resolves.toMatchObject({ ok: true });
    expect(host.records().map((r) => r.request)).toEqual([
      { incidentId: 'incident-1', targets: [remote], includeDescendants: true },
    ]);
  });

  it.each(['\\\\attacker\\share\\q', '\\\\?\\UNC\\attacker\\q', 'quarantine', '\\Device\\Mup\\attacker\\q'])(
    'refuses the quarantine store %j (not a local drive path) as invalid, before any spawn; so does the configuration',
    async (quarantineDirectory) => {
      const target = { pid: 4242, imagePath: EVIL };
      for (const run of [
        activities.stopAndQuarantineProcess({ incidentId: 'incident-1', targets: [target], quarantineDirectory }),
        activities.restoreQuarantinedFile({ sha256: 'a'.repeat(64), quarantineDirectory }),
      ]) {
        const failure = await refusal(run);
        expect(failure.type).toBe(HOST_FAILURE_TYPES.invalidRequest);
      }
      expect(host.argvFileExists()).toBe(false);
      expect(() => loadConfig({ SPAWNGUARD_QUARANTINE_DIR: quarantineDirectory })).toThrow(/SPAWNGUARD_QUARANTINE_DIR/);
      expect(loadConfig({ SPAWNGUARD_QUARANTINE_DIR: 'D:\\Quarantine' }).env.SPAWNGUARD_QUARANTINE_DIR).toBe(
        'D:\\Quarantine',
      );
    },
  );

  it('lets an impostor svchost.exe in a user folder through to the script', async () => {
    const impostor = { pid: 6667, name: 'svchost.exe', imagePath: 'C:\\Users\\Public\\svchost.exe' };
    await expect(stop(impostor)).resolves.toMatchObject({ ok: true });
    expect(host.records()).toHaveLength(1);
  });

  it('lets an impostor with a critical name outside System32 through to the script', async () => {
    const impostor = { pid: 6666, name: 'lsass.exe', imagePath: 'C:\\Users\\Public\\lsass.exe' };
    await expect(stop(impostor)).resolves.toMatchObject({ ok: true });
    expect(host.records()).toHaveLength(1);
  });

  // The PID-reuse guard is not optional: a target without its image path never reaches a script,
  // even one the name rule would also refuse (that rule still holds for the safety check itself).
  it.each<[string, ProcessTarget]>([
    ['a bare PID', { pid: 4242 }],
    ['a PID with a start time', { pid: 4242, startTime: '2024-05-01T10:00:00Z' }],
    ['lsass.exe by name', { pid: 712, name: 'lsass.exe' }],
    ['lsass by name without extension, any case', { pid: 712, name: 'LSASS' }],
    ['wmiprvse.exe by name', { pid: 3300, name: 'WmiPrvSE.exe' }],
  ])('refuses %s without an image path as an invalid request, before any spawn', async (_label, target) => {
    for (const run of [
      activities.stopProcess({ incidentId: 'incident-1', targets: [target as TerminateTarget] }),
      activities.stopAndQuarantineProcess({ incidentId: 'incident-1', targets: [target as TerminateTarget] }),
    ]) {
      const failure = await refusal(run);
      expect(failure.type).toBe(HOST_FAILURE_TYPES.invalidRequest);
      expect(failure.nonRetryable).toBe(true);
    }
    expect(host.argvFileExists()).toBe(false);
    if (target.name) expect(isProtectedByIdentity(target)).toBe(true);
  });

  it('refuses an invalid request with InvalidRequest, before any spawn', async () => {
    const failure = await refusal(activities.stopProcess({ incidentId: '', targets: [] }));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.invalidRequest);
    expect(failure.nonRetryable).toBe(true);
    expect(host.argvFileExists()).toBe(false);
  });
});

describe('logoff refused before any process is spawned', () => {
  it.each([
    ['SYSTEM', { name: 'SYSTEM' }],
    ['NT AUTHORITY\\NETWORK SERVICE written into the name', { name: 'NT AUTHORITY\\NETWORK SERVICE' }],
    ['LOCAL SERVICE with its domain', { name: 'LOCAL SERVICE', domain: 'NT AUTHORITY' }],
    ['a machine account', { name: 'WEB01$', domain: 'CONTOSO' }],
    ['the account the worker runs as', { name: 'svc-spawnguard', domain: 'contoso' }],
    ['the worker’s account as user@domain', { name: 'svc-spawnguard@CONTOSO' }],
  ])('%s', async (_label, user) => {
    const failure = await refusal(activities.terminateSession({ incidentId: 'incident-1', users: [user] }));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.protectedTarget);
    expect(failure.nonRetryable).toBe(true);
    expect(host.argvFileExists()).toBe(false);
  });

  it('refuses wildcard user names as invalid', async () => {
    const failure = await refusal(activities.terminateSession({ incidentId: 'incident-1', users: [{ name: '*' }] }));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.invalidRequest);
    expect(host.argvFileExists()).toBe(false);
  });

  it('still lists a service account’s sessions (listing logs nobody off)', async () => {
    await expect(
      activities.terminateSession({ incidentId: 'incident-1', users: [{ name: 'SYSTEM' }], listOnly: true }),
    ).resolves.toMatchObject({ ok: true });
    expect(host.records()).toHaveLength(1);
  });
});

describe('hostile strings travel as data', () => {
  /** Text that would run something if any shell (sh, cmd or PowerShell) ever read it as code. */
  const hostileStrings = (marker: string) => [
    `"; Stop-Computer -Force; "`,
    `'; Remove-Item C:\\ -Recurse; '`,
    '“typographic” ‘quotes’ „low“ ‚single‘',
    `$(touch ${marker}) $(New-Item -ItemType File -Path ${marker})`,
    `\`touch ${marker}\` \`$env:COMPUTERNAME\` @(1) \${x}`,
    'line one\nline two\r\n-Command Stop-Computer',
    'nul\u0000byte',
    `& touch ${marker} | cmd /c whoami > ${marker}; touch ${marker}`,
  ];

  it('reaches the script byte for byte on stdin, never on the command line, and nothing runs as code', async () => {
    const marker = join(host.scriptsDirectory, 'MARKER');
    const hostile = hostileStrings(marker);
    const targets = hostile.map((text, i) => ({
      pid: 7000 + i,
      imagePath: `C:\\Users\\Public\\${text}.exe`,
      name: text,
    }));
    // An account name never holds \\ / @ , or a double quote: both sides refuse those (below);
    // everything else hostile about the text travels as data.
    const users = hostile.slice(0, 4).map((text) => ({ name: text.replace(/[\\/@,"]/g, ''), domain: text }));
    await activities.stopProcess({ incidentId: hostile[3]!, targets });
    await activities.terminateSession({ incidentId: hostile[0]!, users });
    await activities.getFileEnrichment({ paths: hostile });

    const records = host.records();
    expect(records.map((r) => r.request)).toEqual([
      { incidentId: hostile[3], targets, includeDescendants: true },
      { incidentId: hostile[0], users, rdpOnly: false, listOnly: false },
      { paths: hostile },
    ]);
    for (const record of records) {
      expect(record.argv).toHaveLength(9);
      expect(record.argv.slice(-2)).toEqual(['-Request', '-']);
      for (const text of hostile) expect(record.argv.join(' ')).not.toContain(text);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it.each(['"; Stop-Computer; "', 'CONTOSO\\bob\\x', 'bob@x@y', 'a,b', 'evil/..'])(
    'refuses the user name %j as invalid before any spawn, as TerminateSession.ps1 would',
    async (name) => {
      const failure = await refusal(activities.terminateSession({ incidentId: 'incident-1', users: [{ name }] }));
      expect(failure.type).toBe(HOST_FAILURE_TYPES.invalidRequest);
      expect(host.argvFileExists()).toBe(false);
    },
  );
});

describe('identity rules', () => {
  it('maps the host’s own %SystemRoot% so a D:\\Windows install is protected too', () => {
    expect(canonicalImagePath('D:\\WINDOWS\\system32\\lsass.exe', 'D:\\Windows')).toBe(
      'c:\\windows\\system32\\lsass.exe',
    );
    expect(isProtectedByIdentity({ pid: 712, imagePath: 'D:\\Windows\\System32\\lsass.exe' }, 'D:\\Windows')).toBe(
      true,
    );
    expect(isProtectedByIdentity({ pid: 712, imagePath: 'D:\\Tools\\lsass.exe' }, 'D:\\Windows')).toBe(false);
  });

  it('treats 8.3 short names and NT object paths as possibly genuine', () => {
    expect(isProtectedByIdentity({ pid: 712, imagePath: 'C:\\WINDOW~1\\SYSTEM32\\lsass.exe' })).toBe(true);
    expect(isProtectedByIdentity({ pid: 712, imagePath: '\\??\\C:\\Windows\\System32\\csrss.exe' })).toBe(true);
    expect(isProtectedByIdentity({ pid: 712, imagePath: '\\SystemRoot\\System32\\smss.exe' })).toBe(true);
  });

  it('knows the worker’s whole parent chain on Linux', () => {
    const chain = workerProcessChain('linux');
    expect(chain.slice(0, 2)).toEqual([process.pid, process.ppid]);
    if (process.platform === 'linux') expect(chain.length).toBeGreaterThan(2);
  });
});
