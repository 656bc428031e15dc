/** Client connections to Temporal, from the one config (self-hosted, TLS/mTLS or Temporal Cloud API key). */
import { Client, Connection } from '@temporalio/client';
import type { TemporalSettings } from '../common/config';
import { spawnguardDataConverter } from '../common/payload-codec';

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
  const dataConverter = spawnguardDataConverter(settings.payloadKey);
  return new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
}
