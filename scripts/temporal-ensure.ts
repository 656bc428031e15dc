/** `npm run temporal:ensure`: find or build the Temporal CLI once per machine, and say where it is. */
import { ensureTemporalBinary } from '../client/temporal-binary';

async function run() {
  const binary = await ensureTemporalBinary((line) => console.log(line));
  console.log(`Temporal CLI ready (${binary.source}): ${binary.path}`);
  console.log(`  ${binary.version.split('\n')[0]}`);
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
