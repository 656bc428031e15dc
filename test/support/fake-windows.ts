/**
 * A fake Windows under the real host scripts, for running them with real pwsh through the
 * production runner (test/host/runner-powershell.test.ts).
 *
 * `createFakeWindows()` copies powershell/ (without tests/) into a temporary folder, replaces
 * SpawnGuard.Safety/Platform.ps1 — the Windows seam — with test/host/fixtures/fake-windows/Platform.ps1
 * (into which the REAL file functions of the real seam are copied, so real files are hashed and
 * moved), and writes that copy's own manifest. The fake answers from a world JSON file the test
 * writes beside it and logs what the scripts did to that world; Windows paths map to files under
 * `<root>/fs` (C:\a\b → <root>/fs/C/a/b). Only the temporary copy ever holds the fake.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { writeManifest, type ScriptManifest } from '../../activities/host/script-manifest';
import { parsePowerShell } from '../powershell/parse';
import { functionInfos, type FunctionInfo } from '../powershell/rules';
import { findPwsh } from '../../scripts/lib/powershell';

export const REAL_SCRIPTS_DIRECTORY = join(__dirname, '..', '..', 'powershell');
export const REAL_PLATFORM_FILE = join(REAL_SCRIPTS_DIRECTORY, 'SpawnGuard.Safety', 'Platform.ps1');
export const FAKE_PLATFORM_FILE = join(__dirname, '..', 'host', 'fixtures', 'fake-windows', 'Platform.ps1');
const REAL_FUNCTIONS_MARKER = '# @@REAL-FILE-FUNCTIONS@@';

/**
 * Seam functions the fake keeps REAL (copied from the real Platform.ps1): plain .NET file calls
 * that work on any platform once ConvertTo-SpawnGuardNativePath has mapped the path, and the
 * reading of the request from standard input. Every other
 * seam function is faked in the fixture; the parity test checks the two lists cover the real seam.
 */
export const REAL_FILE_FUNCTIONS = [
  'Test-SpawnGuardFile',
  'Test-SpawnGuardDirectory',
  'Get-SpawnGuardFileLength',
  'Open-SpawnGuardFileForRead',
  'Get-SpawnGuardChildFile',
  'New-SpawnGuardDirectory',
  'Move-SpawnGuardFile',
  'Copy-SpawnGuardFile',
  'Remove-SpawnGuardFile',
  'Read-SpawnGuardTextFile',
  'Write-SpawnGuardTextFile',
  'Update-SpawnGuardFileFrom',
  'Get-SpawnGuardVersionInfo',
  'Test-SpawnGuardReparsePoint',
  'Get-SpawnGuardLongPath',
  'Read-SpawnGuardStandardInput',
] as const;

/** The world and log files, beside the fake Platform.ps1 in the temporary copy (not pinned: .json/.log). */
export const WORLD_FILE = join('SpawnGuard.Safety', 'fake-windows.json');
export const LOG_FILE = join('SpawnGuard.Safety', 'fake-windows.log');

export interface FakeProcess {
  pid: number;
  ppid: number;
  name: string;
  path?: string | null;
  commandLine?: string | null;
  /** ISO-8601 creation time. */
  created: string;
  sessionId?: number;
  owner?: { user: string; domain?: string };
  /** The fake Stop-SpawnGuardVerifiedProcess starts a real `sleep` child, logs 'hang', then sleeps 300 s. */
  hangOnStop?: boolean;
  stopError?: 'access-denied';
}

export interface FakeSession {
  id: number;
  station: string;
  /** WTS_CONNECTSTATE_CLASS: 0 active, 4 disconnected, ... */
  state: number;
  user?: string | null;
  domain?: string | null;
  /** 0 console, 2 RDP. */
  protocol: number;
  clientAddress?: string | null;
  /** Win32 error WTSLogoffSession returns for this session. */
  logoffError?: number;
}

export interface FakeTask {
  /** Task folder, e.g. "\\" or "\\Microsoft\\Windows\\". */
  path: string;
  name: string;
  userId?: string;
  actions: ({ execute: string; arguments?: string } | { classId: string })[];
}

export interface FakeSignature {
  /** Authenticode status as Get-AuthenticodeSignature names it: Valid, NotSigned, HashMismatch, NotTrusted, ... */
  status: string;
  subject?: string;
  isOsBinary?: boolean;
  /** Reading the signature throws. */
  throws?: boolean;
}

export interface World {
  /** Windows environment of the script (SystemRoot, ProgramData, ...). */
  environment: Record<string, string>;
  /** The session the host worker runs in. */
  currentSessionId: number;
  consoleSessionId: number;
  processes: FakeProcess[];
  sessions: FakeSession[];
  /** Full key name (HKEY_LOCAL_MACHINE\...) → value name → string, or string[] for a multi-string. */
  registry: Record<string, Record<string, string | string[]>>;
  /** SID → DOMAIN\name. */
  accounts: Record<string, string>;
  /** Windows path → Authenticode signature (default: NotSigned). */
  signatures: Record<string, FakeSignature>;
  /** Windows path → DACL in SDDL (default: inherited Users read). */
  sddl: Record<string, string>;
  scheduledTasks: FakeTask[];
  scheduledTaskCmdletMissing: boolean;
  /** .lnk path → target. */
  shortcuts: Record<string, { target: string; arguments?: string }>;
  /** root\subscription class → instances (CommandLineEventConsumer, ActiveScriptEventConsumer). */
  wmi: Record<string, Record<string, string | null>[]>;
  /** Seam functions that write to stderr and Write-Warning (silenced by the module's preference). */
  stderrNoiseIn: string[];
  /** Seam functions that force a warning past the preference (it reaches stdout). */
  stdoutWarningIn: string[];
}

