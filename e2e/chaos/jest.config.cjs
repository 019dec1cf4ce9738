// The full-size chaos run (`npm run test:chaos`): not part of `npm test`, whose e2e tier runs the
// CI size (e2e/test/chaos-small.e2e.spec.ts).
module.exports = { ...require('../../jest.preset.cjs'), rootDir: __dirname, displayName: 'chaos', testTimeout: 20 * 60_000, testMatch: ['<rootDir>/*.chaos.ts'] };
