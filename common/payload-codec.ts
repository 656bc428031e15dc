/**
 * Optional payload encryption (AES-256-GCM): alert contents, statuses and reports are stored in
 * Temporal encrypted, and only holders of SPAWNGUARD_PAYLOAD_KEY (workers, ingest, CLI, and the
 * Temporal UI through the codec endpoint) can read them. Node-side only: workflows never import it
 * (the worker applies codecs outside the workflow sandbox).
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const text = (value: string) => new TextEncoder().encode(value);
const untext = (value: Uint8Array | null | undefined) => (value ? new TextDecoder().decode(value) : '');

export interface PayloadKey {
  /** Names the key in each payload's metadata, so keys can be rotated (old payloads keep theirs). */
  id: string;
  key: Buffer;
}

/** `SPAWNGUARD_PAYLOAD_KEY`: 32 bytes, base64. The id is derived from the key so it needs no setting. */
export function parsePayloadKey(base64: string): PayloadKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32 || key.toString('base64') !== base64.trim()) {
    throw new Error('must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)');
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  /** `current` encrypts; every key (current and retired ones) can decrypt. */
  constructor(
    private readonly current: PayloadKey,
    retired: PayloadKey[] = [],
  ) {
    this.keys = new Map([current, ...retired].map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: text(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text(this.current.id) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (untext(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyId = untext(payload.metadata?.[KEY_ID_METADATA]);
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`payload encrypted with unknown key ${JSON.stringify(keyId)}`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/**
 * The data converter every client and worker uses: encrypting with the current key when one is
 * configured, decrypting with it or any retired one (rotation keeps open incidents readable), and
 * failure messages with the payloads.
 */
export function spawnguardDataConverter(
  settings: { payloadKey?: PayloadKey; retiredPayloadKeys?: PayloadKey[] } | undefined,
): DataConverter | undefined {
  if (!settings?.payloadKey) return undefined;
  return {
    payloadCodecs: [new EncryptionCodec(settings.payloadKey, settings.retiredPayloadKeys ?? [])],
    // Failure messages and stack traces are encrypted too; workflow bundles take the same path.
    failureConverterPath: require.resolve('./failure-converter'),
  };
}