export type LogEntry = { action: string; at: string; scriptPid: number } & Record<string, unknown>;

export interface FakeWindows {
  /** The temporary folder: powershell/ (the scripts copy) and fs/ (the files of the fake C: drive). */
  root: string;
  scriptsDirectory: string;
  filesRoot: string;
  /** The manifest of the temporary copy (with the fake Platform.ps1). */
  manifest: ScriptManifest;
  /** Empties fs/ and the log, and writes a world (defaults for whatever is not given). */
  reset(world?: Partial<World>): void;
  /** What the scripts did, in order. */
  log(): LogEntry[];
  logged(action: string): LogEntry[];
  nativePath(windowsPath: string): string;
  writeFile(windowsPath: string, content: Buffer | string): void;
  readFile(windowsPath: string): Buffer;
  exists(windowsPath: string): boolean;
  remove(): void;
}

export const DEFAULT_WORLD: World = {
  environment: {
    SystemRoot: 'C:\\Windows',
    windir: 'C:\\Windows',
    ProgramData: 'C:\\ProgramData',
    ProgramFiles: 'C:\\Program Files',
    SystemDrive: 'C:',
  },
  currentSessionId: 0,
  consoleSessionId: 1,
  processes: [],
  sessions: [],
  registry: {},
  accounts: {},
  signatures: {},
  sddl: {},
  scheduledTasks: [],
  scheduledTaskCmdletMissing: false,
  shortcuts: {},
  wmi: {},
  stderrNoiseIn: [],
  stdoutWarningIn: [],
};

/** The absolute path of pwsh, or an error that says how to get it (the suite must not skip silently). */
export function requirePwsh(): string {
  const pwsh = findPwsh();
  if (!pwsh) {
    throw new Error(
      'PowerShell 7 (pwsh) is not installed: these tests run the real host scripts with it. ' +
        'Run `bash scripts/install-powershell.sh`, then run the tests again.',
    );
  }
  return pwsh;
}

/** Top-level functions of a PowerShell source, with their exact text. */
export async function parseFunctions(source: string): Promise<(FunctionInfo & { text: string })[]> {
  const tree = await parsePowerShell(source);
  const bytes = Buffer.from(source, 'utf8');
  // tree-sitter positions are UTF-8 byte offsets.
  return functionInfos(tree.rootNode).map((fn) => ({
    ...fn,
    text: bytes.subarray(fn.node.startIndex, fn.node.endIndex).toString('utf8'),
  }));
}

/** The fake Platform.ps1 as installed: the fixture with the real file functions copied in at the marker. */
export async function fakePlatformSource(): Promise<string> {
  const fixture = readFileSync(FAKE_PLATFORM_FILE, 'utf8');
  if (!fixture.includes(REAL_FUNCTIONS_MARKER)) throw new Error(`${FAKE_PLATFORM_FILE} lost its marker`);
  const real = await parseFunctions(readFileSync(REAL_PLATFORM_FILE, 'utf8'));
  const copied = REAL_FILE_FUNCTIONS.map((name) => {
    const fn = real.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!fn) throw new Error(`The real Platform.ps1 has no ${name} to copy into the fake`);
    return fn.text;
  });
  return fixture.replace(REAL_FUNCTIONS_MARKER, `${REAL_FUNCTIONS_MARKER}\n\n${copied.join('\n\n')}`);
}

/** Where a Windows path lives under `filesRoot` (the same mapping as the fake ConvertTo-SpawnGuardNativePath). */
export function nativePathUnder(filesRoot: string, windowsPath: string): string {
  const match = /^([A-Za-z]):(\\.*)?$/.exec(windowsPath);
  if (!match) throw new Error(`Not a local Windows path: ${windowsPath}`);
  const rest = (match[2] ?? '').replace(/^\\+|\\+$/g, '');
  return [filesRoot, match[1]!.toUpperCase(), ...(rest ? rest.split('\\') : [])].join('/');
}

export async function createFakeWindows(): Promise<FakeWindows> {
  const root = mkdtempSync(join(tmpdir(), 'spawnguard-fake-windows-'));
  const scriptsDirectory = join(root, 'powershell');
  const filesRoot = join(root, 'fs');
  cpSync(REAL_SCRIPTS_DIRECTORY, scriptsDirectory, {
    recursive: true,
    filter: (source) => relative(REAL_SCRIPTS_DIRECTORY, source).split(sep)[0] !== 'tests',
  });
  writeFileSync(join(scriptsDirectory, 'SpawnGuard.Safety', 'Platform.ps1'), await fakePlatformSource());
  const manifest = await writeManifest(scriptsDirectory);

  const logFile = join(scriptsDirectory, LOG_FILE);
  const fake: FakeWindows = {
    root,
    scriptsDirectory,
    filesRoot,
    manifest,
    reset(world = {}) {
      rmSync(filesRoot, { recursive: true, force: true });
      mkdirSync(filesRoot, { recursive: true });
      rmSync(logFile, { force: true });
      const document = { ...DEFAULT_WORLD, ...world, filesRoot };
      writeFileSync(join(scriptsDirectory, WORLD_FILE), JSON.stringify(document, null, 2));
    },
    log() {
      if (!existsSync(logFile)) return [];
      return readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as LogEntry);
    },
    logged: (action) => fake.log().filter((entry) => entry.action === action),
    nativePath: (windowsPath) => nativePathUnder(filesRoot, windowsPath),
    writeFile(windowsPath, content) {
      const file = fake.nativePath(windowsPath);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    },
    readFile: (windowsPath) => readFileSync(fake.nativePath(windowsPath)),
    exists: (windowsPath) => existsSync(fake.nativePath(windowsPath)),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  fake.reset();
  return fake;
}
