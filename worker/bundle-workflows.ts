/**
 * Bundles the workflows (webpack) into one file:
 * `bundle-workflows.ts <workflowsPath> <outFile> [failureConverterPath]`.
 * Run in a short-lived child process by the central worker, so webpack's memory (well over
 * 100 MiB) is never part of the long-running worker's.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { quietLogger } from './quiet-logger';

async function run(): Promise<void> {
  const [workflowsPath, outFile, failureConverterPath] = process.argv.slice(2);
  if (!workflowsPath || !outFile) {
    throw new Error('usage: bundle-workflows.ts <workflowsPath> <outFile> [failureConverterPath]');
  }
  const quiet = quietLogger({ warnings: true });
  const { code } = await bundleWorkflowCode({
    workflowsPath: resolve(workflowsPath),
    // Failures raised in workflow code are converted inside the bundle: an encrypted deployment's
    // converter encodes their messages.
    ...(failureConverterPath ? { failureConverterPath: resolve(failureConverterPath) } : {}),
    logger: quiet,
  });
  writeFileSync(outFile, code);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
