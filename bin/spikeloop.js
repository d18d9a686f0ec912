#!/usr/bin/env node
// The package's bin: the compiled CLI lives in dist/ (built by `npm run build`, run on install).
process.env.EGL_PLATFORM ??= 'surfaceless';
await import('../dist/cli/main.js');
