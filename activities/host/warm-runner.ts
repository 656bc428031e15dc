/**
 * The warm runner (issue 18): a few long-lived PowerShell processes running powershell/WarmHost.ps1,
 * each serving one script run at a time in a fresh runspace, so a host action does not wait for
 * PowerShell to start (0.3–1.5 s on Windows, more under antivirus).
 *
 * The safety rules are the cold runner's: the host is started like a script (same flags, same
 * execution policy, WarmHost.ps1 checked against the manifest first), every script is checked
 * against the manifest before each request (by runScript, and hashed again by the host), and the
 * request travels as data (base64 of its JSON, the value of the script's -Request parameter), on a
 * pipe, never on a command line.
 *
 * Faults: a run that times out, is cancelled or whose process dies takes only its own process with
 * it (one request per process at a time); the process is killed with its tree and replaced on
 * demand, and the run fails the way a cold run would (ScriptTimedOut / ScriptFailed: retryable,
 * Temporal retries it). Processes are recycled after `maxRequests` runs or when their working set
 * passes `maxWorkingSetBytes`. When a host cannot start (no PowerShell, Constrained Language Mode,
 * a host that does not answer), `run` answers `undefined` and the caller runs the script cold;
 * the pool then waits `retryAfterMs` before trying to start a host again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { verifyScript, type ScriptManifest } from './script-manifest';

export const WARM_HOST_SCRIPT = 'WarmHost.ps1';
export const WARM_LINE_PREFIX = 'SPAWNGUARD-WARM ';

export interface WarmPoolOptions {
  scriptsDirectory: string;
  manifest: ScriptManifest;
  /** Absolute path of powershell.exe (or pwsh). */
  powershellPath: string;
  /** The flags before `-File` (the cold runner's: -NoLogo -NoProfile -NonInteractive -ExecutionPolicy …). */
  powershellFlags: readonly string[];
  /** Processes at most (runs at once); default 2. */
  size?: number;
  /** Runs per process before it is replaced; default 100. */
  maxRequests?: number;
  /** A process whose working set passes this after a run is replaced; default 512 MiB. */
  maxWorkingSetBytes?: number;
  /** How long a new host may take to say it is ready; default 30 s. */
  startTimeoutMs?: number;
  /** After a host failed to start, runs go cold for this long; default 60 s. */
  retryAfterMs?: number;
  /** Kills a process and its tree (the cold runner's killTree). */
  killTree: (child: ChildProcess) => Promise<void>;
  /** Called with each host process's PID when it starts and when it is gone: never a remediation target. */
  onProcess?: (pid: number, alive: boolean) => void;
  log?: (message: string) => void;
}

/** What a run produced: the cold runner's shape, so both are judged by the same code. */
export interface WarmCompleted {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  outcome?: 'timeout' | 'cancelled';
  /** The host refused the request (script-tampered, invalid-request) with this message. */
  refused?: { code: string; message: string };
  /** PID of the host process that ran it. */
  pid: number;
}

export interface WarmRunOptions {
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

const ReadySchema = z.object({ ready: z.literal(true), pid: z.number().int(), version: z.string() });
const ResponseSchema = z.union([
  z.object({
    id: z.string(),
    exitCode: z.number().int(),
    stdout: z.string(),
    stderr: z.string(),
    workingSet: z.number(),
  }),
  z.object({ id: z.string().nullable(), refused: z.string(), message: z.string() }),
]);
type Response = z.infer<typeof ResponseSchema>;

interface Pending {
  id: string;
  settle: (value: WarmCompleted) => void;
}

/** One WarmHost.ps1 process. */
class WarmProcess {
  readonly ready: Promise<boolean>;
  requests = 0;
  busy = false;
  dead = false;
  private pending: Pending | undefined;
  private stderr = '';
  private readonly child: ChildProcess;

