// End-to-end smoke check of the editor against a running backend, two browser contexts at once:
// add nodes (drag and click), connect, configure, see the other's cursor and edits, undo own change, run.
//   MAILY_URL=http://127.0.0.1:8123 OUT=/tmp/shots node scripts/collab-check.mjs
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

async function open(name) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
  const page = await ctx.newPage()
  page.on('pageerror', (e) => console.log(name, 'pageerror:', e.message))
  await page.goto(base + '/')
  await page.getByTestId('signin-email').fill('demo@maily.local')
  await page.getByTestId('signin-password').fill('demo')
  await page.getByTestId('signin-submit').click()
  await page.getByTestId('workflow-list').waitFor()
  return page
}

const a = await open('A')
await a.getByTestId('workflow-create').click()
await a.locator('[data-testid="collab-status"][data-status="live"]').waitFor()
const url = a.url()
const b = await open('B')
await b.goto(url)
await b.locator('[data-testid="collab-status"][data-status="live"]').waitFor()

// A drags a manual trigger onto the canvas; B clicks "Set fields" into the middle.
await a.getByTestId('palette-trigger.manual').dragTo(a.getByTestId('canvas'), { targetPosition: { x: 120, y: 100 } })
await a.locator('[data-type="trigger.manual"]').waitFor()
await b.getByTestId('palette-data.set').click()
await a.locator('[data-type="data.set"]').waitFor({ timeout: 5000 })
check(await b.locator('[data-type="trigger.manual"]').count() === 1, 'B sees the trigger A added')
const trig = (await a.locator('[data-type="trigger.manual"]').getAttribute('data-testid')).slice(5)
const set = (await a.locator('[data-type="data.set"]').getAttribute('data-testid')).slice(5)

// Cursors: B moves over the canvas, A sees a cursor.
await b.mouse.move(700, 500); await b.mouse.move(720, 520)
await a.locator('[data-testid^="cursor-"]').first().waitFor({ timeout: 5000 })
check(true, 'A sees B\'s cursor')

// A connects trigger.output -> set.input by dragging between the ports.
const from = await a.getByTestId(`port-${trig}-out-output`).boundingBox()
const to = await a.getByTestId(`port-${set}-in-input`).boundingBox()
await a.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
await a.mouse.down()
await a.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 })
await a.mouse.up()
await a.screenshot({ path: `${out}/dbg-connect.png` })
await b.locator('.react-flow__edge').first().waitFor({ timeout: 5000 })
check(true, 'B sees the edge A drew')

// B configures the set node: one value.
await b.getByTestId(`node-${set}`).click()
await b.getByTestId('config-values.add').click()
await b.getByTestId('config-values.value.0').fill('hello {{ trigger.who }}')
await a.waitForTimeout(800)

// A moves its trigger, then undoes: B's config stays.
const tb = await a.getByTestId(`node-${trig}`).boundingBox()
await a.mouse.move(tb.x + 40, tb.y + 15); await a.mouse.down(); await a.mouse.move(tb.x + 40, tb.y + 215, { steps: 10 }); await a.mouse.up()
await a.waitForTimeout(400)
const moved = await b.getByTestId(`node-${trig}`).boundingBox()
await a.getByTestId('undo').click()
await a.waitForTimeout(600)
const back = await b.getByTestId(`node-${trig}`).boundingBox()
check(Math.abs(back.y - tb.y) < 5 && Math.abs(moved.y - tb.y) > 100, `A's undo moved the trigger back (${tb.y} -> ${moved.y} -> ${back.y})`)
await a.getByTestId(`node-${set}`).click()
const v = await a.getByTestId('config-values.value.0').inputValue()
check(v === 'hello {{ trigger.who }}', `B's config survives A's undo (${v})`)
await a.screenshot({ path: `${out}/5-collab-a.png` })
await b.screenshot({ path: `${out}/6-collab-b.png` })

// A runs; both see the states.
await a.getByTestId('run-button').click()
await a.getByTestId('run-input-json').fill('{"who": "world"}')
await a.getByTestId('run-start').click()
await a.locator(`[data-testid="node-state-${set}"][data-status="succeeded"]`).waitFor({ timeout: 20000 })
check(true, 'A sees the run succeed on the node')
await b.locator(`[data-testid="node-state-${set}"][data-status="succeeded"]`).waitFor({ timeout: 10000 })
check(true, 'B sees the run A started')
await a.getByTestId(`node-${set}`).click()
await a.getByTestId('node-run-output').waitFor({ timeout: 5000 })
check((await a.getByTestId('node-run-output').textContent()).includes('hello world'), 'node output shown in the side panel')
await a.screenshot({ path: `${out}/7-run.png` })

const ga = await a.evaluate(() => document.querySelectorAll('[data-testid^="node-"][data-type]').length)
const gb = await b.evaluate(() => document.querySelectorAll('[data-testid^="node-"][data-type]').length)
check(ga === gb && ga === 2, `same number of nodes (${ga}, ${gb})`)
await browser.close()
