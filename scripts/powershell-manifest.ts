/**
 * Writes powershell/manifest.json: the SHA-256 of every script and module the host worker may run
 * (activities/host/script-manifest.ts explains what is hashed). Run it after editing a script:
 *
 *   npx tsx scripts/powershell-manifest.ts           # write the manifest
 *   npx tsx scripts/powershell-manifest.ts --check   # exit 1 when a script differs from it (CI, service install)
 *
 * An optional path argument names another scripts folder.
 */
import { join, resolve } from 'node:path';
import { loadManifest, MANIFEST_FILE_NAME, verifyAll, writeManifest } from '../activities/host/script-manifest';

async function run(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const dir = resolve(argv.find((a) => !a.startsWith('--')) ?? join(__dirname, '..', 'powershell'));
  const file = join(dir, MANIFEST_FILE_NAME);
  if (!check) {
    const manifest = await writeManifest(dir, file);
    console.log(`wrote ${file}: ${Object.keys(manifest.files).length} files pinned`);
    return 0;
  }
  const result = await verifyAll(dir, await loadManifest(file));
  if (result.ok) {
    console.log(`${file}: every script matches`);
    return 0;
  }
  console.error(`${file} does not match the scripts:\n${result.problems.map((p) => `  - ${p}`).join('\n')}`);
  console.error('Run `npx tsx scripts/powershell-manifest.ts` after editing a script.');
  return 1;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
