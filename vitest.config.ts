import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The engines and the loop measure wall-clock behaviour; two cores are shared, so files run one at a time.
    fileParallelism: false,
    env: { EGL_PLATFORM: 'surfaceless' },
  },
});
