/**
 * What the analyst commands (`alert`, `status`, `review`) share: the configured Temporal client,
 * Temporal problems as exit codes, JSON input from a file or stdin, and plain-text tables.
 */
import type { Client } from '@temporalio/client';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError, loadConfig, type Config } from '../../common/config';
import { CliError, EXIT } from '../cli-errors';
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

/** The largest document a command reads (an alert, a batch, a script's result). */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/**
 * Reads one JSON document from a regular file, or stdin for `-`, capped at MAX_DOCUMENT_BYTES (a
 * device such as /dev/zero is refused, never read). Errors say what is wrong in plain words and
 * never quote the file's content: an alert file may hold an attacker's text.
 */
export async function readJsonDocument(
  source: string,
  label = source === '-' ? 'standard input' : source,
): Promise<unknown> {
  let text: string;
  if (source === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_DOCUMENT_BYTES)
        throw new CliError(`${label} is larger than ${MAX_DOCUMENT_BYTES} bytes`, EXIT.usage);
      chunks.push(chunk as Buffer);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      const info = await stat(source);
      if (!info.isFile()) throw new CliError(`${label} is not a regular file`, EXIT.usage);
      if (info.size > MAX_DOCUMENT_BYTES)
        throw new CliError(`${label} is larger than ${MAX_DOCUMENT_BYTES} bytes`, EXIT.usage);
      text = await readFile(source, 'utf8');
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot read ${label}: ${fileProblem(err as NodeJS.ErrnoException)}`, EXIT.usage);
    }
  }
  if (!text.trim()) throw new CliError(`${label} is empty: expected a JSON document`, EXIT.usage);
  try {
    // A UTF-8 BOM (Windows editors) is not part of the JSON.
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // The parser's message quotes the text around the fault: not repeated here.
    const truncated = /end of JSON input/i.test((err as Error).message);
    throw new CliError(
      `${label} is not valid JSON${truncated ? ' (it ends before the document does)' : ''}`,
      EXIT.usage,
    );
  }
}

function fileProblem(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    default:
      return err.code ?? 'it cannot be read';
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
