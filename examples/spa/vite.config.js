import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  plugins: [react()],
  // @apilayer/react is linked from ../../clients/react, which has its own
  // node_modules: use this app's single copy of React and SWR.
  resolve: { dedupe: ['react', 'react-dom', 'swr'] },
  build: { outDir: 'dist', emptyOutDir: true },
})
