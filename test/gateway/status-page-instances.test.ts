// The status page's instances panel in headless Chromium: three gateways on one namespace, one leaving and one
// killed. Without the token the page says which instance it is and how many are serving, leaving and gone, and
// names no other instance; with the token it lists each one (id, release, layout, state, last seen, journaled).
// The screenshot goes to var/screenshots/status-instances.png (not committed).
import t from 'tap'
import { mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { gatewayToml, request, startGateway, startService, TEST_TOKEN, waitFor } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const SHOTS = path.join(ROOT, 'var/screenshots')
const CHROMIUM = '/usr/bin/chromium'

interface Fleet { instances: Array<{ id: string, state: string }> }

t.test('the instances panel', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)` }, async (t) => {
  await mkdir(SHOTS, { recursive: true })
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url })
  // B's leave lasts the whole test: its grace is far longer than the test.
  const [a, b, c] = await Promise.all([
    startGateway(t, { config }),
    startGateway(t, { config, env: { INTENT_GATE_PROXY_LEAVE_GRACE_SECS: '300' } }),
    startGateway(t, { config })
  ])
  const id = async (gw: typeof a): Promise<string> => (await gw.admin<{ id: string }>('GET', '/admin/instance')).body.id
  const [aId, bId, cId] = [await id(a), await id(b), await id(c)]
  t.equal((await request(`${a.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })).status, 202, 'A journals one intent')
  await waitFor('A sees all three serving', async () => ((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.filter((i) => i.state === 'serving').length === 3 ? true : undefined))

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  t.teardown(async () => { await browser.close() })
  const page: Page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
  const problems: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
  page.on('pageerror', (e) => { problems.push(`page error: ${e.message}`) })
  const until = async (sel: string, expected: string | RegExp): Promise<void> => {
    await page.waitForFunction(([s, want, isRe]) => {
      // Runs in the page (no DOM types in this project's lib).
      const v = (globalThis as any).document.querySelector(s as string)?.textContent ?? ''
      return isRe === true ? new RegExp(want as string).test(v) : v === want
    }, [sel, expected instanceof RegExp ? expected.source : expected, expected instanceof RegExp], { timeout: 30_000 })
  }

  await page.goto(`${a.adminUrl}/status`)
  await until('#where', `instance ${aId} · namespace default`)
  await until('#instance-counts', '3 serving · 0 leaving · 0 gone')
  t.equal(await page.textContent('#instances'), 'each instance is shown with the admin token', 'the public view lists no instance')

  t.equal((await b.admin('POST', '/admin/instance/leave', {})).status, 202, 'B leaves')
  c.child.kill('SIGKILL')
  // C reads gone once it missed refreshes for 10 s; the page follows without a reload.
  await until('#instance-counts', '1 serving · 1 leaving · 1 gone')
  const html = await page.content()
  t.notOk(html.includes(bId) || html.includes(cId), 'no other instance\'s id anywhere in the public page')
  const events = await fetch(`${a.adminUrl}/status/events`)
  const reader = events.body?.getReader()
  let stream = ''
  while (!stream.includes('event: snapshot')) {
    const { value, done } = await (reader as ReadableStreamDefaultReader<Uint8Array>).read()
    if (done) break
    stream += Buffer.from(value).toString('utf8')
  }
  await reader?.cancel()
  t.ok(stream.includes(`"instance":"${aId}"`) && !stream.includes(bId) && !stream.includes(cId), 'the public stream carries this instance\'s id and no other')

  await page.fill('#token', TEST_TOKEN)
  await page.dispatchEvent('#token', 'change')
  await until('#instances', new RegExp(`${bId}`))
  await until('#instances', new RegExp(`${cId}`))
  const rows = await page.$$eval('#instances tr', (trs) => trs.map((tr) => [...(tr as any).querySelectorAll('td')].map((td: any) => td.textContent as string)))
  const byId = new Map(rows.map((r) => [(r[0] ?? '').replace(' (this)', ''), r]))
  t.match(byId.get(aId), [`${aId} (this)`, /^\d+\.\d+\.\d+/, /^\d+$/, 'serving', /ago$/, '1'], 'A: this one, its release and layout, serving, one intent journaled')
  t.match(byId.get(bId), [bId, /^\d+\.\d+\.\d+/, /^\d+$/, 'leaving', /ago$/, '0'], 'B: leaving')
  t.match(byId.get(cId), [cId, /^\d+\.\d+\.\d+/, /^\d+$/, 'gone', /^(1\d|[2-9]\d)s ago$|m/, '0'], 'C: gone, last seen more than 10 s ago')
  await page.screenshot({ path: path.join(SHOTS, 'status-instances.png'), fullPage: true })
  t.same(problems, [], 'no console errors')
})
