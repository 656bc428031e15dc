/**
 * Sample outputs of every script (test/fixtures/script-output/<Script>/: success, error, empty
 * result, one-element list) pass the result schemas of common/host-contract.ts, through the
 * runner's own output cleaning; and the documents that Windows PowerShell's JSON pitfalls
 * produce (an unwrapped one-element array, {"value":..,"Count":..}, depth-2 truncation, a
 * DateTime serialized as an object, ...) are rejected by them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanScriptOutput } from '../../activities/host/runner';
import { HOST_SCRIPTS, scriptFileName, type HostScriptName } from '../../activities/host/scripts';

const FIXTURES = join(__dirname, '..', 'fixtures', 'script-output');
const CASES = ['success', 'error', 'empty', 'one-element'] as const;
const scriptNames = Object.keys(HOST_SCRIPTS) as HostScriptName[];

function fixture(...parts: string[]): unknown {
  return JSON.parse(cleanScriptOutput(readFileSync(join(FIXTURES, ...parts), 'utf8')));
}

describe('sample script outputs', () => {
  it('exist for every script and every case, and for nothing else', () => {
    const folders = readdirSync(FIXTURES).filter((name) => name !== 'invalid');
    expect(folders.sort()).toEqual([...scriptNames].sort());
    for (const name of scriptNames) {
      expect(readdirSync(join(FIXTURES, name)).sort()).toEqual(CASES.map((c) => `${c}.json`).sort());
    }
  });

  describe.each(scriptNames)('%s', (name) => {
    const schema = HOST_SCRIPTS[name];

    it.each(CASES)('%s passes the result schema', (kind) => {
      const parsed = schema.safeParse(fixture(name, `${kind}.json`));
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(parsed.data?.script).toBe(scriptFileName(name));
    });

    it('the cases are what they say', () => {
      const one = schema.parse(fixture(name, 'one-element.json'));
      expect(one.results).toHaveLength(1);
      const error = schema.parse(fixture(name, 'error.json'));
      expect(error.ok).toBe(false);
      const refused = (error.results as { status?: string }[]).filter(
        (r) => r.status === 'failed' || r.status === 'skipped',
      );
      expect(error.errors.length + refused.length).toBeGreaterThan(0);
      const empty = schema.parse(fixture(name, 'empty.json'));
      expect(empty.results).toEqual([]);
      const success = schema.parse(fixture(name, 'success.json'));
      expect(success.ok).toBe(true);
      expect(success.results.length).toBeGreaterThan(1);
    });
  });

  it('pass through the runner cleaning with a BOM and CLIXML noise around them', () => {
    const raw = readFileSync(join(FIXTURES, 'StopProcess', 'one-element.json'), 'utf8');
    const noisy = `#< CLIXML\r\n<Objs Version="1.1.0.1"><Obj S="progress" RefId="0"></Obj></Objs>\r\n\uFEFF${raw}\r\n`;
    expect(HOST_SCRIPTS.StopProcess.safeParse(JSON.parse(cleanScriptOutput(noisy))).success).toBe(true);
  });
});

describe('documents that Windows PowerShell JSON pitfalls produce are rejected', () => {
  it.each([
    ['one-element-unwrapped', 'StopProcess'],
    ['count-value-wrapped', 'GetProcessTree'],
    ['default-depth-truncated', 'StopAndQuarantineProcess'],
    ['date-as-object', 'GetProcessTree'],
    ['unknown-status', 'StopProcess'],
    ['unknown-persistence-kind', 'FetchPersistenceEntries'],
  ] as const)('%s', (file, name) => {
    expect(HOST_SCRIPTS[name].safeParse(fixture('invalid', `${file}.json`)).success).toBe(false);
  });

  it('covers every file in invalid/', () => {
    expect(readdirSync(join(FIXTURES, 'invalid')).length).toBe(6);
  });
});
