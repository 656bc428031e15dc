/**
 * The warm runner (activities/host/warm-runner.ts + powershell/WarmHost.ps1) under real pwsh:
 * isolation between runs, crash, hang and cancellation recovery, the manifest checked on both
 * sides, the concurrency limit, recycling, requests as data, and the cold fallback. The host
 * scripts themselves run warm in runner-powershell.test.ts (same results as cold).
 *
 * Probe scripts stand in for host scripts here: a temporary folder holds the real WarmHost.ps1
 * and SpawnGuard.Safety module (the host imports it into every runspace) beside them, pinned by
 * that folder's own manifest.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWarmPool, RETRYABLE_SCRIPT_FAILURES, runningScriptPids, runScript } from '../../activities/host/runner';
import { buildManifest, type ScriptManifest } from '../../activities/host/script-manifest';
import { WARM_HOST_SCRIPT, type WarmPowerShellPool } from '../../activities/host/warm-runner';
import { HOST_FAILURE_TYPES } from '../../common/host-contract';
import { createFakeWindows, REAL_SCRIPTS_DIRECTORY, requirePwsh } from '../support/fake-windows';
import { eventually, isAlive } from './standin';

jest.setTimeout(120_000);

const pwsh = requirePwsh();

/** Each probe declares -Request like a host script; the request arrives as base64 of its JSON. */
const PROBES: Record<string, string> = {
  'Echo.ps1': `[CmdletBinding()]
param([string]$Request)
$json = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($Request))
Write-Output (ConvertTo-Json -Compress -InputObject @{ request = $json; pid = $PID })
exit 0
`,
  'SetState.ps1': `[CmdletBinding()]
param([string]$Request)
$global:Marker = 'left behind'
Set-Variable -Name 'ScriptMarker' -Value 'left behind' -Scope Script
function Global:Invoke-LeftBehind { 'left behind' }
Write-Output '{"set":true}'
exit 3
`,
  'ReadState.ps1': `[CmdletBinding()]
param([string]$Request)
$seen = @{
  marker = [bool](Get-Variable -Name 'Marker' -Scope Global -ErrorAction SilentlyContinue)
  function = [bool](Get-Command -Name 'Invoke-LeftBehind' -ErrorAction SilentlyContinue)
  lastExitCode = [string]$global:LASTEXITCODE
  module = [bool](Get-Command -Name 'Test-SpawnGuardRemotePath' -ErrorAction SilentlyContinue)
}
Write-Output (ConvertTo-Json -Compress -InputObject $seen)
exit 0
`,
  'Crash.ps1': `[CmdletBinding()]
param([string]$Request)
[System.Environment]::Exit(7)
`,
  'Hang.ps1': `[CmdletBinding()]
param([string]$Request)
$child = [System.Diagnostics.Process]::Start('sleep', '300')
Write-Output ('{"child":' + $child.Id + '}')
Start-Sleep -Seconds 300
`,
  'Noisy.ps1': `[CmdletBinding()]
param([string]$Request)
[Console]::Out.WriteLine('SPAWNGUARD-WARM not from the host')
[Console]::Out.WriteLine('plain noise on the console')
Write-Error -Message 'an error record' -ErrorAction Continue
Write-Output '{"fine":true}'
exit 0
`,
};

let root: string;
let scriptsDirectory: string;
let manifest: ScriptManifest;
const pools: WarmPowerShellPool[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'spawnguard-warm-'));
  scriptsDirectory = join(root, 'powershell');
  mkdirSync(scriptsDirectory);
  cpSync(join(REAL_SCRIPTS_DIRECTORY, WARM_HOST_SCRIPT), join(scriptsDirectory, WARM_HOST_SCRIPT));
  cpSync(join(REAL_SCRIPTS_DIRECTORY, 'SpawnGuard.Safety'), join(scriptsDirectory, 'SpawnGuard.Safety'), {
    recursive: true,
  });
  for (const [name, text] of Object.entries(PROBES)) writeFileSync(join(scriptsDirectory, name), text);
  manifest = await buildManifest(scriptsDirectory);
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pool(options: Parameters<typeof createWarmPool>[1] = {}, directory = scriptsDirectory, pinned = manifest) {
  const created = createWarmPool({ scriptsDirectory: directory, manifest: pinned, powershellPath: pwsh }, options);
  pools.push(created);
  return created;
}

