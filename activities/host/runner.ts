/**
 * The one PowerShell runner (DESIGN.md §5). Runs a script from the scripts folder with Windows
 * PowerShell and turns what comes back into a validated result or a typed Temporal failure.
 *
 * The command line — the contract with the scripts in powershell/ (keep it stable):
 *
 *   <full path to powershell.exe> -NoLogo -NoProfile -NonInteractive -ExecutionPolicy <Bypass|AllSigned>
 *                                 -File <full path to powershell/<Script>.ps1> -Request -
 *
 *   - spawned with `shell: false` (never cmd.exe, never `-Command`), by absolute path (no PATH
 *     lookup): default `%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe`, overridden by
 *     the `powershellPath` option or SPAWNGUARD_POWERSHELL_PATH (the tests' stand-in);
 *   - the request travels on stdin as the UTF-8 JSON of the activity's validated request (`-Request -`
 *     tells the script so): nothing of it is on the command line, so quotes, `$(...)`, newlines or NUL
 *     are data, never code, and a long hostile path cannot push the command line past Windows' 32,767
 *     characters. (A script also takes `-Request <base64 of the JSON>`, for an analyst by hand.)
 *   - `-ExecutionPolicy AllSigned` instead of Bypass where the host's policy requires signed scripts
 *     (SPAWNGUARD_POWERSHELL_POLICY=allsigned; powershell/README.md says how to sign them);
 *   - every script declares `[string]$Request` and prints exactly one JSON document on stdout.
 *
 * Outcomes:
 *   exit 0 + one valid JSON document → the result   exit 0 + anything else → BadScriptOutput
 *   exit 2 → InvalidRequest · 3 → ProtectedTarget · 4 → AccessDenied
 *   · 5 → PowerShellRestricted (Constrained Language Mode)                  (non-retryable)
 *   exit 1, other exits, timeout, spawn errors → retryable (ScriptFailed, ScriptTimedOut, ScriptSpawnFailed)
 *   a script whose hash differs from the manifest → ScriptTampered (non-retryable), nothing spawned
 *   activity cancellation → the activity's CancelledFailure
 *
 * Timeout and activity cancellation kill the whole process tree; the runner heartbeats while the
 * script runs so the playbook's heartbeat timeout notices a dead worker and cancellation reaches us.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { isAbsolute, resolve, win32 } from 'node:path';
import type { z } from 'zod';
import { HOST_FAILURE_TYPES } from '../../common/host-contract';
import { HOST_SCRIPTS, scriptFileName, type HostScriptName } from './scripts';
import { verifyScript, type ScriptManifest } from './script-manifest';
import { WarmPowerShellPool, type WarmCompleted, type WarmPoolOptions } from './warm-runner';

/** Retryable failure types (retrying may help: a busy host, a transient WMI error, a hung script). */
export const RETRYABLE_SCRIPT_FAILURES = {
  failed: 'ScriptFailed',
  timedOut: 'ScriptTimedOut',
  spawnFailed: 'ScriptSpawnFailed',
} as const;

export interface RunnerOptions {
  /** Folder holding the scripts (powershell/). */
  scriptsDirectory: string;
  /** Hashes every script must match before it runs. */
  manifest: ScriptManifest;
  /** Absolute path of powershell.exe; default: SPAWNGUARD_POWERSHELL_PATH, else %SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe. */
  powershellPath?: string;
  /** 'Bypass' (default) or 'AllSigned' (hosts whose policy requires signed scripts); default: SPAWNGUARD_POWERSHELL_POLICY. */
  executionPolicy?: ExecutionPolicy;
  /** Default 120 s; inside an activity, never longer than its start-to-close timeout allows. */
  timeoutMs?: number;
  /** Default 5 s. */
  heartbeatIntervalMs?: number;
  /** Stdout larger than this is refused as bad output (default 16 MiB). */
  maxOutputBytes?: number;
  /** Cancels the run; default: the current activity's cancellation signal. */
  signal?: AbortSignal;
  /** Run on these warm PowerShell hosts (createWarmPool); cold, a process per run, when absent or when none can start. */
  warm?: WarmPowerShellPool;
}

