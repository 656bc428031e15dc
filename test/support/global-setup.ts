/**
 * Starts ONE real Temporal dev server (built or found by `npm run temporal:ensure`) for the whole
 * jest run, with spawnguard's search attributes, and exposes its address through the environment.
 */
import { startDevServer, type DevServer } from '../../client/dev-server';

declare global {
  var __SPAWNGUARD_DEV_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const server = await startDevServer({ log: (line) => process.env.SPAWNGUARD_TEST_SERVER_LOG && console.log(line) });
  globalThis.__SPAWNGUARD_DEV_SERVER__ = server;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = server.namespace;
  process.env.SPAWNGUARD_TEST_TEMPORAL_UI_URL = server.uiUrl ?? '';
  process.env.SPAWNGUARD_TEST_TEMPORAL_BIN = server.binaryPath;
  console.log(`\nTemporal dev server for tests: ${server.address} (UI ${server.uiUrl}, binary ${server.binaryPath})`);
}
