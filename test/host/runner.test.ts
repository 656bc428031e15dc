/**
 * The PowerShell runner against a stand-in for powershell.exe (no PowerShell runs here): the exact
 * command line, output clean-up and validation, exit codes mapped to typed failures, timeouts and
 * cancellation killing the whole process tree, and the hash manifest refusing tampered scripts.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { SpawnOptions } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_FAILURE_TYPES } from '../../common/host-contract';
import {
  cleanScriptOutput,
  defaultExecutionPolicy,
  RETRYABLE_SCRIPT_FAILURES,
  runScript,
  runningScriptPids,
  type RunnerOptions,
} from '../../activities/host/runner';
import { createFakeHost, eventually, isAlive, type FakeHost } from './standin';

let host: FakeHost;
beforeEach(async () => {
  host = await createFakeHost('ok');
});
afterEach(() => {
  host.remove();
  jest.restoreAllMocks();
});

const options = (extra: Partial<RunnerOptions> = {}): RunnerOptions => ({
  scriptsDirectory: host.scriptsDirectory,
  manifest: host.manifest,
  powershellPath: host.powershellPath,
  ...extra,
});

/** The failure a run rejects with (fails the test if it resolves). */
async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await run.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const request = { processIds: [1234, 5678] };

describe('command line', () => {
  it('spawns PowerShell by absolute path without a shell, with -File, and sends the request on stdin, not the command line', async () => {
    // The module object itself (an `import *` namespace is a copy under the test transform).
    const spawn = jest.spyOn(require('node:child_process') as typeof import('node:child_process'), 'spawn');
    const result = await runScript('GetProcessTree', request, options());

    expect(result).toMatchObject({ script: 'GetProcessTree.ps1', ok: true, hostname: 'standin-host', results: [] });
    const [record, ...others] = host.records();
    expect(others).toEqual([]);
    expect(record?.argv).toEqual([
      '-NoLogo',
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-File',
      join(host.scriptsDirectory, 'GetProcessTree.ps1'),
      '-Request',
      '-',
    ]);
    expect(record?.request).toEqual(request);

    expect(spawn).toHaveBeenCalledTimes(1);
    const [file, args, spawnOptions] = spawn.mock.calls[0] as unknown as [string, string[], SpawnOptions];
    expect(file).toBe(host.powershellPath);
    expect(args).toEqual(record?.argv);
    expect(spawnOptions.shell).toBe(false);
  });

  it('carries a request far longer than a Windows command line (32,767 characters) whole, on stdin', async () => {
    const longPath = `C:\\Users\\Public\\${'a'.repeat(30_000)}\\${'b'.repeat(30_000)}.exe`;
    const long = { paths: [longPath, longPath] };
    await runScript('GetFileEnrichment', long, options());
    const [record] = host.records();
    expect(record?.request).toEqual(long);
    expect(record?.argv.join(' ').length).toBeLessThan(1_000);
  });

  it('runs with -ExecutionPolicy AllSigned where the host requires signed scripts, never Bypass', async () => {
    await runScript('GetProcessTree', request, options({ executionPolicy: 'AllSigned' }));
    const [record] = host.records();
    expect(record?.argv.slice(3, 5)).toEqual(['-ExecutionPolicy', 'AllSigned']);
    expect(record?.argv).not.toContain('Bypass');
    expect(defaultExecutionPolicy({ SPAWNGUARD_POWERSHELL_POLICY: 'AllSigned' })).toBe('AllSigned');
    expect(defaultExecutionPolicy({})).toBe('Bypass');
    expect(() => defaultExecutionPolicy({ SPAWNGUARD_POWERSHELL_POLICY: 'unrestricted' })).toThrow(
      'SPAWNGUARD_POWERSHELL_POLICY must be bypass or allsigned',
    );
  });

  it('refuses a PowerShell path that would need a PATH lookup, before spawning anything', async () => {
    const failure = await failureOf(
      runScript('GetProcessTree', request, options({ powershellPath: 'powershell.exe' })),
    );
    expect(failure.type).toBe(RETRYABLE_SCRIPT_FAILURES.spawnFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(host.argvFileExists()).toBe(false);
  });

  it('reports a missing PowerShell as a retryable spawn failure', async () => {
    const failure = await failureOf(
      runScript(
        'GetProcessTree',
        request,
        options({ powershellPath: join(host.scriptsDirectory, 'no-such-powershell') }),
      ),
    );
    expect(failure.type).toBe(RETRYABLE_SCRIPT_FAILURES.spawnFailed);
    expect(failure.nonRetryable).toBe(false);
  });
});

describe('output', () => {
  it.each(['bom', 'clixml', 'utf16'] as const)('accepts the one JSON document under %s noise', async (mode) => {
    await host.setMode('StopProcess', mode);
    const result = await runScript('StopProcess', { incidentId: 'i-1', targets: [{ pid: 1234 }] }, options());
    expect(result).toMatchObject({ script: 'StopProcess.ps1', ok: true, results: [], errors: [] });
  });

  it('strips CLIXML and a leading BOM but leaves the same characters inside JSON strings alone', () => {
    const document = { command: 'a <Objs Version="1"></Objs> b', name: '\uFEFFx', lines: '#< CLIXML' };
    const noisy =
      '\uFEFF#< CLIXML\r\n<Objs Version="1.1.0.1"><Obj S="progress" RefId="0"></Obj></Objs>\r\n' +
      `\uFEFF${JSON.stringify(document, null, 2)}\r\n#< CLIXML\r\n<Objs Version="1.1.0.1"></Objs>\r\n`;
    expect(JSON.parse(cleanScriptOutput(noisy))).toEqual(document);
  });

  it.each(['invalid-json', 'two-documents'] as const)(
    'refuses %s: not exactly one JSON document (non-retryable BadScriptOutput)',
    async (mode) => {
      await host.setMode('GetProcessTree', mode);
      const failure = await failureOf(runScript('GetProcessTree', request, options()));
      expect(failure.type).toBe(HOST_FAILURE_TYPES.badScriptOutput);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(/exactly one JSON document/);
    },
  );

  it('refuses JSON that breaks the result contract', async () => {
    await host.setMode('GetProcessTree', 'bad-schema');
    const failure = await failureOf(runScript('GetProcessTree', request, options()));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.badScriptOutput);
    expect(failure.message).toMatch(/breaks its contract/);
  });
});