export type ScriptResultOf<N extends HostScriptName> = z.infer<(typeof HOST_SCRIPTS)[N]>;

export const EXECUTION_POLICIES = ['Bypass', 'AllSigned'] as const;
export type ExecutionPolicy = (typeof EXECUTION_POLICIES)[number];

/** The fixed part of the command line; the only variable parts are the execution policy and the script path. */
export const POWERSHELL_FLAGS = ['-NoLogo', '-NoProfile', '-NonInteractive'] as const;

/** The script parameter that carries the request (every script declares `[string]$Request`)… */
export const REQUEST_PARAMETER = '-Request';
/** …and its value meaning "read the request's UTF-8 JSON from stdin". */
export const REQUEST_FROM_STDIN = '-';

const DEFAULT_TIMEOUT_MS = 120_000;

const EXIT_CODE_FAILURES: Record<number, string> = {
  2: HOST_FAILURE_TYPES.invalidRequest,
  3: HOST_FAILURE_TYPES.protectedTarget,
  4: HOST_FAILURE_TYPES.accessDenied,
  5: HOST_FAILURE_TYPES.powershellRestricted,
};

function systemRoot(env: NodeJS.ProcessEnv): string {
  return env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows';
}

export function defaultPowerShellPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SPAWNGUARD_POWERSHELL_PATH?.trim();
  if (configured) return configured;
  return win32.join(systemRoot(env), 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe');
}

/** The execution policy of SPAWNGUARD_POWERSHELL_POLICY (bypass | allsigned, any case); Bypass when unset. */
export function defaultExecutionPolicy(env: NodeJS.ProcessEnv = process.env): ExecutionPolicy {
  const configured = env.SPAWNGUARD_POWERSHELL_POLICY?.trim().toLowerCase();
  if (!configured || configured === 'bypass') return 'Bypass';
  if (configured === 'allsigned') return 'AllSigned';
  throw new Error(
    `SPAWNGUARD_POWERSHELL_POLICY must be bypass or allsigned, not ${JSON.stringify(env.SPAWNGUARD_POWERSHELL_POLICY)}`,
  );
}

/** Never a bare name: a PATH lookup could resolve to a planted binary. */
function isAbsolutePowerShell(path: string): boolean {
  return isAbsolute(path) || win32.isAbsolute(path);
}

function taskkillPath(): string {
  return win32.join(systemRoot(process.env), 'System32', 'taskkill.exe');
}

/** The exact argv the runner passes to PowerShell (after the executable): nothing of the request is in it. */
export function powershellArguments(scriptPath: string, executionPolicy: ExecutionPolicy = 'Bypass'): string[] {
  return [
    ...POWERSHELL_FLAGS,
    '-ExecutionPolicy',
    executionPolicy,
    '-File',
    scriptPath,
    REQUEST_PARAMETER,
    REQUEST_FROM_STDIN,
  ];
}

/** What the runner writes to the script's stdin: the UTF-8 JSON of the request. */
export function encodeRequest(request: unknown): Buffer {
  return Buffer.from(JSON.stringify(request), 'utf8');
}

/**
 * `#< CLIXML` markers at the start of a line, each with the `<Objs>` block that follows it: what
 * powershell.exe writes for progress and error records when its streams are redirected. Anchored
 * to a line start so text inside the JSON (where a newline is always escaped) is never touched.
 */
const CLIXML_NOISE = /(?<=^|\n)[\uFEFF \t]*#< CLIXML[ \t]*(?:\r?\n)?(?:[ \t]*<Objs\b[\s\S]*?<\/Objs>)?/g;

/** Removes CLIXML noise and the UTF-8 BOM PowerShell may write before the JSON document. */
export function cleanScriptOutput(text: string): string {
  return text
    .replace(CLIXML_NOISE, '')
    .replace(/^[\s\uFEFF]+/, '')
    .trimEnd();
}

