import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import '@xyflow/react/dist/style.css'
import './styles.css'
import { App } from './App'
import { prefetchCanvas } from './api/prefetch'
import { followTheme } from './ui/theme'

followTheme()

prefetchCanvas(location.pathname)

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>)
