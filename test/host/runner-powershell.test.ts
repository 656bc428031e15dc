/**
 * The seven real host scripts, run by real PowerShell 7 (pwsh) through the production runner, on
 * top of a fake Windows (test/support/fake-windows.ts): a temporary copy of powershell/ whose
 * Windows seam (SpawnGuard.Safety/Platform.ps1) answers from a world JSON file and records what the
 * scripts did, while files are real files under the copy's fs/ folder. The copy has its own
 * manifest, so the runner verifies, spawns, parses, validates and maps failures exactly as in
 * production; only the operating system underneath is fake.
 *
 * PIDs in the fake world are above this machine's pid_max (32768), so none can be the real pwsh.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_FAILURE_TYPES } from '../../common/host-contract';
import {
  createWarmPool,
  RETRYABLE_SCRIPT_FAILURES,
  runScript,
  runningScriptPids,
  type RunnerOptions,
} from '../../activities/host/runner';
import type { HostScriptName } from '../../activities/host/scripts';
import type { WarmPowerShellPool } from '../../activities/host/warm-runner';
import { scriptHash } from '../../activities/host/script-manifest';
import {
  createFakeWindows,
  fakePlatformSource,
  parseFunctions,
  REAL_FILE_FUNCTIONS,
  REAL_PLATFORM_FILE,
  REAL_SCRIPTS_DIRECTORY,
  FAKE_PLATFORM_FILE,
  requirePwsh,
  type FakeProcess,
  type FakeWindows,
  type World,
  WORLD_FILE,
} from '../support/fake-windows';
import { EVIL, EVIL_COPY, PROCESSES } from '../support/compromised-server';
import { eventually, isAlive } from './standin';

const PWSH_RUN_MS = 120_000;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const sha1 = (bytes: Buffer) => createHash('sha1').update(bytes).digest('hex');

const QUARANTINE = 'C:\\ProgramData\\spawnguard\\quarantine';

let pwsh: string;
beforeAll(() => {
  // Fails every test (with how to fix it) instead of skipping when PowerShell is missing.
  pwsh = requirePwsh();
});

/** The failure a run rejects with (fails the test if it resolves). */
async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await run.then(
    (result) => new Error(`expected a failure, got ${JSON.stringify(result)}`),
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

function failureDetails(failure: ApplicationFailure): Record<string, unknown> {
  return (failure.details?.[0] ?? {}) as Record<string, unknown>;
}

function runner(fake: FakeWindows) {
  return <N extends HostScriptName>(name: N, request: unknown, extra: Partial<RunnerOptions> = {}) =>
    runScript(name, request, {
      scriptsDirectory: fake.scriptsDirectory,
      manifest: fake.manifest,
      powershellPath: pwsh,
      timeoutMs: 60_000,
      ...extra,
    });
}

/** Waits for `check` while `run` is still pending (a run that ends first fails the wait at once). */
async function whileRunning(run: Promise<unknown>, check: () => boolean): Promise<void> {
  let ended = false;
  run.then(
    () => (ended = true),
    () => (ended = true),
  );
  await eventually(() => {
    if (ended) throw new Error('the script ended before the expected state was reached');
    return check();
  }, 100);
}

describe('the fake Windows seam', () => {
  it('defines exactly the functions and parameters of the real Platform.ps1', async () => {
    const signature = (fns: Awaited<ReturnType<typeof parseFunctions>>) =>
      Object.fromEntries(
        fns
          .map((fn) => [
            fn.name,
            fn.parameters.map((p) => `${p.name}:${p.type ?? ''}${p.mandatory ? ':mandatory' : ''}`),
          ])
          .sort(([a], [b]) => String(a).localeCompare(String(b))),
      );
    const real = await parseFunctions(readFileSync(REAL_PLATFORM_FILE, 'utf8'));
    const installed = await parseFunctions(await fakePlatformSource());
    expect(real.length).toBeGreaterThan(30);
    expect(signature(installed)).toEqual(signature(real));

    // Every real function is either faked by the fixture or copied real, never both.
    const faked = (await parseFunctions(readFileSync(FAKE_PLATFORM_FILE, 'utf8'))).map((fn) => fn.name);
    expect(faked.filter((name) => (REAL_FILE_FUNCTIONS as readonly string[]).includes(name))).toEqual([]);
    expect([...faked, ...REAL_FILE_FUNCTIONS].sort()).toEqual(real.map((fn) => fn.name).sort());
  });

  it('exists only in the temporary copy, pinned by that copy’s own manifest', async () => {
    const fake = await createFakeWindows();
    try {
      const realManifest = JSON.parse(readFileSync(join(REAL_SCRIPTS_DIRECTORY, 'manifest.json'), 'utf8')) as {
        files: Record<string, string>;
      };
      const platform = 'SpawnGuard.Safety/Platform.ps1';
      expect(fake.manifest.files[platform]).toBe(scriptHash(readFileSync(join(fake.scriptsDirectory, platform))));
      expect(fake.manifest.files[platform]).not.toBe(realManifest.files[platform]);
      expect(Object.keys(fake.manifest.files).sort()).toEqual(Object.keys(realManifest.files).sort());
      expect(readFileSync(REAL_PLATFORM_FILE, 'utf8')).not.toContain('FAKE');
      expect(existsSync(join(REAL_SCRIPTS_DIRECTORY, WORLD_FILE))).toBe(false);
      expect(existsSync(join(fake.scriptsDirectory, WORLD_FILE))).toBe(true);
    } finally {
      fake.remove();
    }
  });
});

// The same runs, cold (a PowerShell process per run) and warm (runspaces in powershell/WarmHost.ps1):
// the results must be the same.
describe.each(['cold', 'warm'] as const)('the seven host scripts under real pwsh (%s runner)', (mode) => {
  let fake: FakeWindows;
  let run: ReturnType<typeof runner>;
  let warm: WarmPowerShellPool | undefined;
  beforeAll(async () => {
    fake = await createFakeWindows();
    warm =
      mode === 'warm'
        ? createWarmPool({ scriptsDirectory: fake.scriptsDirectory, manifest: fake.manifest, powershellPath: pwsh })
        : undefined;
    const inner = runner(fake);
    run = (name, request, extra = {}) => inner(name, request, { ...(warm ? { warm } : {}), ...extra });
  });
  afterAll(async () => {
    await warm?.close();
    fake?.remove();
  });

  const reset = (world: Partial<World> = {}) => fake.reset({ processes: PROCESSES, ...world });

  it(
    'GetProcessTree describes a process with its owner, parent chain and descendants, and a gone PID as not found',
    async () => {
      reset();
      const result = await run('GetProcessTree', { processIds: [41_000, 59_999] });

      expect(result).toMatchObject({ script: 'GetProcessTree.ps1', ok: true, errors: [] });
      expect(result.results).toEqual([
        {
          pid: 41_000,
          found: true,
          name: 'evil.exe',
          path: EVIL,
          commandLine: `"${EVIL}" --beacon 203.0.113.50`,
          creationTime: '2024-05-01T09:00:00.0000000Z',
          owner: 'CONTOSO\\bob',
          sessionId: 2,
          parentPid: 40_100,
          parentChain: [{ pid: 40_100, name: 'explorer.exe', path: 'C:\\Windows\\explorer.exe' }],
          descendants: [
            { pid: 41_004, parentPid: 41_000, name: 'cmd.exe', path: 'C:\\Windows\\System32\\cmd.exe' },
            { pid: 41_008, parentPid: 41_004, name: 'conhost.exe', path: 'C:\\Windows\\System32\\conhost.exe' },
          ],
        },
        expect.objectContaining({ pid: 59_999, found: false, parentChain: [], descendants: [] }),
      ]);
      expect(fake.logged('terminate')).toEqual([]);
    },
    PWSH_RUN_MS,
  );

  it(
    'GetFileEnrichment hashes the real file, reads its signature and flags a system name out of place',
    async () => {
      const masquerade = 'C:\\Users\\Public\\svchost.exe';
      const genuine = 'C:\\Windows\\System32\\svchost.exe';
      reset({
        signatures: {
          [genuine]: { status: 'Valid', subject: 'CN=Microsoft Windows, O=Microsoft Corporation', isOsBinary: true },
          [masquerade]: { status: 'HashMismatch', subject: 'CN=Microsoft Windows, O=Microsoft Corporation' },
        },
      });
      const evil = randomBytes(70_000);
      fake.writeFile(EVIL, evil);
      fake.writeFile(masquerade, randomBytes(1_000));
      fake.writeFile(genuine, randomBytes(2_000));

      const result = await run('GetFileEnrichment', {
        paths: [EVIL, masquerade, genuine, 'C:\\Users\\Public\\gone.exe'],
      });

      expect(result.ok).toBe(true);
      expect(result.errors).toEqual([]);
      const [evilFacts, masqueradeFacts, genuineFacts, goneFacts] = result.results;
      expect(evilFacts).toMatchObject({
        path: EVIL,
        exists: true,
        sha256: sha256(evil),
        sha1: sha1(evil),
        size: evil.length,
        signature: { status: 'unsigned', signer: null, isMicrosoft: false, isOsBinary: false },
        expectedLocation: null,
      });
      expect(masqueradeFacts).toMatchObject({
        sha256: sha256(fake.readFile(masquerade)),
        signature: { status: 'invalid', isMicrosoft: false },
        expectedLocation: false,
      });
      expect(genuineFacts).toMatchObject({
        signature: {
          status: 'valid',
          signer: 'CN=Microsoft Windows, O=Microsoft Corporation',
          isMicrosoft: true,
          isOsBinary: true,
        },
        expectedLocation: true,
      });
      expect(goneFacts).toMatchObject({ path: 'C:\\Users\\Public\\gone.exe', exists: false, sha256: null });
      // Read-only: the file is where it was, unchanged.
      expect(sha256(fake.readFile(EVIL))).toBe(sha256(evil));
    },
    PWSH_RUN_MS,
  );

  it(
    'StopProcess terminates the target and its descendants, and leaves a reused PID alone',
    async () => {
      reset();
      const result = await run('StopProcess', {
        incidentId: 'INC-1',
        targets: [
          { pid: 41_000, imagePath: EVIL, startTime: '2024-05-01T09:00:00Z' },
          { pid: 43_000, imagePath: 'C:\\Users\\Public\\old.exe', startTime: '2024-05-01T09:10:00Z' },
          { pid: 59_999, imagePath: 'C:\\Users\\Public\\gone.exe' },
        ],
        includeDescendants: true,
      });

      expect(result.ok).toBe(true);
      const [stopped, reused, gone] = result.results;
      expect(stopped).toMatchObject({
        target: '41000',
        pid: 41_000,
        name: 'evil.exe',
        imagePath: EVIL,
        status: 'done',
      });
      expect(stopped?.terminatedPids).toEqual([41_000, 41_004, 41_008]);
      expect(reused).toMatchObject({ target: '43000', status: 'skipped', reason: 'pid-reused', terminatedPids: [] });
      expect(gone).toMatchObject({ target: '59999', status: 'already-done', reason: 'not-found' });
      // What happened on the host: exactly those three, the target first.
      expect(fake.logged('terminate').map((entry) => entry.pid)).toEqual([41_000, 41_004, 41_008]);
    },
    PWSH_RUN_MS,
  );

  it(
    'StopAndQuarantineProcess moves the file under its SHA-256 name with a manifest; the same content again also succeeds',
    async () => {
      reset();
      const evil = randomBytes(50_000);
      const hash = sha256(evil);
      fake.writeFile(EVIL, evil);
      fake.writeFile(EVIL_COPY, evil);
      const quarantined = `${QUARANTINE}\\${hash}.quarantine`;
      const manifestPath = `${QUARANTINE}\\${hash}.json`;

      const first = await run('StopAndQuarantineProcess', {
        incidentId: 'INC-1',
        targets: [{ pid: 41_000, imagePath: EVIL, startTime: '2024-05-01T09:00:00Z' }],
        quarantineDirectory: QUARANTINE,
      });

      expect(first.ok).toBe(true);
      expect(first.results).toHaveLength(1);
      expect(first.results[0]).toMatchObject({
        pid: 41_000,
        status: 'done',
        terminatedPids: [41_000, 41_004, 41_008],
        quarantine: {
          originalPath: EVIL,
          quarantinePath: quarantined,
          manifestPath,
          sha256Before: hash,
          sha256After: hash,
        },
      });
      expect(fake.exists(EVIL)).toBe(false);
      expect(fake.readFile(quarantined).equals(evil)).toBe(true);
      const manifest = JSON.parse(fake.readFile(manifestPath).toString('utf8')) as {
        sha256: string;
        entries: { originalPath: string; incidentId: string; sha256Before: string }[];
      };
      expect(manifest.sha256).toBe(hash);
      expect(manifest.entries).toEqual([
        expect.objectContaining({ originalPath: EVIL, incidentId: 'INC-1', sha256Before: hash }),
      ]);
      const restricted = fake.logged('restrict-acl').map((entry) => entry.path);
      expect(restricted).toEqual(expect.arrayContaining([QUARANTINE, quarantined, manifestPath]));

      // The copy (same bytes, another path, another incident), and the first target asked again.
      const second = await run('StopAndQuarantineProcess', {
        incidentId: 'INC-2',
        targets: [
          { pid: 44_000, imagePath: EVIL_COPY },
          { pid: 41_000, imagePath: EVIL },
        ],
        quarantineDirectory: QUARANTINE,
      });

      expect(second.ok).toBe(true);
      const [copy, again] = second.results;
      expect(copy).toMatchObject({
        pid: 44_000,
        status: 'done',
        terminatedPids: [44_000],
        quarantine: { originalPath: EVIL_COPY, quarantinePath: quarantined, sha256Before: hash, sha256After: hash },
      });
      expect(again).toMatchObject({
        status: 'already-done',
        reason: 'already-quarantined',
        quarantine: { quarantinePath: quarantined },
      });
      expect(fake.exists(EVIL_COPY)).toBe(false);
      expect(fake.readFile(quarantined).equals(evil)).toBe(true);
      const after = JSON.parse(fake.readFile(manifestPath).toString('utf8')) as typeof manifest;
      expect(after.entries.map((e) => [e.originalPath, e.incidentId])).toEqual([
        [EVIL, 'INC-1'],
        [EVIL_COPY, 'INC-2'],
      ]);
      expect(fake.logged('terminate').map((entry) => entry.pid)).toEqual([41_000, 41_004, 41_008, 44_000]);
    },
    PWSH_RUN_MS,
  );

  it(
    'TerminateSession logs off only the matching RDP session, by its numeric id',
    async () => {
      reset({
        currentSessionId: 0,
        consoleSessionId: 1,
        sessions: [
          { id: 0, station: 'Services', state: 4, protocol: 0 },
          { id: 1, station: 'Console', state: 0, user: 'bob', domain: 'CONTOSO', protocol: 0 },
          {
            id: 2,
            station: 'RDP-Tcp#3',
            state: 0,
            user: 'bob',
            domain: 'CONTOSO',
            protocol: 2,
            clientAddress: '203.0.113.7',
          },
          {
            id: 3,
            station: 'RDP-Tcp#4',
            state: 4,
            user: 'bob',
            domain: 'CONTOSO',
            protocol: 2,
            clientAddress: '198.51.100.9',
          },
          {
            id: 4,
            station: 'RDP-Tcp#5',
            state: 0,
            user: 'alice',
            domain: 'CONTOSO',
            protocol: 2,
            clientAddress: '203.0.113.7',
          },
        ],
      });

      const result = await run('TerminateSession', {
        incidentId: 'INC-1',
        users: [{ name: 'bob', domain: 'CONTOSO' }],
        rdpOnly: true,
        remoteIp: '203.0.113.7',
      });

      expect(result.ok).toBe(true);
      expect(result.results).toEqual([
        expect.objectContaining({
          user: 'CONTOSO\\bob',
          sessionId: 2,
          sessionType: 'rdp',
          state: 'active',
          clientAddress: '203.0.113.7',
          clientAddressIsClientReported: true,
          status: 'done',
        }),
      ]);
      expect(fake.logged('logoff').map((entry) => entry.sessionId)).toEqual([2]);
    },
    PWSH_RUN_MS,
  );

  it(
    'FetchPersistenceEntries reads every source and flags the entries that reference the offending file',
    async () => {
      const run_ = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run';
      const bobSid = 'S-1-5-21-1004336348-1177238915-682003330-1001';
      const profileList = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
      const startupLink =
        'C:\\Users\\bob\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\updater.lnk';
      reset({
        registry: {
          [run_]: {
            SecurityHealth: '%windir%\\system32\\SecurityHealthSystray.exe',
            Updater: `"${EVIL}" /autostart`,
          },
          [`HKEY_USERS\\${bobSid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`]: {
            OneDrive: '"C:\\Users\\bob\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background',
          },
          [`${profileList}\\${bobSid}`]: { ProfileImagePath: '%SystemDrive%\\Users\\bob' },
          'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Spooler': {
            ImagePath: '%SystemRoot%\\System32\\spoolsv.exe',
            ObjectName: 'LocalSystem',
          },
        },
        accounts: { [bobSid]: 'CONTOSO\\bob' },
        scheduledTasks: [
          { path: '\\', name: 'EvilUpdate', userId: 'SYSTEM', actions: [{ execute: EVIL, arguments: '--update' }] },
          {
            path: '\\Microsoft\\Windows\\Defrag\\',
            name: 'ScheduledDefrag',
            userId: 'SYSTEM',
            actions: [{ execute: '%windir%\\system32\\defrag.exe', arguments: '-c -h -o' }],
          },
        ],
        shortcuts: { [startupLink]: { target: EVIL, arguments: '--hidden' } },
        wmi: {
          CommandLineEventConsumer: [
            { Name: 'EvilConsumer', CommandLineTemplate: `${EVIL} --wmi`, ExecutablePath: null },
          ],
        },
      });
      fake.writeFile(EVIL, 'MZ evil');
      fake.writeFile(startupLink, 'shortcut bytes');

      const result = await run('FetchPersistenceEntries', { incidentId: 'INC-1', referencePaths: [EVIL] });

      // Every source was read (a source the fake lacked would show up as '<source>-unavailable').
      expect(result.errors).toEqual([]);
      expect(result.ok).toBe(true);
      const entry = (kind: string, name: string) => result.results.find((e) => e.kind === kind && e.name === name);
      expect(entry('run-key', 'Updater')).toEqual({
        kind: 'run-key',
        location: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run',
        name: 'Updater',
        command: `"${EVIL}" /autostart`,
        imagePath: EVIL,
        user: null,
        referencesTarget: true,
        matchedPath: EVIL,
      });
      expect(entry('run-key', 'SecurityHealth')).toMatchObject({
        imagePath: 'C:\\Windows\\system32\\SecurityHealthSystray.exe',
        referencesTarget: false,
      });
      expect(entry('run-key', 'OneDrive')).toMatchObject({ user: 'CONTOSO\\bob', referencesTarget: false });
      expect(entry('scheduled-task', 'EvilUpdate')).toMatchObject({
        location: '\\EvilUpdate',
        imagePath: EVIL,
        referencesTarget: true,
      });
      expect(entry('scheduled-task', 'ScheduledDefrag')).toMatchObject({ referencesTarget: false });
      expect(entry('startup-folder', 'updater.lnk')).toMatchObject({
        user: 'CONTOSO\\bob',
        imagePath: EVIL,
        referencesTarget: true,
      });
      expect(entry('service', 'Spooler')).toMatchObject({
        imagePath: 'C:\\Windows\\System32\\spoolsv.exe',
        referencesTarget: false,
      });
      expect(entry('wmi-subscription', 'EvilConsumer')).toMatchObject({ referencesTarget: true, matchedPath: EVIL });
      expect(
        result.results
          .filter((e) => e.referencesTarget)
          .map((e) => `${e.kind}:${e.name}`)
          .sort(),
      ).toEqual([
        'run-key:Updater',
        'scheduled-task:EvilUpdate',
        'startup-folder:updater.lnk',
        'wmi-subscription:EvilConsumer',
      ]);
    },
    PWSH_RUN_MS,
  );

  it(
    'RestoreQuarantinedFile puts the quarantined file back with its original ACL; asking again is already done',
    async () => {
      const originalSddl = 'D:P(A;;FA;;;BA)(A;;FA;;;SY)(A;;0x1200a9;;;BU)';
      reset({ sddl: { [EVIL]: originalSddl } });
      const evil = randomBytes(30_000);
      const hash = sha256(evil);
      fake.writeFile(EVIL, evil);
      const quarantine = await run('StopAndQuarantineProcess', {
        incidentId: 'INC-7',
        targets: [{ pid: 41_000, imagePath: EVIL }],
        quarantineDirectory: QUARANTINE,
      });
      expect(quarantine.results[0]?.status).toBe('done');
      expect(fake.exists(EVIL)).toBe(false);

      const restored = await run('RestoreQuarantinedFile', {
        incidentId: 'INC-7',
        sha256: hash,
        quarantineDirectory: QUARANTINE,
      });

      expect(restored.ok).toBe(true);
      expect(restored.results).toEqual([expect.objectContaining({ sha256: hash, restoredPath: EVIL, status: 'done' })]);
      expect(fake.readFile(EVIL).equals(evil)).toBe(true);
      // Its only entry restored: the quarantine copy and manifest are gone, the history kept.
      expect(fake.exists(`${QUARANTINE}\\${hash}.quarantine`)).toBe(false);
      expect(fake.exists(`${QUARANTINE}\\${hash}.json`)).toBe(false);
      expect(fake.exists(`${QUARANTINE}\\${hash}.restored.json`)).toBe(true);
      expect(fake.logged('restore-acl')).toEqual([expect.objectContaining({ path: EVIL, sddl: originalSddl })]);

      const again = await run('RestoreQuarantinedFile', {
        incidentId: 'INC-7',
        sha256: hash,
        quarantineDirectory: QUARANTINE,
      });
      expect(again.ok).toBe(true);
      expect(again.results).toEqual([expect.objectContaining({ restoredPath: EVIL, status: 'already-done' })]);
      expect(fake.readFile(EVIL).equals(evil)).toBe(true);
    },
    PWSH_RUN_MS,
  );
});

describe('failures from real pwsh', () => {
  let fake: FakeWindows;
  let run: ReturnType<typeof runner>;
  beforeAll(async () => {
    fake = await createFakeWindows();
    run = runner(fake);
  });
  afterAll(() => fake?.remove());

  const HUNG: FakeProcess = {
    pid: 45_000,
    ppid: 40_100,
    name: 'stuck.exe',
    path: 'C:\\Users\\Public\\stuck.exe',
    created: '2024-05-01T09:30:00Z',
    hangOnStop: true,
  };

  it(
    'a protected target (lsass) refuses the whole request: non-retryable ProtectedTarget, nothing terminated',
    async () => {
      fake.reset({ processes: PROCESSES });
      const failure = await failureOf(
        run('StopProcess', {
          incidentId: 'INC-1',
          targets: [
            { pid: 41_000, imagePath: EVIL },
            { pid: 40_008, imagePath: 'C:\\Windows\\System32\\lsass.exe' },
          ],
        }),
      );

      expect(failure.type).toBe(HOST_FAILURE_TYPES.protectedTarget);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('protected-process');
      const details = failureDetails(failure);
      expect(details.exitCode).toBe(3);
      expect((details.result as { results: unknown[] }).results).toEqual([
        expect.objectContaining({ pid: 41_000, status: 'skipped', reason: 'request-refused' }),
        expect.objectContaining({ pid: 40_008, name: 'lsass.exe', status: 'skipped', reason: 'protected-process' }),
      ]);
      expect(fake.logged('terminate')).toEqual([]);
    },
    PWSH_RUN_MS,
  );

  it(
    'an invalid request is a non-retryable InvalidRequest, and nothing is done',
    async () => {
      fake.reset({ processes: PROCESSES });
      const failure = await failureOf(
        run('StopProcess', { incidentId: 'INC-1', targets: [{ pid: 41_000, imagePath: 'evil.exe' }] }),
      );

      expect(failure.type).toBe(HOST_FAILURE_TYPES.invalidRequest);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('not a full path');
      expect(failureDetails(failure).exitCode).toBe(2);
      expect(fake.logged('terminate')).toEqual([]);
    },
    PWSH_RUN_MS,
  );

  it(
    'access denied by Windows is a non-retryable AccessDenied',
    async () => {
      fake.reset({
        processes: PROCESSES.map((p) => (p.pid === 41_000 ? { ...p, stopError: 'access-denied' as const } : p)),
      });
      const failure = await failureOf(
        run('StopProcess', { incidentId: 'INC-1', targets: [{ pid: 41_000, imagePath: EVIL }] }),
      );

      expect(failure.type).toBe(HOST_FAILURE_TYPES.accessDenied);
      expect(failure.nonRetryable).toBe(true);
      expect(failureDetails(failure).exitCode).toBe(4);
      expect(fake.logged('terminate').map((entry) => entry.pid)).not.toContain(41_000);
    },
    PWSH_RUN_MS,
  );

  it(
    'a hung seam call times out as retryable ScriptTimedOut, and the whole pwsh process tree is killed',
    async () => {
      fake.reset({ processes: [...PROCESSES, HUNG] });
      // Long enough for pwsh to start and reach the hung call on a busy machine.
      const running = run(
        'StopProcess',
        { incidentId: 'INC-1', targets: [{ pid: HUNG.pid, imagePath: HUNG.path }] },
        { timeoutMs: 15_000 },
      );
      await whileRunning(running, () => fake.logged('hang').length > 0 && runningScriptPids().length > 0);
      const [spawned] = runningScriptPids();
      const [hang] = fake.logged('hang');
      // The runner's child (the pwsh launcher), the PowerShell process itself, and what the script started.
      const tree = [spawned!, hang!.scriptPid, hang!.childPid as number];
      expect(tree.every(isAlive)).toBe(true);

      const failure = await failureOf(running);

      expect(failure.type).toBe(RETRYABLE_SCRIPT_FAILURES.timedOut);
      expect(failure.nonRetryable).toBe(false);
      await eventually(() => tree.every((pid) => !isAlive(pid)), 50, 10_000);
      expect(runningScriptPids()).toEqual([]);
      expect(fake.logged('terminate')).toEqual([]);
    },
    PWSH_RUN_MS,
  );

  it(
    'cancellation kills the whole pwsh process tree and rejects with the cancellation',
    async () => {
      fake.reset({ processes: [...PROCESSES, HUNG] });
      const controller = new AbortController();
      const running = run(
        'StopProcess',
        { incidentId: 'INC-1', targets: [{ pid: HUNG.pid, imagePath: HUNG.path }] },
        { signal: controller.signal },
      );
      await whileRunning(running, () => fake.logged('hang').length > 0 && runningScriptPids().length > 0);
      const [spawned] = runningScriptPids();
      const [hang] = fake.logged('hang');
      const tree = [spawned!, hang!.scriptPid, hang!.childPid as number];
      expect(tree.every(isAlive)).toBe(true);

      const cancelled = new CancelledFailure('activity cancelled');
      controller.abort(cancelled);
      const error = await running.then(
        () => undefined,
        (err: unknown) => err,
      );

      expect(error).toBe(cancelled);
      await eventually(() => tree.every((pid) => !isAlive(pid)), 50, 10_000);
      expect(runningScriptPids()).toEqual([]);
    },
    PWSH_RUN_MS,
  );

  it(
    'stderr noise and a (silenced) warning from a seam call do not disturb the result',
    async () => {
      fake.reset({ processes: PROCESSES, stderrNoiseIn: ['Get-SpawnGuardWin32Process'] });
      const result = await run('GetProcessTree', { processIds: [41_000] });

      expect(result.ok).toBe(true);
      expect(result.results[0]).toMatchObject({ pid: 41_000, found: true, name: 'evil.exe' });
      expect(fake.logged('noise').length).toBeGreaterThan(0);
    },
    PWSH_RUN_MS,
  );

  it(
    'a warning forced onto stdout is refused as BadScriptOutput, never half-read',
    async () => {
      fake.reset({ processes: PROCESSES, stdoutWarningIn: ['Get-SpawnGuardWin32Process'] });
      const failure = await failureOf(run('GetProcessTree', { processIds: [41_000] }));

      expect(failure.type).toBe(HOST_FAILURE_TYPES.badScriptOutput);
      expect(failure.nonRetryable).toBe(true);
      expect(String(failureDetails(failure).stdout)).toContain('WARNING: fake-windows: a forced warning');
    },
    PWSH_RUN_MS,
  );
});

describe('tampering refused before PowerShell starts', () => {
  let fake: FakeWindows;
  let run: ReturnType<typeof runner>;
  beforeAll(async () => {
    fake = await createFakeWindows();
    run = runner(fake);
  });
  afterAll(() => fake?.remove());
  afterEach(() => jest.restoreAllMocks());

  /** Flips one byte of a file in the copy for the duration of `body`. */
  async function withOneByteChanged(file: string, body: () => Promise<void>): Promise<void> {
    const path = join(fake.scriptsDirectory, file);
    const original = readFileSync(path);
    const changed = Buffer.from(original);
    const at = changed.indexOf('Stop');
    if (at < 0) throw new Error(`${file} has no "Stop" to change`);
    changed[at] = 's'.charCodeAt(0);
    writeFileSync(path, changed);
    try {
      await body();
    } finally {
      writeFileSync(path, original);
    }
  }

  async function expectRefused(name: HostScriptName, request: unknown, problem: RegExp): Promise<void> {
    fake.reset({ processes: PROCESSES });
    // The module object itself (an `import *` namespace is a copy under the test transform).
    const spawn = jest.spyOn(require('node:child_process') as typeof import('node:child_process'), 'spawn');
    const failure = await failureOf(run(name, request));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.scriptTampered);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(problem);
    expect(spawn).not.toHaveBeenCalled();
    expect(fake.logged('loaded')).toEqual([]);
    expect(fake.logged('terminate')).toEqual([]);
  }

  it('a script with one byte changed after the manifest was written', async () => {
    await withOneByteChanged('StopProcess.ps1', () =>
      expectRefused(
        'StopProcess',
        { incidentId: 'INC-1', targets: [{ pid: 41_000, imagePath: EVIL }] },
        /StopProcess\.ps1: SHA-256 \w+ differs/,
      ),
    );
  });

  it('a module file in the SpawnGuard.Safety folder with one byte changed, whichever script is asked for', async () => {
    await withOneByteChanged('SpawnGuard.Safety/ProcessActions.ps1', () =>
      expectRefused('GetProcessTree', { processIds: [41_000] }, /SpawnGuard\.Safety\/ProcessActions\.ps1: SHA-256/),
    );
  });

  it('a module file added to the SpawnGuard.Safety folder after the manifest was written', async () => {
    const extra = join(fake.scriptsDirectory, 'SpawnGuard.Safety', 'Extra.ps1');
    appendFileSync(extra, 'Stop-Computer -Force\n');
    try {
      await expectRefused(
        'GetProcessTree',
        { processIds: [41_000] },
        /SpawnGuard\.Safety\/Extra\.ps1: not in the script manifest/,
      );
    } finally {
      rmSync(extra);
    }
  });

  it(
    'the untouched copy still runs (the refusals above are the edits, not the copy)',
    async () => {
      fake.reset({ processes: PROCESSES });
      const result = await run('GetProcessTree', { processIds: [41_000] });
      expect(result.results[0]).toMatchObject({ pid: 41_000, found: true });
      expect(fake.logged('loaded')).toHaveLength(1);
    },
    PWSH_RUN_MS,
  );
});