describe('exit codes', () => {
  it.each([
    ['exit2', HOST_FAILURE_TYPES.invalidRequest, true],
    ['exit3', HOST_FAILURE_TYPES.protectedTarget, true],
    ['exit4', HOST_FAILURE_TYPES.accessDenied, true],
    ['exit5', HOST_FAILURE_TYPES.powershellRestricted, true],
    ['exit1', RETRYABLE_SCRIPT_FAILURES.failed, false],
  ] as const)('%s → %s (nonRetryable: %s), keeping the script errors', async (mode, type, nonRetryable) => {
    await host.setMode('StopProcess', mode);
    const failure = await failureOf(
      runScript('StopProcess', { incidentId: 'i-1', targets: [{ pid: 1234 }] }, options()),
    );
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(nonRetryable);
    expect(failure.message).toContain(`stand-in exits ${mode.slice(4)}`);
    // The result document the failing script still printed travels with the failure.
    const details = failure.details?.[0] as { exitCode: number; result?: { ok: boolean } };
    expect(details.exitCode).toBe(Number(mode.slice(4)));
    expect(details.result?.ok).toBe(false);
  });

  it('reads the error text out of CLIXML on stderr', async () => {
    await host.setMode('StopProcess', 'exit1');
    const failure = await failureOf(
      runScript('StopProcess', { incidentId: 'i-1', targets: [{ pid: 1234 }] }, options()),
    );
    const details = failure.details?.[0] as { stderr: string };
    expect(details.stderr).toBe('Get-CimInstance : WMI is busy');
  });
});

describe('hung scripts', () => {
  it('kills the whole process tree on timeout (retryable ScriptTimedOut)', async () => {
    await host.setMode('FetchPersistenceEntries', 'hang');
    const run = runScript('FetchPersistenceEntries', {}, options({ timeoutMs: 1_500 }));
    await eventually(() => host.hangPids() !== undefined);
    const pids = host.hangPids()!;
    expect(isAlive(pids.pid) && isAlive(pids.grandchildPid)).toBe(true);
    expect(runningScriptPids()).toContain(pids.pid);

    const failure = await failureOf(run);
    expect(failure.type).toBe(RETRYABLE_SCRIPT_FAILURES.timedOut);
    expect(failure.nonRetryable).toBe(false);
    await eventually(() => !isAlive(pids.pid) && !isAlive(pids.grandchildPid));
    expect(runningScriptPids()).not.toContain(pids.pid);
  });

  it('kills the whole process tree when cancelled', async () => {
    await host.setMode('FetchPersistenceEntries', 'hang');
    const controller = new AbortController();
    const run = runScript('FetchPersistenceEntries', {}, options({ signal: controller.signal, timeoutMs: 60_000 }));
    await eventually(() => host.hangPids() !== undefined);
    const pids = host.hangPids()!;

    controller.abort(new CancelledFailure('CANCELLED'));
    const error = await run.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(CancelledFailure);
    await eventually(() => !isAlive(pids.pid) && !isAlive(pids.grandchildPid));
  });
});

describe('script manifest', () => {
  it('refuses a script changed after the manifest was made, without spawning PowerShell', async () => {
    appendFileSync(join(host.scriptsDirectory, 'StopProcess.ps1'), 'Stop-Computer -Force\n');
    const failure = await failureOf(runScript('StopProcess', { incidentId: 'i', targets: [{ pid: 1234 }] }, options()));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.scriptTampered);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/StopProcess\.ps1: SHA-256 [0-9a-f]{64} differs/);
    expect(host.argvFileExists()).toBe(false);
  });

  it('refuses every script when a module they could import appears or changes', async () => {
    writeFileSync(join(host.scriptsDirectory, 'Planted.psm1'), 'function Stop-Process {}\n');
    const failure = await failureOf(runScript('GetProcessTree', request, options()));
    expect(failure.type).toBe(HOST_FAILURE_TYPES.scriptTampered);
    expect(failure.message).toMatch(/Planted\.psm1: not in the script manifest/);
    expect(host.argvFileExists()).toBe(false);
  });

  it('accepts a script whose only change is CRLF line endings (a Windows checkout)', async () => {
    const path = join(host.scriptsDirectory, 'GetProcessTree.ps1');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/\n/g, '\r\n'));
    await expect(runScript('GetProcessTree', request, options())).resolves.toMatchObject({ ok: true });
  });
});
