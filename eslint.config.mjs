// ESLint (typescript-eslint) for the TypeScript sources; formatting is Prettier's job, so the
// rules that would fight it are off (eslint-config-prettier).
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * What each room of src may import (README, "How it is built"): a room imports only the rooms
 * below it, so no two rooms import each other. madge (npm run lint) finds cycles between files;
 * these rules keep the rooms themselves in layers: core/redis runs servers and reads journals
 * through nothing of core/storage, core/optuna knows no Redis server or store, and no core
 * module knows VS Code.
 */
const ROOMS = {
  'src/core/optuna': ['redis', 'storage', 'stability', 'studyPage', 'runs'],
  'src/core/redis': ['storage', 'stability', 'studyPage', 'runs'],
  'src/core/storage': ['stability', 'studyPage'],
  'src/core/runs': ['redis', 'storage', 'stability', 'studyPage'],
  'src/core/studyPage': ['redis', 'stability', 'runs'],
  'src/core/stability': ['studyPage', 'runs'],
};

function roomRules() {
  const relative = (rooms) => `^\\.\\.?/(.*/)?(${rooms.join('|')})(/|$)`;
  const outsideCore = {
    regex: relative(['vscode', 'cli', 'webview']),
    message: 'src/core is below the VS Code layer, the CLI and the webview',
  };
  const vscodeApi = {
    name: 'vscode',
    message: 'src/core runs without VS Code (the CLI and tests use it)',
  };
  return [
    ...Object.entries(ROOMS).map(([room, forbidden]) => ({
      files: [`${room}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: [vscodeApi],
            patterns: [
              outsideCore,
              {
                regex: relative(forbidden),
                message: `${room} sits below core/${forbidden.join(', core/')}`,
              },
            ],
          },
        ],
      },
    })),
    {
      files: ['src/cli/**/*.ts', 'src/webview/**/*.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: [
              { name: 'vscode', message: 'the CLI and the webview run without the VS Code API' },
            ],
          },
        ],
      },
    },
  ];
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'bench/out/',
      '.test-work/',
      'native/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  ...roomRules(),
  {
    // Issue #13: a file past 400 lines holds more than one concept (counted as `wc -l` does).
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
);