/** The human-readable part of stderr: error strings out of CLIXML, or the plain text. */
export function readableStderr(text: string): string {
  const errors = [...text.matchAll(/<S S="Error">([\s\S]*?)<\/S>/g)].map((m) =>
    (m[1] ?? '')
      .replace(/_x000D_/g, '')
      .replace(/_x000A_/g, '\n')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&'),
  );
  const plain = errors.length > 0 ? errors.join('') : cleanScriptOutput(text);
  return plain.trim().slice(-2000);
}

function decode(buffer: Buffer): string {
  // A script that forgot to set UTF-8 output writes UTF-16LE with its BOM.
  if (buffer.length >= 2 && buffer[0] === 0xff && buffer[1] === 0xfe) return buffer.subarray(2).toString('utf16le');
  return buffer.toString('utf8');
}

function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * The run's time limit: the configured one, but inside an activity a little shorter than its
 * start-to-close timeout, so the script is killed here before Temporal starts another attempt.
 */
function effectiveTimeout(configured: number, activity: Context | undefined): number {
  const startToClose = activity?.info.startToCloseTimeoutMs;
  if (!startToClose || startToClose <= 0) return configured;
  const margin = Math.min(5_000, startToClose / 10);
  return Math.max(1_000, Math.min(configured, startToClose - margin));
}

/** PIDs of script processes this worker is running now: never valid remediation targets. */
const runningScripts = new Set<number>();
export function runningScriptPids(): number[] {
  return [...runningScripts];
}

/**
 * Warm PowerShell hosts for these runner options (SPAWNGUARD_POWERSHELL_RUNNER=warm): started
 * exactly like a script (same executable, flags and execution policy), their PIDs protected like
 * running scripts'. Close it when the worker stops.
 */
export function createWarmPool(
  options: Pick<RunnerOptions, 'scriptsDirectory' | 'manifest' | 'powershellPath' | 'executionPolicy'>,
  pool: Partial<
    Pick<WarmPoolOptions, 'size' | 'maxRequests' | 'maxWorkingSetBytes' | 'startTimeoutMs' | 'retryAfterMs' | 'log'>
  > = {},
): WarmPowerShellPool {
  const powershell = options.powershellPath ?? defaultPowerShellPath();
  if (!isAbsolutePowerShell(powershell)) {
    throw new Error(`PowerShell path must be absolute: ${powershell}`);
  }
  return new WarmPowerShellPool({
    ...pool,
    scriptsDirectory: resolve(options.scriptsDirectory),
    manifest: options.manifest,
    powershellPath: powershell,
    powershellFlags: [...POWERSHELL_FLAGS, '-ExecutionPolicy', options.executionPolicy ?? defaultExecutionPolicy()],
    killTree,
    onProcess: (pid, alive) => (alive ? runningScripts.add(pid) : runningScripts.delete(pid)),
  });
}

async function killTree(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    // Once PowerShell has exited its PID may belong to another process, and `taskkill /T` would kill
    // that process's tree instead. (A POSIX process group cannot be reused while members remain.)
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      const killer = spawn(taskkillPath(), ['/T', '/F', '/PID', String(pid)], {
        shell: false,
        windowsHide: true,
        stdio: 'ignore',
      });
      killer.on('error', () => done());
      killer.on('exit', () => done());
    });
    if (child.exitCode === null && child.signalCode === null) child.kill();
    return;
  }
  try {
    // The child was spawned detached: it leads its own process group, which holds its descendants.
    process.kill(-pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function failure(
  type: string,
  message: string,
  nonRetryable: boolean,
  details: Record<string, unknown>,
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable, details: [details] });
}

interface Completed {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  outcome?: 'timeout' | 'cancelled' | 'overflow';
  spawnError?: Error;
  refused?: WarmCompleted['refused'];
}

