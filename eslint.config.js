// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.cache/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  // The layers (docs/architecture.md): each folder imports only from the ones below it.
  //   common → workflows → activities → worker → client → scripts   (bench, eval, test: anything)
  ...layer('common', ['workflows', 'activities', 'worker', 'client', 'scripts', 'bench', 'eval', 'test']),
  ...layer(
    'workflows',
    ['activities', 'worker', 'client', 'scripts', 'bench', 'eval', 'test'],
    [
      // Workflow code runs in Temporal's deterministic sandbox: no Node APIs, no clocks, no randomness.
      { regex: '^(node:|fs$|path$|crypto$|child_process$)', message: 'workflow code cannot use Node APIs' },
    ],
  ),
  ...layer('activities', ['worker', 'client', 'scripts', 'bench', 'eval', 'test']),
  ...layer('worker', ['client', 'scripts', 'bench', 'eval', 'test']),
  ...layer('client', ['scripts', 'bench', 'eval', 'test']),
  ...layer('scripts', ['bench', 'eval', 'test']),
);

/**
 * `folder/**` may not import from the folders above it: a relative import that climbs into one of
 * them (`../client/…`, `../../worker/…`) is an error naming the rule's reason.
 */
function layer(folder, above, extra = []) {
  return [
    {
      files: [`${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...above.map((upper) => ({
                regex: `^(\\.\\./)+${upper}(/|$)`,
                message: `${folder}/ sits below ${upper}/ (docs/architecture.md): move what both need down a layer`,
              })),
              ...extra,
            ],
          },
        ],
      },
    },
  ];
}
