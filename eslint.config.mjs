import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const EXIT_RULE = {selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']", message: 'Throw a PayctlError; only bin/ and runtime/src/main.ts may exit.'}
const MONEY_RULES = [
  {selector: "CallExpression[callee.name='parseFloat'], CallExpression[callee.property.name='parseFloat']", message: 'Money is never a float: use runtime/src/domain/money.ts (bigint units).'},
  {
    selector: "CallExpression[callee.name='Number'][arguments.0.name=/amount|balance|capturable|received|refunded/i], CallExpression[callee.name='Number'][arguments.0.property.name=/amount|balance|capturable|received|refunded/i]",
    message: 'Money is never a JS number: convert with runtime/src/domain/money.ts (decimalToUnits / unitsToMinor).',
  },
]

export default tseslint.config(
  {ignores: ['dist/**', 'dist-runtime/**', 'node_modules/**', 'coverage/**', '.payctl/**', 'reports/**']},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname},
    },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      'no-restricted-syntax': [
        'error',
        {selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']", message: 'Throw a PayctlError; only bin/ and runtime/ may exit.'},
      ],
    },
  },
  {
    files: ['src/engines/**'],
    rules: {
      'no-restricted-imports': ['error', {patterns: ['@oclif/*', 'listr2', 'cli-table3']}],
    },
  },
  {
    // The payment service: money is never a float (bigint units in runtime/src/domain/money.ts).
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...MONEY_RULES, EXIT_RULE],
    },
  },
  {
    // the service's process entry is the one place that may exit
    files: ['runtime/src/main.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...MONEY_RULES],
    },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
