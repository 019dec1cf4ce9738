const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

// Map the @reelay/* aliases to sources so tests never need a build first.
const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    path.join(__dirname, target),
  ]),
);

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // Nest 12 and a few of its dependencies ship ESM only; compile them for jest's CommonJS runtime.
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|file-type|token-types|strtok3|uint8array-extras|@standard-schema|@tokenizer|@nats-io)/)',
  ],
  moduleNameMapper,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