/** One run on a warm host, heartbeating like a cold one; undefined when no warm host can be had. */
async function executeWarm(
  pool: WarmPowerShellPool,
  file: string,
  input: Buffer,
  options: ExecuteOptions,
): Promise<Completed | undefined> {
  const startedAt = Date.now();
  const beat = () => options.activity?.heartbeat({ script: file, warm: true, elapsedMs: Date.now() - startedAt });
  beat();
  const heartbeats = setInterval(beat, options.heartbeatIntervalMs);
  try {
    const completed = await pool.run(file, input, { timeoutMs: options.timeoutMs, signal: options.signal });
    if (!completed) return undefined;
    if (completed.stdout.length > options.maxOutputBytes) return { ...completed, outcome: 'overflow' };
    return completed;
  } finally {
    clearInterval(heartbeats);
  }
}

/** Runs one host script and returns its validated result, or throws an ApplicationFailure (see the file header). */
export async function runScript<N extends HostScriptName>(
  name: N,
  request: unknown,
  options: RunnerOptions,
): Promise<ScriptResultOf<N>> {
  const schema = HOST_SCRIPTS[name];
  if (!schema) {
    throw failure(HOST_FAILURE_TYPES.invalidRequest, `Unknown host script ${String(name)}`, true, { script: name });
  }
  const file = scriptFileName(name);
  const scriptsDirectory = resolve(options.scriptsDirectory);
  const scriptPath = resolve(scriptsDirectory, file);
  const activity = currentActivity();
  const signal = options.signal ?? activity?.cancellationSignal;
  const timeoutMs = effectiveTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, activity);

  const check = await verifyScript(scriptsDirectory, file, options.manifest);
  if (!check.ok) {
    throw failure(HOST_FAILURE_TYPES.scriptTampered, `Refusing to run ${file}: ${check.problems.join('; ')}`, true, {
      script: file,
      problems: check.problems,
    });
  }

  const powershell = options.powershellPath ?? defaultPowerShellPath();
  // No PATH lookup: a relative name could resolve to a planted binary. A configuration error: do not retry.
  if (!isAbsolutePowerShell(powershell)) {
    throw failure(RETRYABLE_SCRIPT_FAILURES.spawnFailed, `PowerShell path must be absolute: ${powershell}`, true, {
      script: file,
    });
  }
  if (signal?.aborted) throw cancellation(signal);

  const input = encodeRequest(request);
  const executeOptions: ExecuteOptions = {
    timeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5_000,
    maxOutputBytes: options.maxOutputBytes ?? 16 * 1024 * 1024,
    signal,
    activity,
  };
  const warm = options.warm ? await executeWarm(options.warm, file, input, executeOptions) : undefined;
  if (warm?.refused) {
    const tampered = warm.refused.code === 'script-tampered';
    throw failure(
      tampered ? HOST_FAILURE_TYPES.scriptTampered : HOST_FAILURE_TYPES.badScriptOutput,
      `The warm PowerShell host refused to run ${file}: ${warm.refused.message}`,
      true,
      { script: file, refused: warm.refused.code },
    );
  }
  const completed =
    warm ??
    (await execute(
      powershell,
      powershellArguments(scriptPath, options.executionPolicy ?? defaultExecutionPolicy()),
      input,
      file,
      executeOptions,
    ));
  const details = { script: file, exitCode: completed.exitCode, stderr: readableStderr(completed.stderr) };

  if (completed.outcome === 'cancelled') throw cancellation(signal);
  if (completed.outcome === 'timeout') {
    throw failure(
      RETRYABLE_SCRIPT_FAILURES.timedOut,
      `${file} did not finish within ${timeoutMs / 1000}s; its process tree was killed`,
      false,
      details,
    );
  }
  if (completed.outcome === 'overflow') {
    throw failure(HOST_FAILURE_TYPES.badScriptOutput, `${file} wrote more output than allowed`, true, details);
  }
  if (completed.spawnError) {
    throw failure(
      RETRYABLE_SCRIPT_FAILURES.spawnFailed,
      `Cannot start ${powershell}: ${completed.spawnError.message}`,
      false,
      details,
    );
  }

  const text = cleanScriptOutput(decode(completed.stdout));
  const output = parseOutput(text, schema);
  if (completed.exitCode === 0) {
    if (!output.ok) {
      throw failure(HOST_FAILURE_TYPES.badScriptOutput, `${file} ${output.problem}`, true, {
        ...details,
        stdout: text.slice(0, 2000),
      });
    }
    return output.result as ScriptResultOf<N>;
  }

  // A failing script still prints its result document when it can: keep it for the incident's record.
  const failedDetails = output.ok ? { ...details, result: output.result } : { ...details, stdout: text.slice(0, 2000) };
  const reason = (output.ok ? scriptErrors(output.result) : '') || details.stderr || 'no error output';
  const type = completed.exitCode === null ? undefined : EXIT_CODE_FAILURES[completed.exitCode];
  if (type) {
    throw failure(type, `${file} refused the request (exit ${completed.exitCode}): ${reason}`, true, failedDetails);
  }
  const how = completed.exitCode === null ? `was killed by ${completed.signal}` : `failed (exit ${completed.exitCode})`;
  throw failure(RETRYABLE_SCRIPT_FAILURES.failed, `${file} ${how}: ${reason}`, false, failedDetails);
}

