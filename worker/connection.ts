/** Worker connections to Temporal, from the one config (self-hosted, TLS/mTLS or Temporal Cloud API key). */
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
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
  const dataConverter = spawnguardDataConverter(settings.payloadKey);
  return { namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) };
}
