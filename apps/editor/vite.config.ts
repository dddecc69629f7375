import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The runtime serves `dist/` itself; in `npm run dev -w @switchyard/editor` the dev server
// forwards API calls to a runtime started separately with `npm start` on the default port.
const runtime = 'http://127.0.0.1:4310';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: {
      '/trpc': runtime,
      '/health': runtime,
    },
  },
});
