/**
 * `spawnguard` (DESIGN.md §3): one entry point, one file per command group under `./commands`.
 * Command modules only declare their commands; each loads what it needs (the Temporal worker, the
 * ingest service) when it runs, so `explain` never loads the worker and `--help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './cli-errors';

/** A command group: `register` adds its commands to the program. */
export interface CommandModule {
  register(program: Command): void;
}

const COMMAND_MODULES: Record<string, () => CommandModule> = {
  explain: () => require('./commands/explain'),
  alert: () => require('./commands/alert'),
  status: () => require('./commands/status'),
  review: () => require('./commands/review'),
  persistence: () => require('./commands/persistence'),
  restore: () => require('./commands/restore'),
  worker: () => require('./commands/worker'),
  serve: () => require('./commands/serve'),
  dev: () => require('./commands/dev'),
};

const PACKAGE_VERSION = (require('../package.json') as { version: string }).version;

export function buildProgram(): Command {
  const program = new Command('spawnguard')
    .description(
      'Automated, durable incident response for suspicious parent → child process spawning on Windows Server, on Temporal.',
    )
    .version(PACKAGE_VERSION, '-V, --version', 'print the spawnguard version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const load of Object.values(COMMAND_MODULES)) load().register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (err instanceof CliError) {
      console.error(`spawnguard: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
