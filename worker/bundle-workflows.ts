/**
 * Bundles the workflows (webpack) into one file: `bundle-workflows.ts <workflowsPath> <outFile>`.
 * Run in a short-lived child process by the central worker, so webpack's memory (well over
 * 100 MiB) is never part of the long-running worker's.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

async function run(): Promise<void> {
  const [workflowsPath, outFile] = process.argv.slice(2);
  if (!workflowsPath || !outFile) throw new Error('usage: bundle-workflows.ts <workflowsPath> <outFile>');
  const quiet = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never;
  const { code } = await bundleWorkflowCode({ workflowsPath: resolve(workflowsPath), logger: quiet });
  writeFileSync(outFile, code);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
