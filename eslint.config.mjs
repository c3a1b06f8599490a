// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'reports/**', 'bench-results/**', 'load-tests/k6-globals.d.ts', 'storefront/dist/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The storefront runs in the browser (storefront/tsconfig.json: DOM lib, JSX); its build config and tests run in Node.
    files: ['storefront/src/**/*.ts', 'storefront/src/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The domain layer decides; it never talks HTTP, MongoDB or NATS.
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['express', 'mongodb', '@nats-io/*', 'undici', '@tracemart/platform', '../data/*', '../http/*', '../messaging/*'],
              message: 'domain/ is pure: no transport, storage or platform imports.',
            },
          ],
        },
      ],
    },
  },
);
