/**
 * Recorded workflow histories, kept in the repo and replayed against the current workflow code so a
 * change that would break in-flight incidents fails CI. Record anew with
 * `SPAWNGUARD_RECORD_HISTORIES=1 npx jest test/playbook/playbook.test.ts` — only when a change is
 * deliberately incompatible and guarded by `patched()`; otherwise add, never replace.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testAddress } from './temporal';

export const HISTORY_DIR = join(__dirname, '..', 'fixtures', 'histories');

/**
 * Saved with the Temporal CLI (`temporal workflow show --output json`): the same proto3 JSON a user
 * exports from the UI, and independent of the SDK's in-process protobuf instances.
 */
export async function keepHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.SPAWNGUARD_RECORD_HISTORIES) return;
  const binary = process.env.SPAWNGUARD_TEST_TEMPORAL_BIN;
  if (!binary) throw new Error('SPAWNGUARD_TEST_TEMPORAL_BIN is not set: run through jest (global setup)');
  const runId = (await handle.describe()).runId;
  const json = execFileSync(
    binary,
    [
      'workflow',
      'show',
      '--workflow-id',
      handle.workflowId,
      '--run-id',
      runId,
      '--address',
      testAddress(),
      '--namespace',
      'default',
      '--output',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  mkdirSync(HISTORY_DIR, { recursive: true });
  writeFileSync(join(HISTORY_DIR, `${name}.json`), json);
}

/**
 * Everything a fetched history holds as one searchable string: byte fields (payload data and
 * metadata, as the gRPC client returns them) decoded one byte per character, everything else as is.
 */
export function historyText(value: unknown): string {
  if (ArrayBuffer.isView(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  if (Array.isArray(value)) return value.map(historyText).join(' ');
  if (value && typeof value === 'object') return Object.values(value).map(historyText).join(' ');
  return String(value);
}
