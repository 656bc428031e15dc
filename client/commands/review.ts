/** `spawnguard review list|approve|reject`: the analyst's side of a suspicious incident. */
import type { Command } from 'commander';
import { z } from 'zod';
import { ReviewStateSchema, reviewerText, type ReviewState } from '../../common/incident-status';
import { ReviewUpdateSchema } from '../../common/playbook';
import { CliError, EXIT } from '../cli-errors';
import { formatTable, printJson, withTemporal } from '../ingest/cli-support';
import { pendingReviews, reviewIncident } from '../ingest/incidents';

interface DecisionOptions {
  analyst?: string;
  comment?: string;
  json?: boolean;
  api?: string;
}

const ApiSchema = z.object({
  url: z.url({
    message: "--api (or SPAWNGUARD_API_URL) must be the ingest service's URL, e.g. https://spawnguard.example.com",
  }),
  token: z
    .string({ message: 'SPAWNGUARD_ANALYST_TOKEN must hold your access token from the identity provider' })
    .trim()
    .min(1, 'SPAWNGUARD_ANALYST_TOKEN must hold your access token from the identity provider'),
});

/**
 * With sign-in, a decision goes through the ingest service's review API under the analyst's own
 * access token: the service records who the identity provider says they are. Answers become exit
 * codes as the direct path's: 1 refused, 3 no such incident, 4 unreachable.
 */
async function decideThroughApi(
  api: z.infer<typeof ApiSchema>,
  workflowId: string,
  body: { decision: 'approve' | 'reject'; comment?: string },
): Promise<ReviewState> {
  const url = `${api.url.replace(/\/+$/, '')}/v1/incidents/${encodeURIComponent(workflowId)}/review`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CliError(`cannot reach the review API at ${api.url}: ${(err as Error).message}`, EXIT.unavailable);
  }
  const answer = (await response.json().catch(() => ({}))) as { message?: string };
  if (response.ok) return ReviewStateSchema.parse(answer);
  const message = answer.message ?? `HTTP ${response.status}`;
  switch (response.status) {
    case 401:
      throw new CliError(
        'the review API refused SPAWNGUARD_ANALYST_TOKEN (expired, or not a token of its identity provider)',
      );
    case 404:
      throw new CliError(message, EXIT.notFound);
    case 503:
      throw new CliError(`the review API is unavailable: ${message}`, EXIT.unavailable);
    default:
      throw new CliError(message);
  }
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
    .option(
      '--analyst <name>',
      'who decides (recorded as typed); not taken with --api, where your sign-in says who you are',
    )
    .option('--comment <text>', 'why (recorded with the decision)')
    .option(
      '--api <url>',
      "decide through the ingest service's review API as yourself (your access token in SPAWNGUARD_ANALYST_TOKEN); default SPAWNGUARD_API_URL",
    )
    .option('--json', 'print the review state as JSON')
    .action(async (workflowId: string, options: DecisionOptions) => {
      const apiUrl = options.api ?? process.env.SPAWNGUARD_API_URL;
      let state: ReviewState;
      if (apiUrl) {
        const api = ApiSchema.safeParse({ url: apiUrl, token: process.env.SPAWNGUARD_ANALYST_TOKEN });
        if (!api.success) throw new CliError(api.error.issues.map((i) => i.message).join('; '), EXIT.usage);
        if (options.comment !== undefined && options.comment.length > 4096)
          throw new CliError('--comment: at most 4096 characters', EXIT.usage);
        state = await decideThroughApi(api.data, workflowId, {
          decision,
          ...(options.comment ? { comment: options.comment } : {}),
        });
      } else {
        if (options.analyst === undefined) {
          throw new CliError(
            '--analyst is required (or decide as yourself through the review API: --api <url> with SPAWNGUARD_ANALYST_TOKEN)',
            EXIT.usage,
          );
        }
        const parsed = ReviewUpdateSchema.safeParse({
          decision,
          analyst: options.analyst,
          ...(options.comment ? { comment: options.comment } : {}),
        });
        if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join('; '), EXIT.usage);
        state = await withTemporal((client) => reviewIncident(client, workflowId, parsed.data));
      }
      if (options.json) printJson(state);
      else console.log(`${decision === 'approve' ? 'Approved' : 'Rejected'} ${workflowId} as ${reviewerText(state)}.`);
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
