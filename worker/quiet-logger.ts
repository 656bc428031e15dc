/**
 * An SDK logger that keeps the Temporal worker and bundler quiet: nothing below a warning, and only
 * what is asked of warnings and errors (the console by default for errors).
 */
import type { Logger } from '@temporalio/common';

export function quietLogger(options: { warnings?: boolean; errors?: boolean } = {}): Logger {
  const { warnings = false, errors = true } = options;
  const ignore = () => {};
  return {
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: warnings ? console.warn : ignore,
    error: errors ? console.error : ignore,
    log: ignore,
  } as Logger;
}
