/**
 * Removing and restoring persistence end to end: the host activities (activities/host/activities.ts)
 * run the real RemovePersistenceEntry.ps1 and RestorePersistenceEntry.ps1 with real PowerShell 7
 * through the production runner, on the fake Windows of test/support/fake-windows.ts. Its registry
 * keeps what the scripts write and delete (in its log), and the Startup folder and the quarantine
 * store are real files, so FetchPersistenceEntries.ps1 sees the entries go and come back.
 */
import { createHash } from 'node:crypto';
import { createHostActivities } from '../../activities/host/activities';
import type { HostActivities } from '../../common/host-contract';
import { createFakeWindows, requirePwsh, type FakeWindows, type World } from '../support/fake-windows';
import { EVIL, PROCESSES } from '../support/compromised-server';

const PWSH_RUN_MS = 120_000;
const QUARANTINE = 'C:\\ProgramData\\spawnguard\\quarantine';
const BACKUPS = 'C:\\ProgramData\\spawnguard\\persistence-backup';
const RUN_KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run';
const RUN_LOCATION = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run';
const STARTUP = 'C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\StartUp';
const SERVICE_KEY = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\EvilSvc';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

let fake: FakeWindows;
let host: HostActivities;

beforeAll(async () => {
  const pwsh = requirePwsh();
  fake = await createFakeWindows();
  host = createHostActivities({
    scriptsDirectory: fake.scriptsDirectory,
    manifest: fake.manifest,
    powershellPath: pwsh,
    // The host's own settings: the requests below name neither.
    quarantineDirectory: QUARANTINE,
    trustedPublishers: ['Contoso Ltd'],
    timeoutsMs: { RemovePersistenceEntry: 60_000, RestorePersistenceEntry: 60_000, FetchPersistenceEntries: 60_000 },
  });
});

afterAll(() => fake?.remove());

/** A compromised host: the malware in the machine's Run key, a batch file in Common Startup and a service. */
function compromise(extra: Partial<World> = {}): void {
  fake.reset({
    processes: PROCESSES,
    registry: {
      [RUN_KEY]: { Updater: `"${EVIL}" /autostart`, SecurityHealth: '%windir%\\system32\\SecurityHealthSystray.exe' },
      // The fake registry holds text; the service's Start reads back as the number 2.
      [SERVICE_KEY]: { ImagePath: `"${EVIL}" -service`, Start: '2', ObjectName: 'LocalSystem' },
    },
    ...extra,
  });
  fake.writeFile(EVIL, 'MZ evil');
  fake.writeFile(`${STARTUP}\\updater.bat`, `@start "" "${EVIL}"\r\n`);
}

const ENTRIES = [
  { kind: 'run-key', location: RUN_LOCATION, name: 'Updater', matchedPath: EVIL },
  { kind: 'startup-folder', location: STARTUP, name: 'updater.bat', matchedPath: `${STARTUP}\\updater.bat` },
  {
    kind: 'service',
    location: 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\EvilSvc',
    name: 'EvilSvc',
    matchedPath: EVIL,
  },
] as const;

/** The persistence entries the listing flags: those naming the malware, or the startup file itself. */
async function referencing(): Promise<string[]> {
  const listing = await host.fetchPersistenceEntries({
    incidentId: 'INC-7',
    referencePaths: [EVIL, `${STARTUP}\\updater.bat`],
  });
  return listing.results
    .filter((e) => e.referencesTarget)
    .map((e) => `${e.kind}:${e.name}`)
    .sort();
}