  constructor(
    private readonly pool: WarmPowerShellPool,
    private readonly options: WarmPoolOptions,
    hostScript: string,
  ) {
    this.child = spawn(options.powershellPath, [...options.powershellFlags, '-File', hostScript], {
      shell: false,
      windowsHide: true,
      detached: process.platform !== 'win32',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const pid = this.child.pid;
    if (pid !== undefined) options.onProcess?.(pid, true);
    this.child.stdin?.on('error', () => {});
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 256 * 1024) this.stderr += chunk.toString('utf8');
    });
    const lines = createInterface({ input: this.child.stdout! });
    this.ready = new Promise<boolean>((answer) => {
      const timer = setTimeout(() => {
        this.log(`a warm PowerShell host did not say it was ready within ${this.startTimeoutMs / 1000}s`);
        answer(false);
        void this.kill();
      }, this.startTimeoutMs);
      let first = true;
      lines.on('line', (line) => {
        if (!line.startsWith(WARM_LINE_PREFIX)) return; // anything else a script or PowerShell wrote: not ours
        const json = parseJson(line.slice(WARM_LINE_PREFIX.length));
        if (first) {
          first = false;
          clearTimeout(timer);
          const ready = ReadySchema.safeParse(json);
          if (!ready.success) this.log(`a warm PowerShell host refused to start: ${line.slice(0, 300)}`);
          answer(ready.success);
          if (!ready.success) void this.kill();
          return;
        }
        this.onResponse(json);
      });
      this.child.on('error', (err) => {
        clearTimeout(timer);
        this.log(`cannot start a warm PowerShell host: ${err.message}`);
        answer(false);
        this.gone();
      });
      this.child.on('exit', (code, signal) => {
        clearTimeout(timer);
        answer(false);
        this.gone(code, signal);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private get startTimeoutMs(): number {
    return this.options.startTimeoutMs ?? 30_000;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  run(script: string, sha256: string, request: Buffer, options: WarmRunOptions): Promise<WarmCompleted> {
    this.busy = true;
    this.requests += 1;
    const id = randomUUID();
    return new Promise<WarmCompleted>((settle) => {
      if (this.dead) {
        settle({ exitCode: null, signal: 'SIGKILL', stdout: Buffer.alloc(0), stderr: this.stderr, pid: this.pid ?? 0 });
        return;
      }
      if (options.signal?.aborted) {
        // Cancelled while waiting for a host: nothing was sent, and the host stays good for others.
        settle({
          exitCode: null,
          signal: null,
          stdout: Buffer.alloc(0),
          stderr: '',
          outcome: 'cancelled',
          pid: this.pid ?? 0,
        });
        this.busy = false;
        this.pool.released(this, 0);
        return;
      }
      let outcome: WarmCompleted['outcome'];
      const stop = (why: NonNullable<WarmCompleted['outcome']>) => {
        if (outcome || !this.pending) return;
        outcome = why;
        void this.kill();
      };
      const onAbort = () => stop('cancelled');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
      this.pending = {
        id,
        settle: (value) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          settle(outcome ? { ...value, outcome } : value);
        },
      };
      const line = JSON.stringify({ id, script, sha256, request: request.toString('base64') });
      this.child.stdin?.write(`${line}\n`);
    });
  }

  private onResponse(json: unknown): void {
    const pending = this.pending;
    const response = ResponseSchema.safeParse(json);
    if (!pending) return;
    if (!response.success || (response.data.id !== null && response.data.id !== pending.id)) {
      // Not an answer to what was asked: this host cannot be trusted with another request.
      this.log('a warm PowerShell host answered out of protocol; it is replaced');
      void this.kill();
      return;
    }
    this.pending = undefined;
    pending.settle(this.completedFrom(response.data));
    this.busy = false;
    this.pool.released(this, 'workingSet' in response.data ? response.data.workingSet : 0);
  }

  private completedFrom(response: Response): WarmCompleted {
    const pid = this.child.pid ?? 0;
    if ('refused' in response) {
      return {
        exitCode: null,
        signal: null,
        stdout: Buffer.alloc(0),
        stderr: '',
        refused: { code: response.refused, message: response.message },
        pid,
      };
    }
    return {
      exitCode: response.exitCode,
      signal: null,
      stdout: Buffer.from(response.stdout, 'base64'),
      stderr: Buffer.from(response.stderr, 'base64').toString('utf8'),
      pid,
    };
  }

  /** The process is gone: the run in flight (if any) ends as a killed process would. */
  private gone(code: number | null = null, signal: NodeJS.Signals | null = null): void {
    if (this.dead) return;
    this.dead = true;
    if (this.child.pid !== undefined) this.options.onProcess?.(this.child.pid, false);
    const pending = this.pending;
    this.pending = undefined;
    pending?.settle({
      exitCode: signal ? null : code,
      signal: signal ?? (code === null ? 'SIGKILL' : null),
      stdout: Buffer.alloc(0),
      stderr: this.stderr.slice(-4000) || 'the warm PowerShell host exited during the run',
      pid: this.child.pid ?? 0,
    });
    this.pool.removed(this);
  }

  async kill(): Promise<void> {
    if (this.dead) return;
    await this.options.killTree(this.child);
  }

  /** Stops an idle host: an empty line ends its loop; killed if it lingers. */
  retire(): void {
    if (this.dead) return;
    this.child.stdin?.end('\n');
    setTimeout(() => void this.kill(), 5_000).unref();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class WarmPowerShellPool {
  private readonly processes = new Set<WarmProcess>();
  private readonly waiting: ((process: WarmProcess | undefined) => void)[] = [];
  private coldUntil = 0;
  private closed = false;
  /** Hosts being checked against the manifest before they are spawned. */
  private starting = 0;

  constructor(private readonly options: WarmPoolOptions) {}

  private get size(): number {
    return Math.max(1, this.options.size ?? 2);
  }

  /** PIDs of the host processes alive now. */
  pids(): number[] {
    return [...this.processes].map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /**
   * Runs `script` (a file name of the scripts folder, already checked against the manifest) with
   * `request` on a warm host. `undefined` when no warm host can be had: run it cold.
   */
  async run(script: string, request: Buffer, options: WarmRunOptions): Promise<WarmCompleted | undefined> {
    const sha256 = this.options.manifest.files[script];
    if (!sha256 || this.closed) return undefined;
    // The run's time limit counts from here: waiting for a busy host is part of it.
    const deadline = Date.now() + options.timeoutMs;
    const process = await this.acquireWithin(deadline, options.signal);
    if (process === 'timeout' || process === 'cancelled') {
      return {
        exitCode: null,
        signal: null,
        stdout: Buffer.alloc(0),
        stderr: process === 'timeout' ? 'no warm PowerShell host became free within the time limit' : '',
        outcome: process,
        pid: 0,
      };
    }
    if (!process) return undefined;
    return process.run(script, sha256, request, { ...options, timeoutMs: Math.max(1, deadline - Date.now()) });
  }

  /** A host for one run, unless the deadline passes or the run is cancelled first. */
  private acquireWithin(
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<WarmProcess | undefined | 'timeout' | 'cancelled'> {
    if (signal?.aborted) return Promise.resolve('cancelled');
    return new Promise((settle) => {
      let done = false;
      const finish = (value: WarmProcess | undefined | 'timeout' | 'cancelled'): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        settle(value);
        return true;
      };
      const onAbort = () => finish('cancelled');
      const timer = setTimeout(() => finish('timeout'), Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.acquire().then(
        (process) => {
          // Granted after the run gave up: the host goes to the next run instead.
          if (!finish(process) && process) {
            process.busy = false;
            this.released(process, 0);
          }
        },
        () => finish(undefined),
      );
    });
  }

  private async acquire(): Promise<WarmProcess | undefined> {
    for (const process of this.processes) {
      if (!process.busy && !process.dead) {
        if (await process.ready) {
          if (!process.busy && !process.dead) {
            process.busy = true;
            return process;
          }
        }
      }
    }
    if (this.processes.size + this.starting < this.size) {
      if (Date.now() < this.coldUntil) return undefined;
      const started = await this.start();
      if (!started) return undefined;
      started.busy = true;
      return started;
    }
    return new Promise<WarmProcess | undefined>((grant) => this.waiting.push(grant));
  }

  private async start(): Promise<WarmProcess | undefined> {
    // Counted from here: runs arriving while this host starts wait for it instead of starting more.
    this.starting += 1;
    let check: Awaited<ReturnType<typeof verifyScript>>;
    try {
      check = await verifyScript(this.options.scriptsDirectory, WARM_HOST_SCRIPT, this.options.manifest);
    } finally {
      this.starting -= 1;
    }
    if (!check.ok) {
      this.options.log?.(`not starting a warm PowerShell host: ${check.problems.join('; ')}`);
      this.coldUntil = Date.now() + (this.options.retryAfterMs ?? 60_000);
      return undefined;
    }
    const process = new WarmProcess(this, this.options, resolve(this.options.scriptsDirectory, WARM_HOST_SCRIPT));
    this.processes.add(process);
    // Reserved while it starts, so concurrent runs do not all wait on the same new host.
    process.busy = true;
    if (await process.ready) return process;
    this.processes.delete(process);
    this.coldUntil = Date.now() + (this.options.retryAfterMs ?? 60_000);
    this.grantWaiting();
    return undefined;
  }

  /** A run finished on `process`: recycle it if it is worn, then hand it (or a new one) to a waiting run. */
  released(process: WarmProcess, workingSet: number): void {
    const worn =
      process.requests >= (this.options.maxRequests ?? 100) ||
      workingSet > (this.options.maxWorkingSetBytes ?? 512 * 1024 * 1024);
    if (worn || this.closed) {
      this.processes.delete(process);
      process.retire();
      this.grantWaiting();
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      process.busy = true;
      next(process);
    }
  }

  /** A process died or was killed: a waiting run gets a new host. */
  removed(process: WarmProcess): void {
    this.processes.delete(process);
    this.grantWaiting();
  }

  private grantWaiting(): void {
    const next = this.waiting.shift();
    if (!next) return;
    if (this.closed) return next(undefined);
    void this.acquire().then(next, () => next(undefined));
  }

  /**
   * Starts `count` hosts now (at most the pool's size), so the first action of the first incident
   * does not wait for PowerShell either. Resolves once they are ready (or failed: runs then go cold).
   */
  async prestart(count = 1): Promise<void> {
    const wanted = Math.min(count, this.size) - this.processes.size - this.starting;
    await Promise.all(
      Array.from({ length: Math.max(0, wanted) }, async () => {
        const process = await this.start();
        if (!process) return;
        process.busy = false;
        this.released(process, 0);
      }),
    );
  }

  /** Stops every host (runs in flight end as killed). */
  async close(): Promise<void> {
    this.closed = true;
    for (const grant of this.waiting.splice(0)) grant(undefined);
    await Promise.all([...this.processes].map((p) => (p.busy ? p.kill() : (p.retire(), Promise.resolve()))));
    this.processes.clear();
  }
}
