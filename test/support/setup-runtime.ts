/** Keeps worker logs to warnings and errors so test output stays readable. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed in this jest worker process.
}
