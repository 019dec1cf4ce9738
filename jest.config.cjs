// All projects in one jest run; tiers are selected by file name (see tools/test.mjs).
module.exports = {
  projects: ['<rootDir>/apps/*/jest.config.cjs', '<rootDir>/libs/*/jest.config.cjs', '<rootDir>/tools/jest.config.cjs', '<rootDir>/e2e/jest.config.cjs', '<rootDir>/deploy/jest.config.cjs'],
};
