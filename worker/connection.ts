/** Worker connections to Temporal, from the one config (self-hosted, TLS/mTLS or Temporal Cloud API key). */
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import type { TemporalSettings } from '../common/config';
import { spawnguardDataConverter } from '../common/payload-codec';

export function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
}

/** Options every spawnguard worker shares: namespace and (when configured) payload encryption. */
export function workerDefaults(settings: TemporalSettings): Pick<WorkerOptions, 'namespace' | 'dataConverter'> {
  const dataConverter = spawnguardDataConverter(settings);
  return { namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) };
}

/**
 * The Temporal SDK's own log, one level quieter than spawnguard's (its INFO lines — worker state
 * changes, the workflow bundle's webpack report — are noise to an operator). Entry points only,
 * before any worker or connection exists.
 */
export function installTemporalRuntimeLogger(level: string = process.env.SPAWNGUARD_LOG_LEVEL ?? 'info'): void {
  const sdkLevel = (
    { trace: 'TRACE', debug: 'DEBUG', info: 'WARN', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' } as const
  )[level as 'info'];
  try {
    Runtime.install({ logger: new DefaultLogger(sdkLevel ?? 'WARN') });
  } catch {
    // Already installed (a second entry point in the same process): keep the first.
  }
}
