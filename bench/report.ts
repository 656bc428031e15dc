/** The bench's results: the table (console and Markdown) and the machine it ran on. */
import { execFile } from 'node:child_process';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { promisify } from 'node:util';

export interface Row {
  /** Names the rows with a target, for the readings of a miss. */
  key?:
    | 'start-throughput'
    | 'start-p99'
    | 'storm'
    | 'remediation'
    | 'central-rss'
    | 'host-rss'
    | 'warm-p50'
    | 'powershell-remediation';
  metric: string;
  spawnguard: string;
  baseline: string;
  ratio: string;
  target: string;
  /** Undefined: the row has no target (shown for context). */
  met?: boolean;
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  temporal: string;
  loadAverageAtStart: string;
}

export async function describeMachine(temporalBinary: string): Promise<Machine> {
  const cpuList = cpus();
  let temporal: string;
  try {
    temporal = (await promisify(execFile)(temporalBinary, ['--version'])).stdout.trim();
  } catch (err) {
    temporal = `unknown (${(err as Error).message})`;
  }
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    ramGiB: totalmem() / 1024 ** 3,
    os: `${type()} ${release()}`,
    node: process.version,
    temporal,
    loadAverageAtStart: loadAverage(),
  };
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

const metText = (row: Row) => (row.met === undefined ? '—' : row.met ? 'yes' : 'NO');
const COLUMNS = ['metric', 'spawnguard', 'baseline', 'ratio', 'target', 'met?'] as const;
const cells = (row: Row) => [row.metric, row.spawnguard, row.baseline, row.ratio, row.target, metText(row)];

export function consoleTable(rows: Row[]): string {
  const table = [COLUMNS as readonly string[], ...rows.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(table[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
}

export function markdownTable(rows: Row[]): string {
  const escape = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${cells(r).map(escape).join(' | ')} |`),
  ].join('\n');
}

export function machineLines(machine: Machine): string[] {
  return [
    `CPU: ${machine.cpu}, ${machine.cores} logical cores`,
    `RAM: ${machine.ramGiB.toFixed(1)} GiB`,
    `OS: ${machine.os}`,
    `Node.js: ${machine.node}`,
    `Temporal CLI: ${machine.temporal.replace(/\s+/g, ' ')}`,
    `Load average (1/5/15 min) at start: ${machine.loadAverageAtStart}`,
  ];
}
