module.exports = { ...require('../jest.preset.cjs'), rootDir: __dirname, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.spec.ts'] };
