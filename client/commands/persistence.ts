/**
 * `spawnguard persistence remove|keep <incident>`: the analyst's answer to the persistence entries
 * an incident proposes for removal after remediation (each backed up on the host first, and put
 * back by `spawnguard restore`).
 */
import type { Command } from 'commander';
import { reviewerText, type PersistenceRemoval } from '../../common/incident-status';
import { PersistenceReviewSchema } from '../../common/playbook';
import { CliError, EXIT } from '../cli-errors';
import { formatTable, printJson, withTemporal } from '../ingest/cli-support';
import { reviewPersistence } from '../ingest/incidents';

interface Options {
  analyst?: string;
  comment?: string;
  entry?: string[];
  json?: boolean;
}

const HELP_AFTER = `
An incident that quarantined or stopped an offender lists the autostart entries that reference it
(Run keys, scheduled tasks, startup files, services, WMI subscriptions) as proposals p1, p2, … in
its status and report. Nothing is removed until you approve: each removal is backed up on the host
first (registry value, task XML, service start type, WMI instance, the startup file moved to
quarantine), verified gone afterwards, and can be put back with spawnguard restore.

Examples:
  $ spawnguard status <incident>                                   # the proposals and their ids
  $ spawnguard persistence remove <incident> --analyst alice       # every entry still proposed
  $ spawnguard persistence remove <incident> --analyst alice --entry p1 --entry p3
  $ spawnguard persistence keep <incident> --analyst alice --comment "IT's updater"

Exit codes: 0 recorded, 1 refused (nothing pending, an entry already decided), 2 usage,
3 no such incident, 4 Temporal unreachable.`;

function describe(removal: PersistenceRemoval): string {
  return formatTable(
    ['ID', 'KIND', 'ENTRY', 'STATE', 'DECIDED BY'],
    removal.proposals.map((p) => [
      p.id,
      p.kind,
      `${p.location} ${p.name}`,
      p.state,
      p.decidedBy ? reviewerText({ analyst: p.decidedBy.analyst, identity: p.decidedBy.identity ?? null }) : '',
    ]),
  );
}

function registerDecision(group: Command, decision: 'remove' | 'keep'): void {
  group
    .command(decision)
    .description(
      decision === 'remove'
        ? 'approve removal of proposed persistence entries (backed up on the host first)'
        : 'leave proposed persistence entries in place',
    )
    .argument('<workflowId>', 'the incident workflow id')
    .requiredOption('--analyst <name>', 'who decides (recorded with the decision)')
    .option(
      '--entry <id>',
      'a proposal id (p1, p2, …); repeat for several; default every one still proposed',
      (v, all: string[] = []) => [...all, v],
    )
    .option('--comment <text>', 'why (recorded with the decision)')
    .option('--json', 'print the persistence removal state as JSON')
    .addHelpText('after', HELP_AFTER)
    .action(async (workflowId: string, options: Options) => {
      const parsed = PersistenceReviewSchema.safeParse({
        decision,
        analyst: options.analyst,
        ...(options.entry ? { entries: options.entry } : {}),
        ...(options.comment ? { comment: options.comment } : {}),
      });
      if (!parsed.success) {
        throw new CliError(
          parsed.error.issues
            .map((i) => `${i.path[0] === 'entries' ? '--entry' : `--${String(i.path[0])}`}: ${i.message}`)
            .join('; '),
          EXIT.usage,
        );
      }
      const removal = await withTemporal((client) => reviewPersistence(client, workflowId, parsed.data));
      if (options.json) {
        printJson(removal);
        return;
      }
      const named = options.entry?.join(', ') ?? 'every proposed entry';
      console.log(
        decision === 'remove'
          ? `Approved removal of ${named} on ${workflowId}: the host backs each up, removes it and verifies (see spawnguard status).`
          : `Kept ${named} on ${workflowId}.`,
      );
      console.log(describe(removal));
    });
}

export function register(program: Command): void {
  const group = program
    .command('persistence')
    .description('persistence entries an incident proposes for removal: remove (on your approval) or keep');
  registerDecision(group, 'remove');
  registerDecision(group, 'keep');
}
