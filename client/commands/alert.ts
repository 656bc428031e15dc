/** `spawnguard alert <file|->`: submit an alert (any accepted format, or a batch array) to Temporal. */
import type { Command } from 'commander';
import { CliError, EXIT } from '../cli-errors';
import { formatTable, printJson, readJsonDocument, withTemporal } from '../ingest/cli-support';
import { InvalidAlertsError, parseAlertDocuments } from '../ingest/documents';
import { policyFromEnvironment } from '../ingest/policy';
import { RecentAlerts } from '../ingest/recent-alerts';
import { submitAlert, type Submission } from '../ingest/submit';
import { incidentWorkflowId } from '../../common/incident';

export function register(program: Command): void {
  program
    .command('alert')
    .description(
      'submit an alert to Temporal, as POST /v1/alerts does: the canonical alert, an Elastic alert / ECS event, ' +
        'Winlogbeat Sysmon 1 or Security 4688, or a JSON array of them',
    )
    .argument('<file>', 'alert JSON file, or - for stdin')
    .option('--json', 'print { workflowId, runId, deduplicated } (a batch: { results: [...] }) as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const body = await readJsonDocument(file);
      let documents;
      try {
        documents = parseAlertDocuments(body);
      } catch (err) {
        if (err instanceof InvalidAlertsError) {
          throw new CliError(
            `not a valid alert:\n${err.problems.map((p) => `  ${p.field || '(document)'}: ${p.message} [${p.format}]`).join('\n')}`,
            EXIT.usage,
          );
        }
        throw err;
      }
      const { alerts, batch } = documents;
      const submissions = await withTemporal(async (client, config) => {
        const policy = policyFromEnvironment(config.env);
        // Copies of one alert inside a batch go to Temporal once.
        const recent = new RecentAlerts();
        const results: Submission[] = [];
        for (const alert of alerts) {
          results.push(
            await recent.submit(incidentWorkflowId(alert), alert.alertId, () => submitAlert(client, alert, { policy })),
          );
        }
        return results;
      });
      if (options.json) {
        printJson(batch ? { results: submissions } : submissions[0]);
        return;
      }
      console.log(
        formatTable(
          ['ALERT', 'WORKFLOW ID', 'RUN ID', 'RESULT'],
          submissions.map((s, i) => [
            alerts[i]?.alertId ?? '',
            s.workflowId,
            s.runId,
            s.closed
              ? 'incident already completed (this alert was part of it)'
              : s.reopened
                ? `new evidence: incident re-opened (continues ${s.reopened})`
                : s.deduplicated
                  ? 'attached to the running incident'
                  : 'incident started',
          ]),
        ),
      );
    });
}
