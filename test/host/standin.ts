/**
 * Test helpers for the host side: a temp folder of fake scripts (the real .ps1 files are not run
 * here: there is no PowerShell), a PowerShell stand-in (fixtures/powershell-standin.js) and ways to
 * read what it received.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest, type ScriptManifest } from '../../activities/host/script-manifest';
import { HOST_SCRIPTS, scriptFileName, type HostScriptName } from '../../activities/host/scripts';

export type StandInMode =
  | 'ok'
  | 'bom'
  | 'clixml'
  | 'invalid-json'
  | 'two-documents'
  | 'bad-schema'
  | 'exit1'
  | 'exit2'
  | 'exit3'
  | 'exit4'
  | 'exit5'
  | 'hang'
  | 'slow'
  | 'utf16';

export interface StandInRecord {
  pid: number;
  argv: string[];
  request: unknown;
}

export interface FakeHost {
  scriptsDirectory: string;
  powershellPath: string;
  manifest: ScriptManifest;
  /** Everything the stand-in received, one entry per run; empty when nothing was spawned. */
  records(): StandInRecord[];
  argvFileExists(): boolean;
  /** PIDs written by a hanging stand-in (itself and its grandchild), once it is running. */
  hangPids(): { pid: number; grandchildPid: number } | undefined;
  setMode(script: HostScriptName, mode: StandInMode): Promise<void>;
  remove(): void;
}

/** A scripts folder with every host script in `mode`, its manifest, and an executable stand-in. */
export async function createFakeHost(mode: StandInMode = 'ok'): Promise<FakeHost> {
  const root = mkdtempSync(join(tmpdir(), 'spawnguard-host-'));
  const scriptsDirectory = join(root, 'powershell');
  const binDirectory = join(root, 'bin');
  for (const dir of [scriptsDirectory, binDirectory]) mkdirSync(dir);
  const writeScript = (name: HostScriptName, m: StandInMode) =>
    writeFileSync(join(scriptsDirectory, scriptFileName(name)), `# fake ${name}\n# standin-mode: ${m}\n`);
  for (const name of Object.keys(HOST_SCRIPTS) as HostScriptName[]) writeScript(name, mode);
  // An executable file the runner spawns directly (shell: false), like powershell.exe: its shebang
  // names this Node binary by absolute path, so no PATH lookup or shell is involved.
  const powershellPath = join(binDirectory, 'powershell');
  const standIn = readFileSync(join(__dirname, 'fixtures', 'powershell-standin.js'), 'utf8');
  writeFileSync(powershellPath, `#!${process.execPath}\n${standIn.replace(/^#!.*\n/, '')}`);
  chmodSync(powershellPath, 0o755);

  const host: FakeHost = {
    scriptsDirectory,
    powershellPath,
    manifest: await buildManifest(scriptsDirectory),
    records() {
      const file = join(scriptsDirectory, 'argv.jsonl');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as StandInRecord);
    },
    argvFileExists: () => existsSync(join(scriptsDirectory, 'argv.jsonl')),
    hangPids() {
      const file = join(scriptsDirectory, 'hang.json');
      return existsSync(file)
        ? (JSON.parse(readFileSync(file, 'utf8')) as { pid: number; grandchildPid: number })
        : undefined;
    },
    async setMode(script, m) {
      writeScript(script, m);
      host.manifest = await buildManifest(scriptsDirectory);
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  return host;
}

/** True while `pid` is a live process (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Polls until `check` holds. Not a timing assertion: the bound only turns "never" into a clear
 * failure instead of a poll loop that outlives the test.
 */
export async function eventually(check: () => boolean, intervalMs = 50, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${limitMs / 1000}s: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
