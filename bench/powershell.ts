/**
 * Section 5 of `npm run bench`: host actions with real PowerShell (pwsh), through the production
 * runner (activities/host/runner.ts) on the fake Windows seam the tests use (only the Windows-only
 * calls are fake; the scripts, the module, the files and the JSON are real).
 *
 * For each action: R runs cold (a PowerShell process per run, as before the warm runner) and R
 * runs warm (one long-lived powershell/WarmHost.ps1, a fresh runspace per run), interleaved, after
 * two unmeasured runs of each. Baselines in the same run: an empty script (same parameter, one line
 * of output) run cold — PowerShell's own start-up and exit, which a warm run does not pay — and
 * run warm — the runspace and protocol cost that a warm run still pays.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createWarmPool,
  encodeRequest,
  POWERSHELL_FLAGS,
  runScript,
  type RunnerOptions,
} from '../activities/host/runner';
import type { HostScriptName } from '../activities/host/scripts';
import { writeManifest } from '../activities/host/script-manifest';
import { createFakeWindows, requirePwsh, type FakeProcess } from '../test/support/fake-windows';
import { percentile } from './stats';

export interface ActionTiming {
  action: HostScriptName;
  coldMs: number[];
  warmMs: number[];
}

export interface HostActionResult {
  runs: number;
  powershell: string;
  actions: ActionTiming[];
  /** The empty script: cold (start-up and exit of PowerShell) and warm (runspace and protocol). */
  emptyColdMs: number[];
  emptyWarmMs: number[];
}

const EVIL = 'C:\\Users\\Public\\evil.exe';

const PROCESSES: FakeProcess[] = [
  {
    pid: 40_000,
    ppid: 39_990,
    name: 'wininit.exe',
    path: 'C:\\Windows\\System32\\wininit.exe',
    created: '2024-05-01T07:59:00Z',
  },
  {
    pid: 40_100,
    ppid: 40_000,
    name: 'explorer.exe',
    path: 'C:\\Windows\\explorer.exe',
    created: '2024-05-01T08:00:00Z',
    sessionId: 2,
    owner: { user: 'bob', domain: 'CONTOSO' },
  },
  {
    pid: 41_000,
    ppid: 40_100,
    name: 'evil.exe',
    path: EVIL,
    commandLine: `"${EVIL}" --beacon`,
    created: '2024-05-01T09:00:00Z',
    sessionId: 2,
    owner: { user: 'bob', domain: 'CONTOSO' },
  },
  {
    pid: 41_004,
    ppid: 41_000,
    name: 'cmd.exe',
    path: 'C:\\Windows\\System32\\cmd.exe',
    created: '2024-05-01T09:00:05Z',
    sessionId: 2,
    owner: { user: 'bob', domain: 'CONTOSO' },
  },
];

/** Requests that leave the fake machine as it was, so every run does the same work. */
const ACTIONS: { action: HostScriptName; request: unknown }[] = [
  { action: 'GetProcessTree', request: { processIds: [41_000, 41_004] } },
  { action: 'GetFileEnrichment', request: { paths: [EVIL, 'C:\\Windows\\System32\\cmd.exe'] } },
  // A PID no longer running (already done): the whole identity check, nothing to stop.
  { action: 'StopProcess', request: { incidentId: 'bench', targets: [{ pid: 59_999, imagePath: EVIL }] } },
  {
    action: 'TerminateSession',
    request: { incidentId: 'bench', users: [{ name: 'bob', domain: 'CONTOSO' }], listOnly: true },
  },
  { action: 'FetchPersistenceEntries', request: { incidentId: 'bench', referencePaths: [EVIL] } },
];

const EMPTY_SCRIPT = `[CmdletBinding()]
param([string]$Request)
Write-Output '{}'
exit 0
`;

/** A cold run of a script file with the runner's exact flags, timed from spawn to exit. */
function coldEmpty(powershell: string, script: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      powershell,
      [...POWERSHELL_FLAGS, '-ExecutionPolicy', 'Bypass', '-File', script, '-Request', '-'],
      {
        shell: false,
        stdio: ['pipe', 'ignore', 'ignore'],
      },
    );
    child.stdin.end(encodeRequest({}));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`empty script exited ${code}`)),
    );
  });
}

export async function measureHostActions(
  runs: number,
  progress: (line: string) => void,
): Promise<HostActionResult | undefined> {
  if (runs <= 0) return undefined;
  const powershell = requirePwsh();
  const fake = await createFakeWindows();
  try {
    fake.reset({ processes: PROCESSES });
    fake.writeFile(EVIL, 'MZ evil payload');
    writeFileSync(join(fake.scriptsDirectory, 'Empty.ps1'), EMPTY_SCRIPT);
    const manifest = await writeManifest(fake.scriptsDirectory);
    const base: RunnerOptions = {
      scriptsDirectory: fake.scriptsDirectory,
      manifest,
      powershellPath: powershell,
      timeoutMs: 120_000,
    };
    const warm = createWarmPool(base, { size: 1, maxRequests: 10_000 });
    try {
      const timed = async (fn: () => Promise<unknown>) => {
        const started = performance.now();
        await fn();
        return performance.now() - started;
      };
      const result: HostActionResult = {
        runs,
        powershell,
        actions: ACTIONS.map(({ action }) => ({ action, coldMs: [], warmMs: [] })),
        emptyColdMs: [],
        emptyWarmMs: [],
      };
      const emptyPath = join(fake.scriptsDirectory, 'Empty.ps1');
      const emptyWarm = async () => {
        const completed = await warm.run('Empty.ps1', encodeRequest({}), { timeoutMs: 60_000, signal: undefined });
        if (completed?.exitCode !== 0) throw new Error('the empty script failed on the warm host');
      };
      progress(`section 5: host actions with real PowerShell (${powershell}), ${runs} runs each, cold and warm`);
      for (let i = -2; i < runs; i++) {
        const cold = await coldEmpty(powershell, emptyPath);
        const hot = await timed(emptyWarm);
        if (i >= 0) {
          result.emptyColdMs.push(cold);
          result.emptyWarmMs.push(hot);
        }
        for (const [index, { action, request }] of ACTIONS.entries()) {
          const sides = [
            async () => timed(() => runScript(action, request, base)),
            async () => timed(() => runScript(action, request, { ...base, warm })),
          ];
          // Interleaved, each round led by the other side.
          const first = i % 2 === 0 ? 0 : 1;
          const times: number[] = [];
          times[first] = await sides[first]!();
          times[1 - first] = await sides[1 - first]!();
          if (i >= 0) {
            result.actions[index]!.coldMs.push(times[0]!);
            result.actions[index]!.warmMs.push(times[1]!);
          }
        }
        if (i >= 0 && (i + 1) % 5 === 0) progress(`  ${i + 1} of ${runs} rounds`);
      }
      for (const timing of result.actions) {
        progress(
          `  ${timing.action}: cold p50 ${percentile(timing.coldMs, 50).toFixed(0)} ms, warm p50 ${percentile(timing.warmMs, 50).toFixed(0)} ms`,
        );
      }
      return result;
    } finally {
      await warm.close();
    }
  } finally {
    fake.remove();
  }
}
