/**
 * The Temporal CLI from an archive (machines without internet or Go): unpacked into the cache only
 * when the unpacked binary has the expected SHA-256; anything else is refused and nothing is cached.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PINNED_BINARY_SHA256, unpackArchive } from '../../client/temporal-binary';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('unpacking the Temporal CLI from an archive', () => {
  let dir: string;
  const saved = process.env.SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spawnguard-archive-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256;
    else process.env.SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256 = saved;
  });

  it('caches an executable binary whose SHA-256 is the expected one', async () => {
    const binary = Buffer.from('#!/bin/sh\necho "temporal version 1.5.1"\n');
    writeFileSync(join(dir, 'temporal.gz'), gzipSync(binary));
    process.env.SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256 = sha256(binary);
    const lines: string[] = [];
    await unpackArchive(join(dir, 'temporal.gz'), join(dir, 'temporal'), (line) => lines.push(line));
    expect(readFileSync(join(dir, 'temporal'))).toEqual(binary);
    expect(statSync(join(dir, 'temporal')).mode & 0o111).not.toBe(0);
    expect(lines.join('\n')).toContain(`SHA-256 verified (${sha256(binary)})`);
  });

  it('refuses a binary with another SHA-256 (by default the pinned 1.5.1 build) and caches nothing', async () => {
    delete process.env.SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256;
    writeFileSync(join(dir, 'temporal.gz'), gzipSync(Buffer.from('not the Temporal CLI')));
    await expect(unpackArchive(join(dir, 'temporal.gz'), join(dir, 'temporal'), () => {})).rejects.toThrow(
      `not the expected ${PINNED_BINARY_SHA256}; refusing to use it`,
    );
    expect(existsSync(join(dir, 'temporal'))).toBe(false);
  });

  it('refuses a file that is not gzip, and a missing archive, with the reason', async () => {
    writeFileSync(join(dir, 'temporal.gz'), 'plain text');
    await expect(unpackArchive(join(dir, 'temporal.gz'), join(dir, 'temporal'), () => {})).rejects.toThrow(
      'is not a gzipped binary',
    );
    await expect(unpackArchive(join(dir, 'missing.gz'), join(dir, 'temporal'), () => {})).rejects.toThrow(
      'is not a file',
    );
    expect(existsSync(join(dir, 'temporal'))).toBe(false);
  });

  it('refuses an expected hash that is not 64 hex digits', async () => {
    process.env.SPAWNGUARD_TEMPORAL_ARCHIVE_SHA256 = 'abc';
    writeFileSync(join(dir, 'temporal.gz'), gzipSync(Buffer.from('x')));
    await expect(unpackArchive(join(dir, 'temporal.gz'), join(dir, 'temporal'), () => {})).rejects.toThrow(
      'must be 64 hex digits',
    );
  });
});
