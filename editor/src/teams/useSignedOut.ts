// True once any socket of this page closed with 4401.
import { useEffect, useState } from 'react'
import { SIGNED_OUT_EVENT } from './signedOut'

export function useSignedOut(): boolean {
  const [out, setOut] = useState(false)
  useEffect(() => {
    const on = () => setOut(true)
    window.addEventListener(SIGNED_OUT_EVENT, on)
    return () => window.removeEventListener(SIGNED_OUT_EVENT, on)
  }, [])
  return out
}
