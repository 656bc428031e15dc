#!/usr/bin/env node
// The `spawnguard` CLI. Runs the TypeScript sources directly through tsx, so `npx spawnguard …`
// works right after `npm ci` with no build step.
'use strict';
require('tsx/cjs/api').register();
require('../client/cli.ts')
  .main(process.argv)
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
