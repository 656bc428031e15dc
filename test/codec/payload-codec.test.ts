/**
 * Payload encryption: what reaches Temporal is ciphertext, workers and clients with the key see
 * the real values, tampering and wrong keys are detected, and the codec endpoint lets the UI decode.
 */
import { Client, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import Fastify from 'fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { registerCodecEndpoint } from '../../client/codec-endpoint';
import { startIngestService } from '../../client/ingest';
import { loadConfig } from '../../common/config';
import { bundleWorkflowsApart } from '../../worker/central';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  parsePayloadKey,
  spawnguardDataConverter,
} from '../../common/payload-codec';
import { historyText } from '../support/histories';
import { testAddress as testAddressForCodec, testClient, uniqueTaskQueue, withWorker } from '../support/temporal';

const newKey = () => parsePayloadKey(randomBytes(32).toString('base64'));
const encodingOf = (p: Payload) => new TextDecoder().decode(p.metadata?.encoding ?? new Uint8Array());

describe('EncryptionCodec', () => {
  const key = newKey();
  const codec = new EncryptionCodec(key);
  const plain = defaultPayloadConverter.toPayload({ host: 'WEB01', commandLine: 'powershell -enc SQBFAFgA' });

  it('round-trips payloads and leaves no plaintext in the encoded form', async () => {
    const [encoded] = await codec.encode([plain]);
    expect(encodingOf(encoded!)).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('WEB01');
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({
      host: 'WEB01',
      commandLine: 'powershell -enc SQBFAFgA',
    });
  });

  it('uses a fresh IV for every payload', async () => {
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('detects tampering', async () => {
    const [encoded] = await codec.encode([plain]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 0xff;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow();
  });

  it('refuses a payload encrypted with a key it does not hold, and decrypts with a retired key', async () => {
    const other = newKey();
    const [foreign] = await new EncryptionCodec(other).encode([plain]);
    await expect(codec.decode([foreign!])).rejects.toThrow(/unknown key/);
    const rotated = new EncryptionCodec(newKey(), [other]);
    const [decoded] = await rotated.decode([foreign!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toMatchObject({ host: 'WEB01' });
  });

  it('passes unencrypted payloads through on decode (history written before encryption was on)', async () => {
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('is configured from SPAWNGUARD_PAYLOAD_KEY, and a bad key is a clear configuration error', () => {
    const base64 = randomBytes(32).toString('base64');
    expect(loadConfig({ SPAWNGUARD_PAYLOAD_KEY: base64 }).temporal.payloadKey?.key.toString('base64')).toBe(base64);
    expect(() => loadConfig({ SPAWNGUARD_PAYLOAD_KEY: 'c2hvcnQ=' })).toThrow(
      /SPAWNGUARD_PAYLOAD_KEY \(key 1 of 1\): must be 32 random bytes/,
    );
    expect(() => loadConfig({ SPAWNGUARD_PAYLOAD_KEY: `${base64},c2hvcnQ=` })).toThrow(
      /SPAWNGUARD_PAYLOAD_KEY \(key 2 of 2\): must be 32 random bytes/,
    );
  });

  it('rotates: "new,old" encrypts with the new key and still opens what the old one encrypted', async () => {
    const oldText = randomBytes(32).toString('base64');
    const newText = randomBytes(32).toString('base64');
    const before = spawnguardDataConverter(loadConfig({ SPAWNGUARD_PAYLOAD_KEY: oldText }).temporal)!;
    const after = spawnguardDataConverter(loadConfig({ SPAWNGUARD_PAYLOAD_KEY: `${newText}, ${oldText}` }).temporal)!;
    const [sealedBefore] = await before.payloadCodecs![0]!.encode([plain]);
    const [opened] = await after.payloadCodecs![0]!.decode([sealedBefore!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(defaultPayloadConverter.fromPayload(plain));
    const [sealedAfter] = await after.payloadCodecs![0]!.encode([plain]);
    const keyId = (payload: typeof plain) => Buffer.from(payload.metadata?.['encryption-key-id'] ?? []).toString();
    expect(keyId(sealedAfter!)).toBe(parsePayloadKey(newText).id);
    expect(keyId(sealedBefore!)).toBe(parsePayloadKey(oldText).id);
    // The old configuration cannot open what the new key sealed.
    await expect(before.payloadCodecs![0]!.decode([sealedAfter!])).rejects.toThrow(/unknown key/);
  });
});

describe('encrypted workflows on the dev server', () => {
  it('stores only ciphertext in history, while worker and client see the values', async () => {
    const key = newKey();
    const dataConverter = spawnguardDataConverter({ payloadKey: key })!;
    const plainClient = await testClient();
    const client = new Client({ connection: plainClient.connection, namespace: 'default', dataConverter });
    const taskQueue = uniqueTaskQueue('codec');
    const marker = `secret-host-${randomUUID()}`;
    const workflowId = `codec-${randomUUID()}`;
    const result = await withWorker(
      {
        taskQueue,
        dataConverter,
        workflowsPath: require.resolve('../fixtures/workflows/smoke'),
        activities: { greet: async (name: string) => `hello ${name}` },
      },
      () => client.workflow.execute('smokeWorkflow', { taskQueue, workflowId, args: [marker] }),
    );
    expect(result).toBe(`hello ${marker}`);

    const history = await plainClient.workflow.getHandle(workflowId).fetchHistory();
    // Search attributes are indexed by the server, so codecs never apply to them (a Temporal rule
    // the README states): the smoke workflow's AlertId shows the value in the clear, everything else must not.
    const upsert = history.events?.find((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    expect(historyText(upsert)).toContain(marker);
    const payloadEvents = history.events?.filter((e) => e !== upsert);
    expect(historyText(payloadEvents)).not.toContain(marker);
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    expect(encodingOf(input as Payload)).toBe(ENCRYPTED_ENCODING);

    // The Temporal UI decodes through the codec endpoint.
    const app = Fastify();
    registerCodecEndpoint(app, { codec: new EncryptionCodec(key), corsOrigin: 'http://localhost:8233' });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const post = (body: unknown) =>
      fetch(`${base}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://localhost:8233' },
        body: JSON.stringify(body),
      });
    const response = await post({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(input!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v as Uint8Array).toString('base64')]),
          ),
          data: Buffer.from(input!.data as Uint8Array).toString('base64'),
        },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const decoded = ((await response.json()) as { payloads: { data: string }[] }).payloads[0]!;
    expect(Buffer.from(decoded.data, 'base64').toString()).toContain(marker);

    const bad = await post({ payloads: [{ data: '!!!' }] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ problems: [{ field: 'payloads.0.data', message: 'must be base64' }] });
    await app.close();
  });
});

describe('encrypted failures on the dev server', () => {
  it('stores failure messages encoded: an activity’s and the workflow’s own, bundled apart as the central worker does', async () => {
    const key = newKey();
    const dataConverter = spawnguardDataConverter({ payloadKey: key })!;
    expect(dataConverter.failureConverterPath).toBe(require.resolve('../../common/failure-converter'));
    const plainClient = await testClient();
    const client = new Client({ connection: plainClient.connection, namespace: 'default', dataConverter });
    const taskQueue = uniqueTaskQueue('codec-failure');
    const marker = `C:\\Users\\victim-${randomUUID()}\\payload.exe`;
    const workflowId = `codec-failure-${randomUUID()}`;
    const bundle = await bundleWorkflowsApart(
      require.resolve('../fixtures/workflows/smoke'),
      dataConverter.failureConverterPath,
    );
    const failure = await withWorker(
      {
        taskQueue,
        dataConverter,
        workflowBundle: bundle,
        activities: {
          fail: async (path: string) => {
            throw new Error(`cannot open ${path}`);
          },
        },
      },
      () =>
        client.workflow.execute('failingWorkflow', { taskQueue, workflowId, args: [marker] }).then(
          () => new Error('the workflow did not fail'),
          (err: unknown) => err,
        ),
    );
    rmSync(dirname(bundle.codePath), { recursive: true, force: true });
    // A client with the key reads the messages as they were raised.
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toBe(`the workflow gave up on ${marker}`);

    // History holds neither message in the clear: both say "Encoded failure", their text is ciphertext.
    const history = await plainClient.workflow.getHandle(workflowId).fetchHistory();
    expect(historyText(history.events)).not.toContain(marker);
    expect(historyText(history.events)).not.toContain('victim-');
    const activityFailure = history.events?.find((e) => e.activityTaskFailedEventAttributes)
      ?.activityTaskFailedEventAttributes?.failure;
    const workflowFailure = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)
      ?.workflowExecutionFailedEventAttributes?.failure;
    for (const recorded of [activityFailure, workflowFailure]) {
      expect(recorded?.message).toBe('Encoded failure');
      expect(encodingOf(recorded?.encodedAttributes as Payload)).toBe(ENCRYPTED_ENCODING);
    }
    const [opened] = await new EncryptionCodec(key).decode([activityFailure!.encodedAttributes as Payload]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toMatchObject({ message: `cannot open ${marker}` });
  });
});

describe('the codec endpoint of the ingest service', () => {
  const payloadKey = randomBytes(32).toString('base64');
  const env = (extra: Record<string, string>) =>
    loadConfig({
      SPAWNGUARD_PAYLOAD_KEY: payloadKey,
      SPAWNGUARD_INGEST_TOKEN: 'ingest-token-for-codec-test',
      SPAWNGUARD_LINK_SECRET: 'link-secret-for-codec-test',
      TEMPORAL_ADDRESS: testAddressForCodec(),
      ...extra,
    });

  it('is not on the public ingest listener, and asks for its token on its own', async () => {
    const service = await startIngestService(
      env({ SPAWNGUARD_CODEC_LISTEN: '127.0.0.1:0', SPAWNGUARD_CODEC_TOKEN: 'codec-token-7f3a' }),
      { host: '127.0.0.1', port: 0, notice: () => {}, logDestination: { write: () => {} } },
    );
    try {
      const sealed = await spawnguardDataConverter(env({}).temporal)!.payloadCodecs![0]!.encode([
        defaultPayloadConverter.toPayload({ commandLine: 'powershell -enc SQBFAFgA' }),
      ]);
      const body = JSON.stringify({
        payloads: sealed.map((p) => ({
          metadata: Object.fromEntries(
            Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
          ),
          data: Buffer.from(p.data!).toString('base64'),
        })),
      });
      const post = (url: string, headers: Record<string, string> = {}) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      // The public listener (SIEMs post alerts there) has no codec at all.
      expect((await post(`${service.url}/codec/decode`)).status).toBe(404);
      expect(service.codecUrl).toBeDefined();
      expect((await post(`${service.codecUrl}/decode`)).status).toBe(401);
      expect((await post(`${service.codecUrl}/decode`, { authorization: 'Bearer wrong' })).status).toBe(401);
      const opened = await post(`${service.codecUrl}/decode`, { authorization: 'Bearer codec-token-7f3a' });
      expect(opened.status).toBe(200);
      const [payload] = ((await opened.json()) as { payloads: { metadata: Record<string, string>; data: string }[] })
        .payloads;
      expect(Buffer.from(payload!.data, 'base64').toString()).toContain('powershell -enc SQBFAFgA');
    } finally {
      await service.close();
    }
  });

  it('refuses to listen beyond loopback without a token', async () => {
    await expect(
      startIngestService(env({ SPAWNGUARD_CODEC_LISTEN: '0.0.0.0:0' }), {
        host: '127.0.0.1',
        port: 0,
        notice: () => {},
        logDestination: { write: () => {} },
      }),
    ).rejects.toThrow(/SPAWNGUARD_CODEC_TOKEN/);
  });
});
