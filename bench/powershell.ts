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
import { NativeConnection, Worker } from '@temporalio/worker';
import { createHostActivities } from '../activities/host/activities';
import { countRunning, createHostControlActivities } from '../activities/host/control';
import type { LabScenario } from '../activities/lab/scenario';
import { hostControlTaskQueue, hostTaskQueue } from '../common/names';
import { EVIL, PROCESSES } from '../test/support/compromised-server';
import { createFakeWindows, requirePwsh, type World } from '../test/support/fake-windows';
import { benchAlert, dropperContent, labIncidents, type AlertDocument } from './alerts';
import { timeIncident, type RemediationContext } from './remediation';
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

// ---------- alert → validated remediation with real PowerShell on the host ----------

/** The host the PowerShell incidents name: its own queue, apart from the lab host's. */
export const POWERSHELL_HOST = 'PSHOST01';
/** Added to every PID of these incidents: above this machine's pid_max, so no fake PID is a real process. */
const PID_OFFSET = 40_000;

export interface PowerShellIncidentResult {
  /** Alert → closed, remediated, validated and reported incident, per runner (the first of each unmeasured). */
  coldMs: number[];
  warmMs: number[];
}

/** The lab scenario's machine as the fake Windows seam's world, every PID moved by PID_OFFSET. */
function worldOf(scenario: LabScenario): Partial<World> {
  const account = (owner: string | null) => {
    if (!owner) return {};
    const [domain, user] = owner.includes('\\') ? owner.split('\\') : [undefined, owner];
    return { owner: { user: user!, ...(domain ? { domain } : {}) } };
  };
  const signatures: World['signatures'] = {};
  for (const file of scenario.files) {
    if (file.signatureStatus === 'valid' && file.signer) {
      signatures[file.path] = {
        status: 'Valid',
        subject: `CN=${file.signer}, O=${file.signer}, C=US`,
        isOsBinary: /^c:\\windows\\/i.test(file.path),
      };
    } else if (file.signatureStatus === 'invalid') signatures[file.path] = { status: 'HashMismatch' };
    else if (file.signatureStatus === 'unknown') signatures[file.path] = { status: 'UnknownError', throws: true };
  }
  return {
    processes: scenario.processes
      .filter((p) => p.running)
      .map((p) => ({
        pid: p.pid + PID_OFFSET,
        ppid: p.parentPid > 0 ? p.parentPid + PID_OFFSET : 0,
        name: p.name,
        path: p.path,
        commandLine: p.commandLine,
        created: p.startTime,
        ...(p.sessionId === null ? {} : { sessionId: p.sessionId }),
        ...account(p.owner),
      })),
    sessions: scenario.sessions.map((s) => {
      const [domain, user] = s.user.includes('\\') ? s.user.split('\\') : [null, s.user];
      return {
        id: s.id,
        station: s.type === 'rdp' ? `RDP-Tcp#${s.id}` : s.type === 'console' ? 'Console' : 'Services',
        state: s.state === 'Active' ? 0 : 4,
        user: user ?? null,
        domain: domain ?? null,
        protocol: s.type === 'rdp' ? 2 : 0,
        clientAddress: s.clientAddress,
      };
    }),
    signatures,
  };
}

/**
 * Incidents on a host worker running the real activities and scripts with real PowerShell (the
 * fake Windows seam underneath), first cold then warm, `incidents` measured of each after one
 * unmeasured. The central worker, ingest service and mail catcher are section 3's.
 */
export async function timePowerShellIncidents(
  ctx: RemediationContext,
  temporalAddress: string,
  incidents: number,
  progress: (line: string) => void,
): Promise<PowerShellIncidentResult | undefined> {
  if (incidents <= 0) return undefined;
  const powershell = requirePwsh();
  const perMode = incidents + 1;
  const { scenario, alerts } = labIncidents(2 * perMode);
  const fake = await createFakeWindows();
  const connection = await NativeConnection.connect({ address: temporalAddress });
  try {
    fake.reset(worldOf(scenario));
    for (const file of scenario.files) {
      const bench = /invoice-(\d+)\.exe$/i.exec(file.path);
      fake.writeFile(file.path, bench ? dropperContent(Number(bench[1])) : `MZ ${file.path}`);
    }
    const retargeted = alerts.map((alert, i) => {
      const document = JSON.parse(alert.body) as AlertDocument;
      document.alertId = `bench-powershell-${i}`;
      document.host.hostname = POWERSHELL_HOST;
      document.parent.pid += PID_OFFSET;
      document.child.pid += PID_OFFSET;
      return benchAlert(document);
    });
    const result: PowerShellIncidentResult = { coldMs: [], warmMs: [] };
    for (const [m, mode] of (['cold', 'warm'] as const).entries()) {
      const warm =
        mode === 'warm'
          ? createWarmPool({
              scriptsDirectory: fake.scriptsDirectory,
              manifest: fake.manifest,
              powershellPath: powershell,
            })
          : undefined;
      const activities = createHostActivities({
        scriptsDirectory: fake.scriptsDirectory,
        manifest: fake.manifest,
        powershellPath: powershell,
        ...(warm ? { warm } : {}),
        workerUser: { name: 'svc-spawnguard', domain: 'CONTOSO' },
      });
      const counted = countRunning(activities);
      const worker = await Worker.create({
        connection,
        namespace: 'default',
        taskQueue: hostTaskQueue(POWERSHELL_HOST),
        activities: counted.activities,
        maxConcurrentActivityTaskExecutions: 4,
      });
      // The control queue the playbook pings before host work, as worker/host.ts runs it.
      const control = await Worker.create({
        connection,
        namespace: 'default',
        taskQueue: hostControlTaskQueue(POWERSHELL_HOST),
        activities: createHostControlActivities({ hostname: POWERSHELL_HOST }, false, counted.load),
      });
      const controlRunning = control.run();
      try {
        await worker.runUntil(async () => {
          for (const [i, alert] of retargeted.slice(m * perMode, (m + 1) * perMode).entries()) {
            const { ms } = await timeIncident(ctx, alert);
            if (i > 0) (mode === 'cold' ? result.coldMs : result.warmMs).push(ms);
            progress(`  ${mode} PowerShell incident ${i === 0 ? '(warm-up)' : i}: ${ms.toFixed(0)} ms`);
          }
        });
      } finally {
        control.shutdown();
        await controlRunning;
        await warm?.close();
      }
    }
    return result;
  } finally {
    await connection.close();
    fake.remove();
  }
}
