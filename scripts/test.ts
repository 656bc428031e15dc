/**
 * `npm test`: the jest suite (on the dev server), the production topology's tests (test/cluster:
 * Temporal on PostgreSQL, replicas, failover), then the Pester suite under real PowerShell, then one
 * summary with every count and the PowerShell coverage. Fails when any fails.
 *
 *   npm test                         everything
 *   npm test -- test/host            jest with these arguments, then Pester
 *   SPAWNGUARD_TEST=jest npm test    only the main jest suite; =cluster only the cluster tests;
 *                                    =pester only Pester
 *
 * PowerShell and Pester come from `bash scripts/install-powershell.sh` (pwsh 7.6.9 as a .NET
 * tool, Pester 5.7.1 from NuGet); see powershell/README.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { PESTER_VERSION, findPwsh } from './lib/powershell';

const ROOT = resolve(__dirname, '..');
const OUTPUT = join(ROOT, 'coverage');

const JestSummarySchema = z.object({
  numPassedTests: z.number(),
  numFailedTests: z.number(),
  numPendingTests: z.number(),
  numTodoTests: z.number(),
  numRuntimeErrorTestSuites: z.number(),
  success: z.boolean(),
});

const PesterSummarySchema = z.object({
  passed: z.number(),
  failed: z.number(),
  skipped: z.number(),
  notRun: z.number(),
  failedFiles: z.array(z.string()),
  skippedTests: z.array(z.object({ name: z.string(), because: z.string().nullable() })),
  coverage: z.object({ lines: z.number(), linesCovered: z.number(), linesMissed: z.number(), report: z.string() }),
  powershell: z.string(),
  pester: z.string(),
});

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', shell: false });
    child.on('error', (err) => {
      console.error(`Cannot start ${command}: ${err.message}`);
      done(127);
    });
    child.on('close', (code) => done(code ?? 1));
  });
}

async function runJest(args: string[], name = 'jest'): Promise<Counts & { ok: boolean }> {
  const file = join(OUTPUT, `${name}.json`);
  rmSync(file, { force: true });
  const code = await run(process.execPath, [
    require.resolve('jest/bin/jest'),
    '--json',
    `--outputFile=${file}`,
    ...args,
  ]);
  if (!existsSync(file)) return { passed: 0, failed: 1, skipped: 0, ok: false };
  const summary = JestSummarySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const failed = summary.numFailedTests + summary.numRuntimeErrorTestSuites;
  return {
    passed: summary.numPassedTests,
    failed,
    skipped: summary.numPendingTests + summary.numTodoTests,
    ok: code === 0 && summary.success,
  };
}

function pesterModulePath(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'spawnguard', 'pester', PESTER_VERSION, 'Pester');
}

async function runPester(): Promise<(Counts & { ok: boolean; line: string }) | undefined> {
  const pwsh = findPwsh();
  const pester = pesterModulePath();
  if (!pwsh || !existsSync(join(pester, 'Pester.psd1'))) {
    console.error(
      `PowerShell tests cannot run: ${pwsh ? `Pester ${PESTER_VERSION} is not in ${pester}` : 'pwsh is not installed'}.\n` +
        'Run `bash scripts/install-powershell.sh` (PowerShell 7.6.9 and Pester from NuGet; needs the .NET SDK).',
    );
    return undefined;
  }
  const summaryFile = join(OUTPUT, 'pester.json');
  rmSync(summaryFile, { force: true });
  const code = await run(pwsh, [
    '-NoLogo',
    '-NoProfile',
    '-NonInteractive',
    '-File',
    join(ROOT, 'scripts', 'run-pester.ps1'),
    '-PesterPath',
    pester,
    '-SummaryPath',
    summaryFile,
    '-CoveragePath',
    join(OUTPUT, 'pester-coverage.xml'),
  ]);
  if (!existsSync(summaryFile)) return { passed: 0, failed: 1, skipped: 0, ok: false, line: 'Pester did not finish' };
  const summary = PesterSummarySchema.parse(JSON.parse(readFileSync(summaryFile, 'utf8').replace(/^\uFEFF/, '')));
  for (const file of summary.failedFiles) console.error(`Pester could not run ${file}`);
  if (summary.skippedTests.length > 0) {
    console.log(`\nPester skipped ${summary.skippedTests.length} test(s) that only a Windows host can run:`);
    for (const test of summary.skippedTests) console.log(`  - ${test.name}${test.because ? ` (${test.because})` : ''}`);
  }
  const coverage = `${summary.coverage.lines}% of ${summary.coverage.linesCovered + summary.coverage.linesMissed} lines of powershell/ executed`;
  return {
    passed: summary.passed,
    failed: summary.failed,
    skipped: summary.skipped + summary.notRun,
    ok: code === 0,
    line: `PowerShell ${summary.powershell}, Pester ${summary.pester}; coverage ${coverage} (${summary.coverage.report})`,
  };
}

const describe = (c: Counts) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

async function main(): Promise<number> {
  mkdirSync(OUTPUT, { recursive: true });
  const only = process.env.SPAWNGUARD_TEST;
  const args = process.argv.slice(2);
  const jest = only === undefined || only === 'jest' ? await runJest(args) : undefined;
  // The cluster tests start PostgreSQL and a Temporal server of their own (scripts/lib/cluster.ts);
  // a run narrowed to some jest files leaves them out.
  const cluster =
    only === 'cluster' || (only === undefined && args.length === 0)
      ? await runJest(['--config', join(ROOT, 'jest.cluster.config.js'), ...args], 'jest-cluster')
      : undefined;
  const pester = only === undefined || only === 'pester' ? await runPester() : undefined;
  const pesterMissing = (only === undefined || only === 'pester') && pester === undefined;

  console.log('\nspawnguard test summary');
  if (jest) console.log(`  jest:    ${describe(jest)}`);
  if (cluster)
    console.log(`  cluster: ${describe(cluster)} (Temporal on PostgreSQL, 2 ingest replicas, 2 central workers)`);
  if (pester) console.log(`  pester:  ${describe(pester)}\n           ${pester.line}`);
  if (pesterMissing) console.log('  pester:  not run (PowerShell or Pester missing)');
  const parts = [jest, cluster, pester].filter((p): p is NonNullable<typeof p> => p !== undefined);
  const total = parts.reduce(
    (sum, p) => ({ passed: sum.passed + p.passed, failed: sum.failed + p.failed, skipped: sum.skipped + p.skipped }),
    {
      passed: 0,
      failed: pesterMissing ? 1 : 0,
      skipped: 0,
    },
  );
  console.log(`total: ${describe(total)}`);
  return parts.every((p) => p.ok) && !pesterMissing ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
