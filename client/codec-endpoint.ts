/**
 * The codec endpoint (Temporal's remote codec protocol): `POST …/encode` and `POST …/decode` take
 * and return `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` (Payloads as proto3 JSON),
 * so the Temporal UI can show encrypted payloads to the people allowed to open it. Served by the
 * ingest service when SPAWNGUARD_PAYLOAD_KEY is set, on a listener of its own (SPAWNGUARD_CODEC_LISTEN,
 * loopback by default; a token is required anywhere else), never on the public ingest listener:
 * whoever reaches it can read every payload. Point the UI's "Codec Server" setting at
 * `http://<codec listener>/codec`.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { bearerCheck } from './ingest/auth';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const PayloadsSchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() })).max(1000),
});
type JsonPayload = z.infer<typeof PayloadsSchema>['payloads'][number];

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});
const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(data ?? []).toString('base64'),
});

export interface CodecEndpointOptions {
  codec: PayloadCodec;
  /** When set, every encode/decode call must carry `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** The Temporal UI's origin, allowed to call the endpoint from the browser. */
  corsOrigin?: string;
  prefix?: string;
}

export function registerCodecEndpoint(app: FastifyInstance, options: CodecEndpointOptions): void {
  const prefix = options.prefix ?? '/codec';
  const validBearer = options.token ? bearerCheck(options.token) : null;
  const cors = (reply: { header(name: string, value: string): unknown }) => {
    if (!options.corsOrigin) return;
    reply.header('Access-Control-Allow-Origin', options.corsOrigin);
    reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
    reply.header('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    reply.header('Access-Control-Allow-Credentials', 'true');
    reply.header('Vary', 'Origin');
  };
  for (const operation of ['encode', 'decode'] as const) {
    const url = `${prefix}/${operation}`;
    app.options(url, async (_request, reply) => {
      cors(reply);
      return reply.code(204).send();
    });
    app.post(url, async (request, reply) => {
      cors(reply);
      if (validBearer && !validBearer(request.headers.authorization)) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'authorization required' });
      }
      const parsed = PayloadsSchema.safeParse(request.body);
      if (!parsed.success) {
        return reply.code(400).send({
          error: 'invalid payloads',
          problems: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
        });
      }
      const input = parsed.data.payloads.map(fromJson);
      try {
        const output = await options.codec[operation](input);
        return { payloads: output.map(toJson) };
      } catch (err) {
        return reply.code(400).send({ error: `cannot ${operation}: ${(err as Error).message}` });
      }
    });
  }
}
