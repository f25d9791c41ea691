/**
 * Signing in and out. The page asks for a bearer token, checks it with one call, and
 * keeps it in session storage (this tab only, gone when the tab closes); signing out
 * clears it. With access control off (Node on loopback) no token is needed and the page
 * opens at once.
 */
import { ApiError, call, storeToken, storedToken } from './api.js'
import { byId } from './dom.js'

export interface Session {
  /** Starts the page's work once signed in; returns what stops it. */
  start: () => () => void
}

export function session(s: Session): void {
  const signIn = byId('sign-in-section')
  const app = byId('app')
  const signOut = byId<HTMLButtonElement>('sign-out')
  const who = byId('who')
  const error = byId('sign-in-error')
  let stop: (() => void) | null = null

  const showSignIn = (message = '') => {
    stop?.()
    stop = null
    app.hidden = true
    signOut.hidden = true
    signIn.hidden = false
    who.textContent = ''
    error.textContent = message
    byId<HTMLInputElement>('token').focus()
  }

  const enter = async () => {
    try {
      await call('GET', '/api/v1/namespaces?limit=1')
    } catch (e) {
      if (e instanceof ApiError && e.code === 401) {
        const had = storedToken() !== null
        storeToken(null)
        showSignIn(had ? 'That token was refused (unknown, revoked or expired).' : '')
        return
      }
      if (!(e instanceof ApiError && e.code === 403)) {
        showSignIn(`The registry did not answer: ${(e as Error).message}`)
        return
      }
    }
    signIn.hidden = true
    app.hidden = false
    signOut.hidden = storedToken() === null
    who.textContent = storedToken() === null ? 'access control is off' : 'signed in'
    stop = s.start()
  }

  byId<HTMLFormElement>('sign-in').addEventListener('submit', (ev) => {
    ev.preventDefault()
    const input = byId<HTMLInputElement>('token')
    storeToken(input.value.trim())
    input.value = ''
    void enter()
  })
  signOut.addEventListener('click', () => {
    storeToken(null)
    showSignIn('Signed out.')
  })
  void enter()
}
