/**
 * Load generation: a fixed number of operations in flight at once, each timed from its start to its
 * answer, and a keep-alive HTTP client for the ingest service (real HTTP over loopback).
 */
import { Agent, request } from 'node:http';

export interface LoadRun<T> {
  results: T[];
  latenciesMs: number[];
  seconds: number;
  /** CPU time this process spent during the run (user + system), whatever it spent it on. */
  cpuMs: number;
}

/** Runs `operation` for every item, `concurrency` at a time; the first failure stops the run. */
export async function runBounded<I, T>(
  items: readonly I[],
  concurrency: number,
  operation: (item: I, index: number) => Promise<T>,
): Promise<LoadRun<T>> {
  const results = new Array<T>(items.length);
  const latenciesMs = new Array<number>(items.length);
  let next = 0;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      const t0 = performance.now();
      results[index] = await operation(items[index] as I, index);
      latenciesMs[index] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  return { results, latenciesMs, seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** Posts JSON over a pool of keep-alive connections, one per lane, as a SIEM forwarder would. */
export class JsonPoster {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    url: string,
    private readonly token: string,
    connections: number,
  ) {
    this.url = new URL(url);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  post(body: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path: this.url.pathname,
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: text });
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
