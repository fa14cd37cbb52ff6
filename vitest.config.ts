import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    disableConsoleIntercept: true,
    clearMocks: true,
    // PAYCTL_TEST_REPORT=FILE adds a JSON report (.ci/run prints its counts)
    reporters: process.env.PAYCTL_TEST_REPORT ? ['default', ['json', {outputFile: process.env.PAYCTL_TEST_REPORT}]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
