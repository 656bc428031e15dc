/** `spawnguard dev` (`npm start`): the whole local stack, with its URLs printed, until Ctrl+C. */
import type { Command } from 'commander';
import { z } from 'zod';
import { CliError, EXIT } from '../cli-errors';

const portOption = z.coerce.number().int().min(0).max(65535);

interface DevOptions {
  dataDir: string;
  port?: string;
  temporalPort?: string;
  uiPort?: string;
  smtpPort?: string;
  mailPort?: string;
}

export function register(program: Command): void {
  program
    .command('dev')
    .description(
      'run the whole stack locally: Temporal dev server + UI, central worker, a LAB host worker (simulated Windows host), ingest service with the review page, and a mail catcher',
    )
    .option('--data-dir <dir>', 'where the stack keeps its state', '.spawnguard')
    .option('--port <port>', 'ingest service and review page (default SPAWNGUARD_PORT or 3000)')
    .option('--temporal-port <port>', 'Temporal frontend', '7233')
    .option('--ui-port <port>', 'Temporal UI', '8233')
    .option('--smtp-port <port>', 'mail catcher SMTP', '1025')
    .option('--mail-port <port>', 'mail catcher web view', '8025')
    .addHelpText(
      'after',
      '\nPort 0 picks a free port.' +
        '\nThen, in another terminal: npm run demo\nState survives a restart (Temporal SQLite, lab host, mail) in --data-dir; delete it to start over.',
    )
    .action(async (options: DevOptions) => {
      const parsePort = (name: string, value: string | undefined) => {
        if (value === undefined) return undefined;
        const parsed = portOption.safeParse(value);
        if (!parsed.success)
          throw new CliError(`--${name} must be a port number (0–65535), got ${JSON.stringify(value)}`, EXIT.usage);
        return parsed.data;
      };
      const ports = {
        temporal: parsePort('temporal-port', options.temporalPort),
        temporalUi: parsePort('ui-port', options.uiPort),
        ingest: parsePort('port', options.port),
        smtp: parsePort('smtp-port', options.smtpPort),
        mailWeb: parsePort('mail-port', options.mailPort),
      };
      (require('../../worker/connection') as typeof import('../../worker/connection')).installTemporalRuntimeLogger();
      const { startDevStack } = require('../dev-stack') as typeof import('../dev-stack');
      const stack = await startDevStack({
        dataDirectory: options.dataDir,
        ports: Object.fromEntries(Object.entries(ports).filter(([, v]) => v !== undefined)),
      });
      const lines = [
        '',
        'spawnguard is running (LAB mode: host actions run on a simulated Windows host, and every report says so)',
        '',
        `  Alerts (POST)   ${stack.urls.ingest}`,
        `  Ingest token    ${stack.ingestToken}`,
        `  Review page     ${stack.urls.reviewPage}`,
        `  Temporal UI     ${stack.urls.temporalUi ?? '(headless)'}`,
        `  Mail            ${stack.urls.mail}`,
        `  Temporal        ${stack.urls.temporal}`,
        `  Lab host        ${stack.hostname} (task queue spawnguard-host-${stack.hostname.toLowerCase()})`,
        '',
        'Try it: npm run demo   (in another terminal)        Stop: Ctrl+C',
        '',
      ];
      console.log(lines.join('\n'));
      await new Promise<void>((resolve, reject) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        stack.failed.catch(reject);
      }).catch(async (err: unknown) => {
        await stack.stop();
        throw new CliError(`the stack stopped: ${(err as Error).message}`, EXIT.failure);
      });
      console.log('Stopping…');
      await stack.stop();
      console.log('Stopped.');
    });
}
