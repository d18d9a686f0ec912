#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MiB young generation makes scavenges (1–3 ms pauses that cost real-time ticks) rarer: the
// loop allocates a few KB per 1 ms tick, so they come every ~15 s instead of every ~3 s.
// The package's bin: the compiled CLI lives in dist/ (built by `npm run build`, run on install).
process.env.EGL_PLATFORM ??= 'surfaceless';
await import('../dist/cli/main.js');
