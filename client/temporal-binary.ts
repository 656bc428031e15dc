/**
 * Finds or provisions the Temporal CLI (which embeds the dev server and its UI).
 *
 * Order (DESIGN.md §4): SPAWNGUARD_TEMPORAL_BIN → `temporal` on PATH → per-user cached build →
 * official download → `go install` of the pinned version → an archive named by
 * SPAWNGUARD_TEMPORAL_ARCHIVE (a gzipped prebuilt binary, for machines with neither internet nor Go;
 * unpacked into the cache only when its SHA-256 is the pinned one). Every candidate is checked with
 * `temporal --version` before it is used.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
const DOWNLOAD_TIMEOUT_MS = 15_000;

/**
 * SHA-256 of the Temporal CLI 1.5.1 linux-amd64 binary built with the `go install` line above
 * (shared/tools/temporal-cli/README.md). An archive must unpack to exactly this binary, unless
 * SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256 names the hash of another build the operator trusts.
 */
export const PINNED_BINARY_SHA256 = '1b1d3bb02d17d1921987f910f107e17fc72a62c4d615970b2cc8d3d41e839c59';

export type BinarySource = 'environment' | 'path' | 'cache' | 'download' | 'go-build' | 'archive';
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
    progress('  official download unavailable; trying a build from source with Go.');
  }

  try {
    await goBuild(cached, progress);
    const version = probeVersion(cached);
    if (version) return { path: cached, version, source: 'go-build' };
    failures.push('go build: the built binary did not run');
  } catch (err) {
    failures.push(`go build: ${(err as Error).message}`);
    progress(`  no Go build (${(err as Error).message}).`);
  }

  const archive = process.env.SPAWNGUARD_TEMPORAL_ARCHIVE?.trim();
  if (archive) {
    try {
      await unpackArchive(archive, cached, progress);
      const version = probeVersion(cached);
      if (version) return { path: cached, version, source: 'archive' };
      failures.push(`archive: ${archive} unpacked to a binary that does not run`);
    } catch (err) {
      failures.push(`archive: ${(err as Error).message}`);
    }
  } else {
    failures.push('archive: SPAWNGUARD_TEMPORAL_ARCHIVE is not set');
  }

  throw new Error(
    [
      `Could not provide a Temporal dev server (Temporal CLI ${TEMPORAL_CLI_VERSION}).`,
      ...failures.map((f) => `  - ${f}`),
      'Fix one of these and run `npm run temporal:ensure` again:',
      '  - install the Temporal CLI and put `temporal` on PATH, or set SPAWNGUARD_TEMPORAL_BIN to it;',
      '  - allow downloads from temporal.download;',
      '  - install Go 1.23 or newer (https://go.dev/doc/install) with access to the Go module proxy;',
      '  - without internet or Go: set SPAWNGUARD_TEMPORAL_ARCHIVE to a gzipped prebuilt Temporal CLI',
      `    ${TEMPORAL_CLI_VERSION} (its unpacked SHA-256 must be ${PINNED_BINARY_SHA256},`,
      '    or the one given in SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256).',
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

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Unpacks a gzipped Temporal binary (the CLI unless `pinned` names another) into a staging file beside the cache entry, checks its SHA-256,
 * then renames it into place: a wrong or truncated archive never becomes the cached binary.
 */
export async function unpackArchive(
  archive: string,
  target: string,
  progress: Progress,
  pinned: { sha256: string; what: string } = {
    sha256: process.env.SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256?.trim() || PINNED_BINARY_SHA256,
    what: 'the Temporal CLI',
  },
): Promise<void> {
  if (!existsSync(archive) || !statSync(archive).isFile()) throw new Error(`${archive} is not a file`);
  const expected = pinned.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(expected)) {
    throw new Error('SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256 must be 64 hex digits (the SHA-256 of the unpacked binary)');
  }
  progress(`Unpacking ${pinned.what} from ${archive}…`);
  const staging = `${target}.unpack-${process.pid}`;
  try {
    try {
      await pipeline(createReadStream(archive), createGunzip(), createWriteStream(staging, { mode: 0o755 }));
    } catch (err) {
      throw new Error(`${archive} is not a gzipped binary: ${(err as Error).message}`);
    }
    const actual = await sha256Of(staging);
    if (actual !== expected) {
      throw new Error(`${archive} unpacks to SHA-256 ${actual}, not the expected ${expected}; refusing to use it`);
    }
    chmodSync(staging, 0o755);
    renameSync(staging, target);
    progress(`  SHA-256 verified (${actual}); cached at ${target}`);
  } finally {
    rmSync(staging, { force: true });
  }
}
