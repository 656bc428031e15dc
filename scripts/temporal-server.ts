/**
 * `npm run server`: a local Temporal dev server with spawnguard's search attributes, its state in a
 * SQLite file (so incidents survive a restart) and the Web UI on a known port.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { startDevServer } from '../client/dev-server';

const settings = z
  .object({
    TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
    TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
    TEMPORAL_DB_FILE: z.string().min(1).default('.spawnguard/temporal.sqlite'),
  })
  .parse(process.env);

async function run() {
  const dbFilename = resolve(settings.TEMPORAL_DB_FILE);
  mkdirSync(dirname(dbFilename), { recursive: true });
  const server = await startDevServer({
    port: settings.TEMPORAL_PORT,
    uiPort: settings.TEMPORAL_UI_PORT,
    dbFilename,
    log: (line) => console.log(line),
  });
  console.log(`Temporal dev server ready at ${server.address} (namespace ${server.namespace})`);
  console.log(`  Web UI:   ${server.uiUrl}`);
  console.log(`  State:    ${dbFilename}`);
  console.log('Press Ctrl+C to stop.');
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  server.process.once('exit', (code) => process.exit(code ?? 1));
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
