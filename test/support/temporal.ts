/** Helpers for tests that run against the dev server started by the global setup. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';

export function testAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: run tests through jest (global setup starts the server)');
  return address;
}

export async function testClient(): Promise<Client> {
  const connection = await Connection.connect({ address: testAddress() });
  return new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Runs `fn` while a real worker polls `options.taskQueue`; shuts the worker down afterwards. */
export async function withWorker<T>(
  options: Omit<WorkerOptions, 'connection'>,
  fn: (worker: Worker) => Promise<T>,
): Promise<T> {
  const connection = await NativeConnection.connect({ address: testAddress() });
  try {
    const worker = await Worker.create({
      ...options,
      connection,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    });
    return await worker.runUntil(fn(worker));
  } finally {
    await connection.close();
  }
}
