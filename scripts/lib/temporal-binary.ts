/**
 * Finds or provisions the Temporal CLI (which embeds the dev server and its UI).
 *
 * Order (DESIGN.md §4): SPAWNGUARD_TEMPORAL_BIN → `temporal` on PATH → per-user cached build →
 * official download → `go install` of the pinned version. Every candidate is checked with
 * `temporal --version` before it is used.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
const DOWNLOAD_TIMEOUT_MS = 15_000;

export type BinarySource = 'environment' | 'path' | 'cache' | 'download' | 'go-build';
export interface TemporalBinary {
  path: string;
  version: string;
  source: BinarySource;
}

type Progress = (message: string) => void;
const binaryName = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

export function cacheDirectory(): string {
  const base =
    process.env.XDG_CACHE_HOME ||
    (process.platform === 'win32'
      ? (process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'))
      : join(homedir(), '.cache'));
  return join(base, 'spawnguard', 'temporal-cli', TEMPORAL_CLI_VERSION);
}

export function cachedBinaryPath(): string {
  return join(cacheDirectory(), binaryName);
}

/** Runs `<path> --version`; returns the version line, or undefined when it is not a working Temporal CLI. */
export function probeVersion(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0 || !/^temporal version /m.test(result.stdout)) return undefined;
  return result.stdout.trim();
}

function findOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binaryName);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

export async function ensureTemporalBinary(progress: Progress = () => {}): Promise<TemporalBinary> {
  const explicit = process.env.SPAWNGUARD_TEMPORAL_BIN;
  if (explicit) {
    const version = probeVersion(explicit);
    if (!version) {
      throw new Error(`SPAWNGUARD_TEMPORAL_BIN=${explicit} is not a working Temporal CLI (\`--version\` failed).`);
    }
    return { path: explicit, version, source: 'environment' };
  }

  const onPath = findOnPath();
  const onPathVersion = onPath && probeVersion(onPath);
  if (onPath && onPathVersion) return { path: onPath, version: onPathVersion, source: 'path' };

  const cached = cachedBinaryPath();
  const cachedVersion = existsSync(cached) ? probeVersion(cached) : undefined;
  if (cachedVersion) return { path: cached, version: cachedVersion, source: 'cache' };

  mkdirSync(cacheDirectory(), { recursive: true });
  const failures: string[] = [];

  progress(`Temporal CLI ${TEMPORAL_CLI_VERSION} not found; trying the official download…`);
  try {
    await downloadOfficial(cached, progress);
    const version = probeVersion(cached);
    if (version) return { path: cached, version, source: 'download' };
    failures.push('download: the downloaded binary did not run');
  } catch (err) {
    failures.push(`download: ${(err as Error).message}`);
    progress('  official download unavailable; building from source with Go instead.');
  }

  try {
    await goBuild(cached, progress);
    const version = probeVersion(cached);
    if (version) return { path: cached, version, source: 'go-build' };
    failures.push('go build: the built binary did not run');
  } catch (err) {
    failures.push(`go build: ${(err as Error).message}`);
  }

  throw new Error(
    [
      `Could not provide a Temporal dev server (Temporal CLI ${TEMPORAL_CLI_VERSION}).`,
      ...failures.map((f) => `  - ${f}`),
      'Fix one of these and run `npm run temporal:ensure` again:',
      '  - install the Temporal CLI and put `temporal` on PATH, or set SPAWNGUARD_TEMPORAL_BIN to it;',
      '  - allow downloads from temporal.download;',
      '  - install Go 1.23 or newer (https://go.dev/doc/install) with access to the Go module proxy.',
    ].join('\n'),
  );
}

async function downloadOfficial(target: string, progress: Progress): Promise<void> {
  const platform = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform as string];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
  if (!platform || !arch) throw new Error(`no official build for ${process.platform}/${process.arch}`);
  if (platform === 'windows') throw new Error('automatic download is not supported on Windows (zip archive)');
  const url = `https://temporal.download/cli/archive/v${TEMPORAL_CLI_VERSION}?platform=${platform}&arch=${arch}`;

  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(`cannot reach temporal.download (${cause ?? (err as Error).message})`);
  }
  if (!response.ok || !response.body) throw new Error(`temporal.download answered HTTP ${response.status}`);

  const workDir = join(tmpdir(), `spawnguard-temporal-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  try {
    const archive = join(workDir, 'temporal.tar.gz');
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(archive));
    const untar = spawnSync('tar', ['-xzf', archive, '-C', workDir, binaryName], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`could not unpack the archive: ${untar.stderr.trim()}`);
    renameSync(join(workDir, binaryName), target);
    progress(`  downloaded to ${target}`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function goBuild(target: string, progress: Progress): Promise<void> {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) throw new Error('Go is not installed (`go version` failed)');
  progress(`Building Temporal CLI ${TEMPORAL_CLI_VERSION} from source with ${go.stdout.trim()}.`);
  progress('  This happens once per machine and takes a few minutes; the result is cached in');
  progress(`  ${cacheDirectory()}`);

  // Build into a staging folder, then rename: an interrupted build never leaves a broken cache entry.
  const staging = join(cacheDirectory(), `.staging-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        'go',
        [
          'install',
          '-ldflags',
          `-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
          GO_PACKAGE,
        ],
        { env: { ...process.env, CGO_ENABLED: '0', GOBIN: staging }, cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let downloads = 0;
      let tail = '';
      const ticker = setInterval(() => {
        const seconds = Math.round((Date.now() - started) / 1000);
        progress(`  … still building (${seconds}s elapsed, ${downloads} modules fetched)`);
      }, 30_000);
      const onOutput = (chunk: Buffer) => {
        const text = chunk.toString();
        downloads += (text.match(/go: downloading /g) ?? []).length;
        tail = (tail + text).slice(-4000);
      };
      child.stdout.on('data', onOutput);
      child.stderr.on('data', onOutput);
      child.on('error', (err) => {
        clearInterval(ticker);
        reject(err);
      });
      child.on('close', (code) => {
        clearInterval(ticker);
        if (code === 0) resolve();
        else reject(new Error(`\`go install ${GO_PACKAGE}\` exited with ${code}:\n${tail}`));
      });
    });
    renameSync(join(staging, binaryName), target);
    progress(`  built in ${Math.round((Date.now() - started) / 1000)}s → ${target}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