describe('persistence removal and restore under real pwsh', () => {
  it(
    'removes a run key value, a startup file and a service (each backed up first), and restores them as they were',
    async () => {
      compromise();
      const bat = fake.readFile(`${STARTUP}\\updater.bat`);
      expect(await referencing()).toEqual(['run-key:Updater', 'service:EvilSvc', 'startup-folder:updater.bat']);

      const removed = await host.removePersistenceEntries({ incidentId: 'INC-7', entries: [...ENTRIES] });

      expect(removed).toMatchObject({ script: 'RemovePersistenceEntry.ps1', ok: true, errors: [] });
      expect(removed.results.map((r) => [r.kind, r.status, r.verified, r.backup?.format])).toEqual([
        ['run-key', 'done', true, 'registry-value'],
        ['startup-folder', 'done', true, 'quarantined-file'],
        ['service', 'done', true, 'service-start'],
      ]);
      for (const item of removed.results) {
        expect(item.backup?.path).toBe(`${BACKUPS}\\${item.backup?.id}.json`);
        expect(fake.exists(item.backup!.path)).toBe(true);
      }
      // Each backup was written (and its ACL restricted) before its entry was touched.
      const log = fake.log();
      const firstBackupAcl = log.findIndex(
        (e) => e.action === 'restrict-acl' && String(e.path).startsWith(BACKUPS + '\\'),
      );
      const removal = log.findIndex((e) => e.action === 'remove-registry-value');
      expect(firstBackupAcl).toBeGreaterThanOrEqual(0);
      expect(removal).toBeGreaterThan(firstBackupAcl);
      expect(fake.logged('remove-registry-value')).toEqual([
        expect.objectContaining({ key: RUN_KEY, name: 'Updater' }),
      ]);
      expect(fake.logged('service-start')).toEqual([expect.objectContaining({ service: 'EvilSvc', start: 4 })]);
      // The startup file is in the host's quarantine store (the activity's default), not at its path.
      const hash = sha256(bat);
      expect(fake.exists(`${STARTUP}\\updater.bat`)).toBe(false);
      expect(fake.readFile(`${QUARANTINE}\\${hash}.quarantine`).equals(bat)).toBe(true);
      expect(await referencing()).toEqual(['service:EvilSvc']);

      const again = await host.removePersistenceEntries({ incidentId: 'INC-7', entries: [...ENTRIES] });
      expect(again.results.map((r) => r.status)).toEqual(['already-done', 'already-done', 'already-done']);
      expect(again.results.map((r) => r.backup?.id)).toEqual(removed.results.map((r) => r.backup?.id));

      const restored = await host.restorePersistenceEntries({
        incidentId: 'INC-7',
        backupIds: removed.results.map((r) => r.backup!.id),
      });

      expect(restored).toMatchObject({ script: 'RestorePersistenceEntry.ps1', ok: true, errors: [] });
      expect(restored.results.map((r) => [r.backupId, r.kind, r.status, r.verified])).toEqual(
        removed.results.map((r) => [r.backup!.id, r.kind, 'done', true]),
      );
      expect(fake.logged('set-registry-value')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ key: RUN_KEY, name: 'Updater', kind: 'String', value: `"${EVIL}" /autostart` }),
        ]),
      );
      expect(fake.readFile(`${STARTUP}\\updater.bat`).equals(bat)).toBe(true);
      expect(fake.exists(`${QUARANTINE}\\${hash}.quarantine`)).toBe(false);
      expect(fake.logged('restore-acl')).toEqual([expect.objectContaining({ path: `${STARTUP}\\updater.bat` })]);
      expect(fake.logged('service-start').map((e) => e.start)).toEqual([4, 2]);
      for (const item of restored.results) {
        expect(item.backup?.path).toBe(`${BACKUPS}\\${item.backupId}.restored.json`);
        expect(fake.exists(`${BACKUPS}\\${item.backupId}.json`)).toBe(false);
      }
      expect(await referencing()).toEqual(['run-key:Updater', 'service:EvilSvc', 'startup-folder:updater.bat']);

      const twice = await host.restorePersistenceEntries({
        incidentId: 'INC-7',
        backupIds: removed.results.map((r) => r.backup!.id),
      });
      expect(twice.results.map((r) => r.status)).toEqual(['already-done', 'already-done', 'already-done']);
    },
    3 * PWSH_RUN_MS,
  );

  it(
    'refuses a value signed by a publisher the host trusts, a value that no longer names the file, and a place that is not a Run key',
    async () => {
      compromise({
        registry: {
          [RUN_KEY]: { Updater: `"${EVIL}" /autostart`, Vendor: '"C:\\Program Files\\Contoso\\agent.exe"' },
          'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon': { Userinit: EVIL },
        },
        signatures: {
          'C:\\Program Files\\Contoso\\agent.exe': { status: 'Valid', subject: 'CN=Contoso Ltd, O=Contoso Ltd' },
        },
      });
      fake.writeFile('C:\\Program Files\\Contoso\\agent.exe', 'MZ agent');

      const result = await host.removePersistenceEntries({
        incidentId: 'INC-8',
        entries: [
          {
            kind: 'run-key',
            location: RUN_LOCATION,
            name: 'Vendor',
            matchedPath: 'C:\\Program Files\\Contoso\\agent.exe',
          },
          { kind: 'run-key', location: RUN_LOCATION, name: 'Vendor', matchedPath: EVIL },
          {
            kind: 'run-key',
            location: 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon',
            name: 'Userinit',
            matchedPath: EVIL,
          },
        ],
      });

      expect(result.ok).toBe(true);
      expect(result.results.map((r) => [r.status, r.reason])).toEqual([
        ['skipped', 'trusted-signer'],
        ['skipped', 'not-referencing'],
        ['skipped', 'unsupported-location'],
      ]);
      expect(fake.logged('remove-registry-value')).toEqual([]);
      expect(fake.exists(BACKUPS)).toBe(false);
    },
    PWSH_RUN_MS,
  );
});
