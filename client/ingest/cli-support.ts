/**
 * What the analyst commands (`alert`, `status`, `review`) share: the configured Temporal client,
 * Temporal problems as exit codes, JSON input from a file or stdin, and plain-text tables.
 */
import type { Client } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../../common/config';
import { CliError, EXIT } from '../cli';
import { classifyTemporalError, lazyClient } from './temporal';

export function loadCliConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/** Runs `fn` with a Temporal client from the environment; Temporal failures become CliErrors with their exit code. */
export async function withTemporal<T>(fn: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadCliConfig();
  const client = lazyClient(config.temporal);
  try {
    return await fn(client, config);
  } catch (err) {
    if (err instanceof CliError) throw err;
    const problem = classifyTemporalError(err);
    const exitCode =
      problem.kind === 'unavailable' ? EXIT.unavailable : problem.kind === 'not-found' ? EXIT.notFound : EXIT.failure;
    const where = problem.kind === 'unavailable' ? ` (TEMPORAL_ADDRESS=${config.temporal.address})` : '';
    throw new CliError(`${problem.message}${where}`, exitCode);
  } finally {
    await client.connection.close();
  }
}

/** Parses JSON from a file, or from stdin for `-`. */
export function readJsonInput(source: string): unknown {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${source === '-' ? 'stdin' : source}: ${(err as Error).message}`, EXIT.usage);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${source === '-' ? 'stdin' : source} is not JSON: ${(err as Error).message}`, EXIT.usage);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain table: a header row, then one row per item, columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
