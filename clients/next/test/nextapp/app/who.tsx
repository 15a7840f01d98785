'use client'
import { useAuth } from '@apilayer/react'
import type { Me } from './me'

export function Who() {
  const { user, isAuthenticated } = useAuth<Me>()
  return <p id="client">client: {isAuthenticated ? user?.name : 'nobody'}</p>
}
