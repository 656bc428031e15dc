/**
 * `spawnguard worker central|host`: the two worker entry points. Each worker module is loaded only
 * when its subcommand runs (the host worker pulls in the PowerShell runner, the central one the
 * workflow bundle).
 */
import type { Command } from 'commander';
import { CliError, EXIT } from '../cli-errors';

interface CentralWorkerModule {
  runCentralWorker(): Promise<void>;
}

function loadCentralWorker(): CentralWorkerModule {
  let module: Partial<CentralWorkerModule>;
  try {
    module = require('../../worker/central') as Partial<CentralWorkerModule>;
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
      (err as Error).message.includes('worker/central')
    ) {
      throw new CliError('the central worker (worker/central.ts) is not available in this build', EXIT.usage);
    }
    throw err;
  }
  if (typeof module.runCentralWorker !== 'function') {
    throw new CliError('worker/central.ts does not export runCentralWorker()', EXIT.failure);
  }
  return module as CentralWorkerModule;
}

interface HostCommandOptions {
  lab?: boolean;
  labScenario?: string;
  labState?: string;
  hostname?: string;
  scripts?: string;
}

function quietSdkLog(): void {
  (require('../../worker/connection') as typeof import('../../worker/connection')).installTemporalRuntimeLogger();
}

export function register(program: Command): void {
  const worker = program.command('worker').description('run a spawnguard worker');

  worker
    .command('central')
    .description('the central worker: workflows, enrichment and notification, on spawnguard-central')
    .action(async () => {
      quietSdkLog();
      await loadCentralWorker().runCentralWorker();
    });

  worker
    .command('host')
    .description(
      'the host worker: runs the PowerShell scripts on this Windows host, on spawnguard-host-<hostname>; ' +
        'elsewhere only with --lab (a simulated host)',
    )
    .option('--lab', 'lab mode: serve a simulated host instead of PowerShell (also SPAWNGUARD_LAB=1)')
    .option('--lab-scenario <file>', 'lab mode: the simulated host (JSON, see activities/lab/scenario.ts)')
    .option('--lab-state <file>', 'lab mode: keep the simulated host state in this file')
    .option('--hostname <name>', "poll the task queue of this host name instead of this machine's")
    .option('--scripts <dir>', 'the PowerShell scripts folder (default: powershell/ in the checkout)')
    .action(async (options: HostCommandOptions) => {
      quietSdkLog();
      const { runHostWorker } = require('../../worker/host') as typeof import('../../worker/host');
      try {
        await runHostWorker({
          ...(options.lab ? { lab: true } : {}),
          ...(options.labScenario ? { labScenarioPath: options.labScenario } : {}),
          ...(options.labState ? { labStateFile: options.labState } : {}),
          ...(options.hostname ? { hostname: options.hostname } : {}),
          ...(options.scripts ? { scriptsDirectory: options.scripts } : {}),
        });
      } catch (err) {
        // Start-up refusals (wrong platform, bad configuration, tampered scripts) are for the user, not a stack.
        if (err instanceof Error && !(err instanceof CliError)) throw new CliError(err.message, EXIT.failure);
        throw err;
      }
    });
}
