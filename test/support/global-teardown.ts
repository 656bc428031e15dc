export default async function globalTeardown(): Promise<void> {
  await globalThis.__SPAWNGUARD_DEV_SERVER__?.stop();
}
