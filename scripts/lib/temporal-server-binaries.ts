/**
 * Finds or provisions the Temporal server 1.29.1 and its SQL schema tool, for the production
 * topology run natively (`npm run cluster`): the same server version the dev server embeds.
 *
 * Order: SPAWNGUARD_TEMPORAL_SERVER_BIN and SPAWNGUARD_TEMPORAL_SQL_TOOL_BIN → the per-user cache →
 * the gzipped prebuilt binaries in SPAWNGUARD_TEMPORAL_SERVER_ARCHIVES (default
 * ../shared/tools/temporal-server beside the checkout), unpacked into the cache only when their
 * SHA-256 is the pinned one. Every candidate is checked with `--version` before it is used.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { unpackArchive } from '../../client/temporal-binary';

export const TEMPORAL_SERVER_VERSION = '1.29.1';

/** SHA-256 of the unpacked linux-amd64 builds (shared/tools/temporal-server/README.md). */
const PINNED = {
  'temporal-server': '079e94482f0bca7213f31ec89ace31f6ff15bca5be660c57118c2515feaa08b2',
  'temporal-sql-tool': '54c01700a764459e61effded8a8df89a4a5c3b357e3a28fe8d3217fa1c934692',
} as const;
type Tool = keyof typeof PINNED;

const ENVIRONMENT: Record<Tool, string> = {
  'temporal-server': 'SPAWNGUARD_TEMPORAL_SERVER_BIN',
  'temporal-sql-tool': 'SPAWNGUARD_TEMPORAL_SQL_TOOL_BIN',
};

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
}

function cacheDirectory(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'spawnguard', 'temporal-server', TEMPORAL_SERVER_VERSION);
}

function archiveDirectory(): string {
  return resolve(
    process.env.SPAWNGUARD_TEMPORAL_SERVER_ARCHIVES ||
      join(__dirname, '..', '..', '..', 'shared', 'tools', 'temporal-server'),
  );
}

/** The version a binary reports, or undefined when it does not run. */
function probe(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  if (result.status !== 0) return undefined;
  return /(\d+\.\d+\.\d+)/.exec(`${result.stdout}${result.stderr}`)?.[1];
}

async function ensure(tool: Tool, progress: (line: string) => void): Promise<string> {
  const configured = process.env[ENVIRONMENT[tool]];
  if (configured) {
    const version = probe(configured);
    if (!version) throw new Error(`${ENVIRONMENT[tool]}=${configured} does not run (${tool} --version failed)`);
    return configured;
  }
  const cached = join(cacheDirectory(), tool);
  if (existsSync(cached) && probe(cached) === TEMPORAL_SERVER_VERSION) return cached;

  const archive = join(archiveDirectory(), `${tool}-${TEMPORAL_SERVER_VERSION}-linux-amd64.gz`);
  if (!existsSync(archive)) {
    throw new Error(
      `${tool} ${TEMPORAL_SERVER_VERSION} is not available: set ${ENVIRONMENT[tool]} to a binary, or ` +
        `SPAWNGUARD_TEMPORAL_SERVER_ARCHIVES to a folder holding ${tool}-${TEMPORAL_SERVER_VERSION}-linux-amd64.gz ` +
        `(looked in ${archiveDirectory()})`,
    );
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the prebuilt ${tool} is for linux-amd64; this is ${process.platform}-${process.arch}`);
  }
  mkdirSync(cacheDirectory(), { recursive: true });
  await unpackArchive(archive, cached, progress, { sha256: PINNED[tool], what: `${tool} ${TEMPORAL_SERVER_VERSION}` });
  const version = probe(cached);
  if (version !== TEMPORAL_SERVER_VERSION) {
    throw new Error(`${cached} reports version ${version ?? '(none)'}, not ${TEMPORAL_SERVER_VERSION}`);
  }
  return cached;
}

export async function ensureTemporalServerBinaries(
  progress: (line: string) => void = () => {},
): Promise<TemporalServerBinaries> {
  return {
    server: await ensure('temporal-server', progress),
    sqlTool: await ensure('temporal-sql-tool', progress),
  };
}
