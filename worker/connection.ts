/** Worker connections to Temporal, from the one config (self-hosted, TLS/mTLS or Temporal Cloud API key). */
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from '../common/config';

export function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
}
