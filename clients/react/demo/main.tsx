import { createRoot } from 'react-dom/client'
import { AuthProvider } from '../src'
import { App } from './App'
import { readInitial } from './initial'
import './styles.css'

const initial = readInitial()
const root = document.getElementById('root')
if (root) {
  createRoot(root).render(
    <AuthProvider
      initialUser={initial.user}
      logoutRedirect="/"
      navigate={(to) => window.location.assign(to)}
      onError={(e) => console.warn('auth:', e.message)}
    >
      <App initial={initial} />
    </AuthProvider>,
  )
}