/** PIDs whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The `sleep` a Hang.ps1 probe started somewhere under `pid` (the pwsh tool shim runs PowerShell as its child). */
function sleepUnder(pid: number): number | undefined {
  for (const child of childrenOf(pid)) {
    try {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').startsWith('sleep\u0000')) return child;
    } catch {
      continue; // gone meanwhile
    }
    const deeper = sleepUnder(child);
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}

const request = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const run = (p: WarmPowerShellPool, script: string, value: unknown = {}, timeoutMs = 60_000, signal?: AbortSignal) =>
  p.run(script, request(value), { timeoutMs, signal });
const json = (stdout: Buffer | undefined) => JSON.parse(stdout?.toString('utf8') ?? 'null') as Record<string, unknown>;

describe('the warm runner', () => {
  it('runs each request in a runspace of its own: nothing one script defines is seen by the next', async () => {
    const warm = pool({ size: 1 });
    const set = await run(warm, 'SetState.ps1');
    expect(set).toMatchObject({ exitCode: 3 });
    expect(json(set?.stdout)).toEqual({ set: true });
    const read = await run(warm, 'ReadState.ps1');
    expect(read?.pid).toBe(set?.pid); // the same process…
    expect(json(read?.stdout)).toEqual({ marker: false, function: false, lastExitCode: '', module: true }); // …a clean runspace
  });

  it('passes the request as data: quotes, $(…), backticks, newlines and NUL reach the script byte for byte', async () => {
    const marker = join(root, 'MARKER');
    const hostile = `"; $(New-Item -ItemType File -Path '${marker}') \`whoami\` '; exit 9; '\nline\r\n\u0000 ünïcødé ✓`;
    const result = await run(pool(), 'Echo.ps1', { text: hostile });
    expect(result?.exitCode).toBe(0);
    expect(JSON.parse(String(json(result?.stdout).request))).toEqual({ text: hostile });
    expect(existsSync(marker)).toBe(false);
  });

  it("a script's own console writes join its stdout, as in a process of its own, and never pass for a response", async () => {
    const warm = pool({ size: 1 });
    const result = await run(warm, 'Noisy.ps1');
    expect(result?.exitCode).toBe(0);
    expect(result?.stdout.toString('utf8')).toBe(
      'SPAWNGUARD-WARM not from the host\nplain noise on the console\n{"fine":true}',
    );
    expect(result?.stderr).toContain('an error record');
    const next = await run(warm, 'Echo.ps1');
    expect(next).toMatchObject({ exitCode: 0, pid: result?.pid });
  });

  it('a script that kills its host fails that run only (retryable); the next run gets a new host', async () => {
    const warm = pool({ size: 1 });
    const first = await run(warm, 'Echo.ps1');
    const crashed = await run(warm, 'Crash.ps1');
    expect(crashed).toMatchObject({ exitCode: 7, stdout: Buffer.alloc(0) });
    await eventually(() => !isAlive(first!.pid));
    const after = await run(warm, 'Echo.ps1');
    expect(after?.exitCode).toBe(0);
    expect(after?.pid).not.toBe(first?.pid);
  });

  it('a hung script is killed with its whole process tree at the timeout; other runs go on', async () => {
    const warm = pool({ size: 2 });
    await warm.prestart(2); // the time limit also counts waiting for a host to start
    const hung = run(warm, 'Hang.ps1', {}, 3_000);
    const other = await run(warm, 'Echo.ps1', { n: 1 });
    expect(other?.exitCode).toBe(0);
    const result = await hung;
    expect(result?.outcome).toBe('timeout');
    expect(result?.pid).not.toBe(other?.pid);
    await eventually(() => !isAlive(result!.pid));
    expect(runningScriptPids()).not.toContain(result!.pid);
    expect((await run(warm, 'Echo.ps1'))?.exitCode).toBe(0);
  });

  it('cancellation kills the run at once, with its process tree; a run cancelled before it was sent starts nothing', async () => {
    const warm = pool({ size: 1 });
    const early = new AbortController();
    early.abort();
    expect((await run(warm, 'Echo.ps1', {}, 60_000, early.signal))?.outcome).toBe('cancelled');

    expect(warm.pids()).toEqual([]); // nothing was started for it

    const controller = new AbortController();
    const hung = run(warm, 'Hang.ps1', {}, 60_000, controller.signal);
    await eventually(() => warm.pids().length === 1);
    const hostPid = warm.pids()[0]!;
    expect(runningScriptPids()).toContain(hostPid); // never a remediation target while it lives
    // The probe is running once its `sleep` exists.
    await eventually(() => sleepUnder(hostPid) !== undefined);
    const sleeper = sleepUnder(hostPid)!;
    controller.abort();
    expect((await hung)?.outcome).toBe('cancelled');
    await eventually(() => !isAlive(hostPid) && !isAlive(sleeper));
  });

  it('a run waiting for a busy host gives up at its own time limit, or at once when cancelled', async () => {
    const warm = pool({ size: 1 });
    const stopHang = new AbortController();
    const hung = run(warm, 'Hang.ps1', {}, 120_000, stopHang.signal);
    await eventually(() => warm.pids().length === 1 && sleepUnder(warm.pids()[0]!) !== undefined);
    const queued = await run(warm, 'Echo.ps1', {}, 1_500);
    expect(queued).toMatchObject({ outcome: 'timeout', stdout: Buffer.alloc(0) });
    const cancel = new AbortController();
    const waiting = run(warm, 'Echo.ps1', {}, 120_000, cancel.signal);
    setTimeout(() => cancel.abort(), 500);
    expect((await waiting)?.outcome).toBe('cancelled');
    stopHang.abort();
    expect((await hung)?.outcome).toBe('cancelled');
    // The host that gave up on them is free again for the next run.
    expect((await run(warm, 'Echo.ps1'))?.exitCode).toBe(0);
  });

  it('runs at most `size` scripts at once and queues the rest', async () => {
    const warm = pool({ size: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => run(warm, 'Echo.ps1', { n })));
    expect(results.map((r) => r?.exitCode)).toEqual([0, 0, 0, 0, 0]);
    expect(results.map((r) => JSON.parse(String(json(r?.stdout).request)).n)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(results.map((r) => r?.pid)).size).toBeLessThanOrEqual(2);
  });

  it('prestart makes a host ready before any run, and the first run uses it', async () => {
    const warm = pool({ size: 2 });
    await warm.prestart(1);
    expect(warm.pids()).toHaveLength(1);
    const [ready] = warm.pids();
    expect((await run(warm, 'Echo.ps1'))?.pid).toBe(ready);
    expect(warm.pids()).toEqual([ready]);
  });

  it('recycles a host after maxRequests runs', async () => {
    const warm = pool({ size: 1, maxRequests: 2 });
    const pids: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) pids.push((await run(warm, 'Echo.ps1'))?.pid);
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).not.toBe(pids[0]);
    await eventually(() => !isAlive(pids[0]!));
  });

  it('the host hashes the script again and refuses one that differs from the hash it was sent', async () => {
    const forged = { ...manifest, files: { ...manifest.files, 'Echo.ps1': 'a'.repeat(64) } };
    const result = await run(pool({}, scriptsDirectory, forged), 'Echo.ps1');
    expect(result?.refused).toMatchObject({ code: 'script-tampered' });
  });

  it('never starts a WarmHost.ps1 that differs from the manifest: runs go cold instead', async () => {
    const copy = join(root, 'tampered');
    cpSync(scriptsDirectory, copy, { recursive: true });
    const pinned = await buildManifest(copy);
    appendFileSync(join(copy, WARM_HOST_SCRIPT), '\n# one more line\n');
    const warm = pool({}, copy, pinned);
    expect(await run(warm, 'Echo.ps1')).toBeUndefined();
    expect(warm.pids()).toEqual([]);
  });
});

