/** `spawnguard review list|approve|reject`: the analyst's side of a suspicious incident. */
import type { Command } from 'commander';
import { ReviewUpdateSchema } from '../../common/playbook';
import { CliError, EXIT } from '../cli';
import { formatTable, printJson, withTemporal } from '../ingest/cli-support';
import { pendingReviews, reviewIncident } from '../ingest/incidents';

interface DecisionOptions {
  analyst: string;
  comment?: string;
  json?: boolean;
}

function registerDecision(review: Command, decision: 'approve' | 'reject'): void {
  review
    .command(decision)
    .description(
      decision === 'approve'
        ? 'approve the planned remediation of a pending incident'
        : 'reject a pending incident as a false positive (no host action)',
    )
    .argument('<workflowId>', 'the incident workflow id (see review list)')
    .requiredOption('--analyst <name>', 'who decides (recorded in the incident and the report)')
    .option('--comment <text>', 'why (recorded with the decision)')
    .option('--json', 'print the review state as JSON')
    .action(async (workflowId: string, options: DecisionOptions) => {
      const parsed = ReviewUpdateSchema.safeParse({
        decision,
        analyst: options.analyst,
        ...(options.comment ? { comment: options.comment } : {}),
      });
      if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join('; '), EXIT.usage);
      const state = await withTemporal((client) => reviewIncident(client, workflowId, parsed.data));
      if (options.json) printJson(state);
      else
        console.log(
          `${decision === 'approve' ? 'Approved' : 'Rejected'} ${workflowId} as ${state.analyst ?? parsed.data.analyst}.`,
        );
    });
}

export function register(program: Command): void {
  const review = program.command('review').description('incidents waiting for an analyst: list, approve, reject');

  review
    .command('list')
    .description('list incidents waiting for an analyst (visibility query ReviewStatus = "pending")')
    .option('--limit <n>', 'at most this many', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new CliError('--limit must be a whole number from 1 to 1000', EXIT.usage);
      return n;
    })
    .option('--json', 'print the list as JSON')
    .action(async (options: { limit?: number; json?: boolean }) => {
      const reviews = await withTemporal((client) =>
        pendingReviews(client, options.limit ? { limit: options.limit } : {}),
      );
      if (options.json) {
        printJson(reviews);
        return;
      }
      if (reviews.length === 0) {
        console.log('No incident is waiting for an analyst.');
        return;
      }
      console.log(
        formatTable(
          ['WORKFLOW ID', 'HOST', 'PARENT → CHILD', 'VERDICT', 'SCORE', 'WAITING SINCE'],
          reviews.map((r) => [
            r.workflowId,
            r.hostname ?? r.status?.alert.host.hostname ?? '?',
            `${r.parentProcessName ?? '?'} → ${r.processName ?? '?'}`,
            r.status?.decision?.verdict ?? r.verdict ?? '?',
            String(r.status?.decision?.score ?? r.riskScore ?? '?'),
            r.status?.review.requestedAt ?? r.startTime,
          ]),
        ),
      );
    });

  registerDecision(review, 'approve');
  registerDecision(review, 'reject');
}
