import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// The backend serves dist/ at / (SPA fallback). `npm run dev` proxies /api to a local backend.
const backend = process.env.MAILY_BACKEND ?? 'http://127.0.0.1:8123'

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/api': { target: backend, ws: true, changeOrigin: false } } },
})
