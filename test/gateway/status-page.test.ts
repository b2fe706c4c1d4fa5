// The status page in headless Chromium (Debian's chromium through playwright-core): it loads with no console
// error, its numbers follow a drain set with redis-cli and an intent admitted meanwhile (Server-Sent Events, no
// reload), and an action with the token drives the admin API. Screenshots go to var/screenshots/ (not
// committed); the last one is copied to docs/status-page.png for the README.
import t from 'tap'
import { copyFile, mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { gatewayToml, request, startGateway, startService, TEST_TOKEN } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const SHOTS = path.join(ROOT, 'var/screenshots')
const CHROMIUM = '/usr/bin/chromium'

t.test('the status page', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)` }, async (t) => {
  await mkdir(SHOTS, { recursive: true })
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const green = await startService(t, { versions: '2.0' })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url, green: green.url }) })

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  t.teardown(async () => { await browser.close() })
  const page: Page = await browser.newPage({ viewport: { width: 1360, height: 900 } })
  const problems: string[] = []
  let step = 'load'
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${step}: ${m.text()}`) })
  page.on('pageerror', (e) => { problems.push(`page error: ${e.message}`) })

  const text = async (id: string): Promise<string> => (await page.textContent(`#${id}`)) ?? ''
  const until = async (id: string, expected: string | RegExp): Promise<void> => {
    await page.waitForFunction(([sel, want, isRe]) => {
      // Runs in the page (no DOM types in this project's lib).
      const v = (globalThis as any).document.getElementById(sel as string)?.textContent ?? ''
      return isRe === true ? new RegExp(want as string).test(v) : v === want
    }, [id, expected instanceof RegExp ? expected.source : expected, expected instanceof RegExp], { timeout: 20_000 })
  }

  await page.goto(`${gw.adminUrl}/status`)
  await until('mode', 'active')
  await until('active', 'blue')
  t.equal(await text('inflight'), '0')
  t.match(await page.textContent('#upstreams'), /blue.*active.*healthy/s, 'the upstream table is filled')
  await page.waitForSelector('#chart canvas')
  await page.screenshot({ path: path.join(SHOTS, 'status-active.png') })

  // An intent inflight, then the operator's drain through Redis: the page follows without a reload.
  const submitted = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(submitted.status, 202)
  await until('inflight', '1')
  await redis.cli('SET', 'intent-gate:{default}:drain', JSON.stringify({ deadline_secs: 600, reason: 'redis-cli drain' }))
  await until('mode', 'draining')
  t.match(await text('oldest'), /redis-cli drain/)
  const refused = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(refused.status, 503)
  await until('refusals', /^(?!0\.0$|-$)/)
  await page.screenshot({ path: path.join(SHOTS, 'status-draining.png') })

  // A fresh page during the drain paints from one read, not from the stream's first event: the drain, its
  // deadline, what clients are told and where this gateway is, within 200 ms of the load event.
  const fresh: Page = await browser.newPage({ viewport: { width: 1360, height: 900 } })
  fresh.on('pageerror', (e) => { problems.push(`fresh page error: ${e.message}`) })
  await fresh.goto(`${gw.adminUrl}/status`, { waitUntil: 'load' })
  const loadedAt = performance.now()
  // The page renders its carried snapshot while its script runs, before the load event: nothing to wait for.
  // (Waiting with a 200 ms timeout measured Chromium's round trips on a loaded machine, not the page.)
  await fresh.screenshot({ path: path.join(SHOTS, 'status-first-paint.png') })
  const shotAfter = performance.now() - loadedAt
  t.comment(`screenshot taken ${shotAfter.toFixed(0)} ms after the load event`)
  t.equal(await fresh.textContent('#mode'), 'draining', 'painted by the load event')
  t.match(await fresh.textContent('#told'), /^503 · Retry-After \d+ s$/, 'what clients are told')
  t.match(await fresh.textContent('#deadline'), /^drain deadline \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in (9m\d\ds|10m00s)\)$/, 'the drain\'s deadline')
  t.match(await fresh.textContent('#where'), /^instance \S+( \(leader\))? · namespace default$/, 'which instance and namespace')
  t.not(await fresh.textContent('#conn'), 'connecting…', 'painted before the stream said anything')
  await copyFile(path.join(SHOTS, 'status-first-paint.png'), path.join(ROOT, 'docs/status-page-first-paint.png'))
  await fresh.close()
  const done = await gw.admin('POST', `/admin/inflight/${submitted.body.id as string}/complete`, { status: 'settled' })
  t.equal(done.status, 200)
  await until('mode', 'drained')
  await until('inflight', '0')

  // An action: without the token it asks for it; with it, the admin API stops the drain.
  const questions: string[] = []
  let answer = true
  page.on('dialog', (d) => { questions.push(d.message()); (answer ? d.accept() : d.dismiss()).catch(() => {}) })
  await page.click('button[data-action="drain-stop"]')
  await until('result', 'enter the admin token first')
  step = 'wrong token'
  await page.fill('#token', 'not-the-token')
  await page.click('button[data-action="drain-stop"]')
  await until('result', /refused \(401\)/)
  step = 'after'
  await page.fill('#token', TEST_TOKEN)
  // Every action asks first: declined, nothing is sent; accepted, it is.
  answer = false
  await page.click('button[data-action="drain-stop"]')
  await until('result', 'Stop drain: cancelled')
  t.equal(await redis.cli('EXISTS', 'intent-gate:{default}:drain'), '1', 'a declined action sends nothing')
  answer = true
  await page.click('button[data-action="drain-stop"]')
  await until('result', /Stop drain: done \(200\)/)
  await until('mode', 'active')
  t.equal(await redis.cli('EXISTS', 'intent-gate:{default}:drain'), '0', 'the drain key is gone')
  await page.click('button[data-action="swap-green"]')
  await until('active', 'green')
  t.match(questions, [/^Stop draining\?/, /^Stop draining\?/, /^Stop draining\?/, /^Swap to green\?/], 'each action asked what it would do')
  const audit = await gw.admin<{ entries: Array<{ via: string, action: string }> }>('GET', '/admin/audit')
  t.same(audit.body.entries.map((e) => [e.via, e.action]), [['status', 'upstreams.swap'], ['status', 'drain.stop'], ['redis', 'drain.start']], 'the page\'s actions and the redis-cli drain in the audit log')
  await page.screenshot({ path: path.join(SHOTS, 'status-page.png'), fullPage: true })
  await copyFile(path.join(SHOTS, 'status-page.png'), path.join(ROOT, 'docs/status-page.png'))

  // Chromium logs the refused call it was asked to make; nothing else may appear.
  t.same(problems, ['wrong token: Failed to load resource: the server responded with a status of 401 (Unauthorized)'], 'no console errors')
})
