import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.payctl/**', 'reports/**']},
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
    files: ['bin/**/*.js', 'eslint.config.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
