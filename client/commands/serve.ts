/** `spawnguard serve`: the ingest service and review page (SPAWNGUARD_PORT, default 3000). */
import type { Command } from 'commander';
import { CliError, EXIT } from '../cli-errors';
import { loadCliConfig } from '../ingest/cli-support';
import { startIngestService } from '../ingest';

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the ingest service (POST /v1/alerts, incident API, review page at /review)')
    .option('--port <port>', 'listen on this port instead of SPAWNGUARD_PORT', (v) => {
      const port = Number(v);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('--port must be 0–65535', EXIT.usage);
      return port;
    })
    .option('--host <address>', 'listen on this address', '0.0.0.0')
    .action(async (options: { port?: number; host: string }) => {
      const config = loadCliConfig();
      const service = await startIngestService(config, {
        host: options.host,
        ...(options.port !== undefined ? { port: options.port } : {}),
      });
      console.error(`spawnguard ingest service listening on ${service.url} (review page: ${service.url}/review)`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await service.close();
    });
}
