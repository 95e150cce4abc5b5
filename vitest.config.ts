import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        // An origin Worker behind a service binding (test/service-origin.test.ts passes it in explicitly).
        serviceBindings: { ORIGIN_SERVICE: 'echo-service' },
        // A small limit the rate-limit tests can exhaust (wrangler.toml's PER_CALLER allows 100).
        ratelimits: { TEST_RATE_LIMIT: { namespace_id: '1002', simple: { limit: 3, period: 60 } } },
        workers: [
          {
            name: 'echo-service',
            modules: true,
            scriptPath: fileURLToPath(new URL('./test/setup/echo-service.js', import.meta.url)),
            compatibilityDate: '2026-08-01',
          },
        ],
      },
    }),
  ],
  test: {
    globalSetup: ['./test/setup/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
