/**
 * `spawnguard restore <incident> [--file <sha256>…|--entry <p1>…|--all]`: undo an incident's
 * quarantine and persistence removals (a false positive found after remediation) through its own
 * durable workflow, `<incident>.restore-<n>`; validated on the host and reported by email.
 */
import type { Command } from 'commander';
import { RestoreInputSchema, RestoreStatusSchema, type RestoreStatus } from '../../common/restore';
import { policyFromEnvironment } from '../ingest/policy';
import { CliError, EXIT } from '../cli-errors';
import { formatTable, loadCliConfig, printJson, withTemporal } from '../ingest/cli-support';
import { restoreStatus, startRestore } from '../ingest/incidents';

interface Options {
  analyst: string;
  comment?: string;
  file?: string[];
  entry?: string[];
  all?: boolean;
  wait: boolean;
  json?: boolean;
}

const HELP_AFTER = `
Puts back, on the incident's host, the files the incident quarantined (copied back to their
original path with their original permissions, hash checked) and the persistence entries it
removed on an analyst's approval (from the backups made before removal). A file whose original
path is occupied by another file is refused, never overwritten. Each restore is its own workflow
(<incident>.restore-<n>) in the Temporal UI, records who asked, is validated on the host and is
reported by email. Waits for the result unless --no-wait.

Examples:
  $ spawnguard restore <incident> --all --analyst alice --comment "IT's tool, confirmed"
  $ spawnguard restore <incident> --file 8349…3473 --analyst alice
  $ spawnguard restore <incident> --entry p1 --analyst alice --no-wait

Exit codes: 0 restored, 1 not everything was restored (see each action), 2 usage, 3 no such
incident, 4 Temporal unreachable.`;

const collect = (value: string, all: string[] = []) => [...all, value];

export function register(program: Command): void {
  program
    .command('restore')
    .description("undo an incident's quarantine and persistence removals (validated on the host, reported)")
    .argument('<workflowId>', 'the incident workflow id')
    .requiredOption('--analyst <name>', 'who asks (recorded with the restore)')
    .option('--file <sha256>', 'a quarantined file by SHA-256; repeat for several', collect)
    .option('--entry <id>', 'a removed persistence entry (p1, p2, …); repeat for several', collect)
    .option('--all', 'every file the incident quarantined and every entry it removed')
    .option('--comment <text>', 'why (recorded with the restore)')
    .option('--no-wait', 'start the restore and print its workflow id without waiting for it')
    .option('--json', 'print the restore status as JSON')
    .addHelpText('after', HELP_AFTER)
    .action(async (workflowId: string, options: Options) => {
      if (options.all && (options.file || options.entry)) {
        throw new CliError('give --all, or --file/--entry, not both', EXIT.usage);
      }
      if (!options.all && !options.file && !options.entry) {
        throw new CliError('name what to restore: --all, --file <sha256> or --entry <p1>', EXIT.usage);
      }
      const parsed = RestoreInputSchema.safeParse({
        incidentId: workflowId,
        ...(options.all ? { files: 'all', persistence: 'all' } : {}),
        ...(options.file ? { files: options.file } : {}),
        ...(options.entry ? { persistence: options.entry } : {}),
        analyst: options.analyst,
        ...(options.comment ? { comment: options.comment } : {}),
        // The configuration new incidents get: host queue naming and timeouts, for reaching the host.
        policy: policyFromEnvironment(loadCliConfig().env),
      });
      if (!parsed.success) {
        const flag = (path: PropertyKey | undefined) =>
          path === 'files' ? '--file' : path === 'persistence' ? '--entry' : `--${String(path ?? 'restore')}`;
        throw new CliError(parsed.error.issues.map((i) => `${flag(i.path[0])}: ${i.message}`).join('; '), EXIT.usage);
      }
      const result = await withTemporal(async (client) => {
        // An unknown incident is said at once (exit 3), before any workflow starts.
        const restore = await startRestore(client, parsed.data);
        if (!options.wait) return { restore, status: null };
        const finished = RestoreStatusSchema.safeParse(await client.workflow.getHandle(restore).result());
        return { restore, status: finished.success ? finished.data : await restoreStatus(client, restore) };
      });
      if (!result.status) {
        if (options.json) printJson({ workflowId: result.restore });
        else console.log(`Restore started: ${result.restore} (follow it in the Temporal UI).`);
        return;
      }
      if (options.json) printJson(result.status);
      else console.log(describe(result.status));
      if (result.status.outcome !== 'restored') process.exitCode = EXIT.failure;
    });
}

function describe(status: RestoreStatus): string {
  return [
    `${status.workflowId}: ${status.outcome ?? status.phase}${status.message ? ` — ${status.message}` : ''}`,
    status.actions.length > 0
      ? formatTable(
          ['ACTION', 'TARGET', 'RESULT', 'VERIFIED'],
          status.actions.map((a) => [
            a.action,
            a.target,
            `${a.status}${a.reason ? ` (${a.reason})` : ''}${a.message ? `: ${a.message}` : ''}`,
            a.validated === true ? 'yes' : a.validated === false ? 'NO' : '',
          ]),
        )
      : '  nothing was restored',
  ].join('\n');
}
