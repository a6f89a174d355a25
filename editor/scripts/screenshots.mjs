// Screenshots of the sign-in, list and canvas screens with Debian's Chromium (playwright-core, no download).
//   MAILY_URL=http://127.0.0.1:8123 OUT=/tmp/shots node scripts/screenshots.mjs
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'

const base = process.env.MAILY_URL ?? 'http://127.0.0.1:8123'
const out = process.env.OUT ?? '/tmp/maily-shots'
const email = process.env.MAILY_EMAIL ?? 'demo@maily.local'
const password = process.env.MAILY_PASSWORD ?? 'demo'
mkdirSync(out, { recursive: true })

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
})
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
page.on('console', (m) => { if (m.type() === 'error') console.log('console:', m.text()) })
page.on('pageerror', (e) => console.log('pageerror:', e.message))
await page.goto(base + '/')
await page.getByTestId('signin-form').waitFor()
await page.screenshot({ path: `${out}/1-signin.png` })
await page.getByTestId('signin-email').fill(email)
await page.getByTestId('signin-password').fill(password)
await page.getByTestId('signin-submit').click()
await page.getByTestId('workflow-list').waitFor()
await page.screenshot({ path: `${out}/2-list.png` })
await page.locator('[data-testid^="workflow-open-"]').first().click()
await page.getByTestId('editor').waitFor()
await page.waitForTimeout(2500)
await page.screenshot({ path: `${out}/3-canvas.png` })
const first = page.locator('[data-testid^="node-"][data-type]').nth(1)
await first.click()
await page.waitForTimeout(800)
await page.screenshot({ path: `${out}/4-canvas-selected.png` })
console.log('collab status:', await page.getByTestId('collab-status').getAttribute('data-status'))
await browser.close()
console.log('screenshots in', out)