type ParsedOutput = { ok: true; result: unknown } | { ok: false; problem: string };

/** Exactly one JSON document that satisfies the script's result schema. */
function parseOutput(text: string, schema: z.ZodType): ParsedOutput {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `did not print exactly one JSON document: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, result: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return { ok: false, problem: `printed a result that breaks its contract: ${issues}` };
}

function scriptErrors(result: unknown): string {
  const errors = (result as { errors?: { code: string; message: string }[] }).errors ?? [];
  return errors.map((e) => `${e.code}: ${e.message}`).join('; ');
}

function cancellation(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new CancelledFailure('Script run cancelled');
}

interface ExecuteOptions {
  timeoutMs: number;
  heartbeatIntervalMs: number;
  maxOutputBytes: number;
  signal: AbortSignal | undefined;
  activity: Context | undefined;
}

function execute(
  powershell: string,
  args: string[],
  input: Buffer,
  file: string,
  options: ExecuteOptions,
): Promise<Completed> {
  const { signal, activity } = options;
  const startedAt = Date.now();
  return new Promise<Completed>((settle) => {
    const child = spawn(powershell, args, {
      shell: false,
      windowsHide: true,
      // Its own process group on POSIX, so the whole tree can be killed at once (Windows uses taskkill /T).
      detached: process.platform !== 'win32',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // A script that exits before reading its request closes the pipe: that is its exit code's story
    // (or a spawn error's), not a reason to crash the worker with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
    if (child.pid !== undefined) runningScripts.add(child.pid);
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let outcome: Completed['outcome'];
    let spawnError: Error | undefined;
    let settled = false;

    const stop = (why: NonNullable<Completed['outcome']>) => {
      if (outcome || settled) return;
      outcome = why;
      void killTree(child);
    };
    const onAbort = () => stop('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const beat = () => activity?.heartbeat({ script: file, pid: child.pid, elapsedMs: Date.now() - startedAt });
    beat();
    const heartbeats = setInterval(beat, options.heartbeatIntervalMs);

    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxOutputBytes) return stop('overflow');
      stdout.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 256 * 1024) stderr += chunk.toString('utf8');
    });

    const finish = (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(heartbeats);
      signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) runningScripts.delete(child.pid);
      settle({ exitCode, signal: exitSignal, stdout: Buffer.concat(stdout), stderr, outcome, spawnError });
    };
    child.on('error', (err) => {
      spawnError = err;
      // A process that never started emits no 'close' on every Node version.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('exit', () => {
      // Once killed, do not wait for a straggler holding our pipes open.
      if (outcome) setTimeout(() => (child.stdout?.destroy(), child.stderr?.destroy()), 2_000).unref();
    });
    child.on('close', finish);
  });
}
