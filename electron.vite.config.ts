/**
 * One build for all three hosts: `out/main/` holds the Electron main process and the plain-Node CLI/server
 * (they share the engine chunks), `out/preload/` the sandboxed preload (CommonJS, as sandboxing requires),
 * `out/renderer/` the Svelte app that both Electron and `layerlens serve` load.
 */
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      sourcemap: true,
      rolldownOptions: {
        input: {
          electron: resolve('src-main/hosts/electron/main.ts'),
          engine: resolve('src-main/hosts/engine-process/main.ts'),
          cli: resolve('src-main/hosts/cli/main.ts'),
        },
        output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { preload: resolve('src-main/hosts/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src-renderer'),
    plugins: [svelte({ configFile: resolve('svelte.config.js') })],
    build: {
      sourcemap: true,
      rolldownOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
    worker: { format: 'es' },
  },
});
