// The workspace settings screens for AI and email, loaded on first visit (lazy in App.tsx).
export { AiSettings } from './ai/AiSettings'
export { EmailSettings } from './email/EmailSettings'
