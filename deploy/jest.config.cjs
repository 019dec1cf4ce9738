module.exports = { ...require('../jest.preset.cjs'), rootDir: __dirname, displayName: 'deploy', testMatch: ['<rootDir>/test/**/*.spec.ts'] };
