import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { AuthProvider } from '@apilayer/react'
import { App } from './App.jsx'

// The gateway serves this app from dist/ (upstream.static) and answers
// /api/* itself: the auth API (/api/auth/me, login, logout...) and the
// proxy to the backend. The tokens stay in httpOnly cookies.
createRoot(document.getElementById('root')).render(
  <StrictMode>
    <AuthProvider navigate={(to) => window.history.pushState(null, '', to) || window.dispatchEvent(new PopStateEvent('popstate'))}>
      <App />
    </AuthProvider>
  </StrictMode>,
)
