// @ts-check
// The extension's linter, run by `./dev lint` beside `tsc --noEmit`: ESLint's recommended rules and
// typescript-eslint's type-aware ones, over the sources the tsconfig compiles.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
    { ignores: ['out/**', 'node_modules/**', '*.mjs'] },
    {
        files: ['src/**/*.ts'],
        extends: [eslint.configs.recommended, tseslint.configs.recommendedTypeChecked],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
    },
);
