/**
 * powershell/manifest.json is what the host worker trusts: it must pin exactly the scripts in the
 * checkout (regenerate with `npx tsx scripts/powershell-manifest.ts` after editing one), and every
 * script the runner can run must be there.
 */
import { join } from 'node:path';
import { loadManifest, MANIFEST_FILE_NAME, verifyAll } from '../../activities/host/script-manifest';
import { HOST_SCRIPTS, scriptFileName, type HostScriptName } from '../../activities/host/scripts';

const POWERSHELL_DIR = join(__dirname, '..', '..', 'powershell');

describe('powershell/manifest.json', () => {
  it('matches every script and module in powershell/', async () => {
    const manifest = await loadManifest(join(POWERSHELL_DIR, MANIFEST_FILE_NAME));
    expect(await verifyAll(POWERSHELL_DIR, manifest)).toEqual({ ok: true });
  });

  it('pins every script the host activities run', async () => {
    const manifest = await loadManifest(join(POWERSHELL_DIR, MANIFEST_FILE_NAME));
    const scripts = (Object.keys(HOST_SCRIPTS) as HostScriptName[]).map(scriptFileName);
    expect(scripts.filter((file) => manifest.files[file] === undefined)).toEqual([]);
  });
});