describe('runScript with a warm pool', () => {
  it('falls back to a cold run when no warm host can start, with the same result', async () => {
    const fake = await createFakeWindows();
    try {
      const broken = createWarmPool(
        { scriptsDirectory: fake.scriptsDirectory, manifest: fake.manifest, powershellPath: '/nonexistent/pwsh' },
        { log: () => undefined },
      );
      pools.push(broken);
      const options = { scriptsDirectory: fake.scriptsDirectory, manifest: fake.manifest, powershellPath: pwsh };
      const cold = await runScript('GetProcessTree', { processIds: [59_999] }, options);
      const fallback = await runScript('GetProcessTree', { processIds: [59_999] }, { ...options, warm: broken });
      expect(fallback.results).toEqual(cold.results);
      expect(broken.pids()).toEqual([]);
    } finally {
      fake.remove();
    }
  });

  it('a run sees the machine as it is when it runs, not as it was when its runspace was prepared', async () => {
    const fake = await createFakeWindows();
    try {
      const process = (pid: number) => ({
        pid,
        ppid: 1,
        name: `p${pid}.exe`,
        path: `C:\\Users\\Public\\p${pid}.exe`,
        created: '2024-05-01T09:00:00Z',
      });
      fake.reset({ processes: [process(41_000)] });
      const warm = createWarmPool(
        { scriptsDirectory: fake.scriptsDirectory, manifest: fake.manifest, powershellPath: pwsh },
        { size: 1 },
      );
      pools.push(warm);
      const options = { scriptsDirectory: fake.scriptsDirectory, manifest: fake.manifest, powershellPath: pwsh, warm };
      const before = await runScript('GetProcessTree', { processIds: [41_000, 42_000] }, options);
      expect(before.results.map((r) => r.found)).toEqual([true, false]);
      // The host opens (and imports the module into) the next runspace right after answering.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      fake.reset({ processes: [process(42_000)] });
      const after = await runScript('GetProcessTree', { processIds: [41_000, 42_000] }, options);
      expect(after.results.map((r) => r.found)).toEqual([false, true]);
    } finally {
      fake.remove();
    }
  });

  it('maps a killed warm run like a killed cold one: retryable ScriptTimedOut', async () => {
    const fake = await createFakeWindows();
    try {
      fake.reset({
        processes: [
          {
            pid: 41_000,
            ppid: 1,
            name: 'evil.exe',
            path: 'C:\\Users\\Public\\evil.exe',
            created: '2024-05-01T09:00:00Z',
            hangOnStop: true,
          },
        ],
      });
      const warm = createWarmPool({
        scriptsDirectory: fake.scriptsDirectory,
        manifest: fake.manifest,
        powershellPath: pwsh,
      });
      pools.push(warm);
      const error = await runScript(
        'StopProcess',
        { incidentId: 'i-1', targets: [{ pid: 41_000, imagePath: 'C:\\Users\\Public\\evil.exe' }] },
        {
          scriptsDirectory: fake.scriptsDirectory,
          manifest: fake.manifest,
          powershellPath: pwsh,
          timeoutMs: 8_000,
          warm,
        },
      ).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect((error as ApplicationFailure).type).toBe(RETRYABLE_SCRIPT_FAILURES.timedOut);
      expect((error as ApplicationFailure).nonRetryable).toBe(false);
      const child = fake.logged('hang')[0]?.childPid as number;
      await eventually(() => !isAlive(child));
    } finally {
      fake.remove();
    }
  });

  it('a script changed after the manifest is refused before anything is sent: ScriptTampered', async () => {
    const fake = await createFakeWindows();
    try {
      const warm = createWarmPool({
        scriptsDirectory: fake.scriptsDirectory,
        manifest: fake.manifest,
        powershellPath: pwsh,
      });
      pools.push(warm);
      appendFileSync(join(fake.scriptsDirectory, 'GetProcessTree.ps1'), '\n# edited on the host\n');
      const error = await runScript(
        'GetProcessTree',
        { processIds: [1] },
        { scriptsDirectory: fake.scriptsDirectory, manifest: fake.manifest, powershellPath: pwsh, warm },
      ).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((error as ApplicationFailure).type).toBe(HOST_FAILURE_TYPES.scriptTampered);
      expect(warm.pids()).toEqual([]); // nothing was started for it
    } finally {
      fake.remove();
    }
  });
});
