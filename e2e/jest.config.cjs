module.exports = { ...require('../jest.preset.cjs'), rootDir: __dirname, displayName: 'e2e', testTimeout: 60_000, testMatch: ['<rootDir>/test/**/*.spec.ts'] };
