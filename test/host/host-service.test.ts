/**
 * The Windows service packaging, checked here without Windows: the install/uninstall scripts parse
 * with the real PowerShell grammar and stay in the PowerShell 3.0 subset without aliases, and the
 * WinSW definition runs the CLI's host worker and gives it time to stop gracefully.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tree } from 'web-tree-sitter';
import { SHUTDOWN_GRACE_MS } from '../../worker/host';
import { aliasUses, dynamicExecution, ps3Incompatibilities, syntaxErrors } from '../powershell/rules';

const { Parser, Language } = require('web-tree-sitter') as typeof import('web-tree-sitter');

/** The real PowerShell grammar; the wasm is passed as bytes (loading by path needs a dynamic import jest lacks). */
async function parsePowerShell(source: string): Promise<Tree> {
  await Parser.init();
  const parser = new Parser();
  parser.setLanguage(
    await Language.load(readFileSync(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'))),
  );
  const tree = parser.parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

const SERVICE_DIR = join(__dirname, '..', '..', 'worker', 'host-service');
const read = (name: string) => readFileSync(join(SERVICE_DIR, name), 'utf8');

describe.each(['install-host-service.ps1', 'uninstall-host-service.ps1'])('%s', (name) => {
  it('parses, stays within Windows PowerShell 3.0, spells commands out and runs no strings as code', async () => {
    const tree = await parsePowerShell(read(name));
    expect({
      syntax: syntaxErrors(tree),
      ps3: ps3Incompatibilities(tree),
      aliases: aliasUses(tree),
      // The installer must run node.exe, WinSW and sc.exe: `&` on an absolute path with separate arguments.
      dynamic: dynamicExecution(tree, { allowCallOperator: true }),
    }).toEqual({ syntax: [], ps3: [], aliases: [], dynamic: [] });
  });

  it('manages the service the definition declares', () => {
    const id = /<id>([^<]+)<\/id>/.exec(read('spawnguard-host.xml'))?.[1];
    expect(id).toBe('spawnguard-host');
    expect(read(name)).toContain(`$ServiceId = '${id}'`);
  });
});

describe('spawnguard-host.xml', () => {
  const xml = read('spawnguard-host.xml');

  it('runs `spawnguard worker host` from the checkout', () => {
    const args = /<arguments>([^<]+)<\/arguments>/.exec(xml)?.[1];
    expect(args).toBe('"%BASE%\\..\\..\\bin\\spawnguard.js" worker host');
    expect(existsSync(join(SERVICE_DIR, '..', '..', 'bin', 'spawnguard.js'))).toBe(true);
  });

  it('waits longer for the worker to stop than the worker waits for its scripts', () => {
    const stop = /<stoptimeout>(\d+) sec<\/stoptimeout>/.exec(xml)?.[1];
    expect(Number(stop) * 1000).toBeGreaterThan(SHUTDOWN_GRACE_MS);
    expect(xml).toContain('<stopparentprocessfirst>true</stopparentprocessfirst>');
  });
});
