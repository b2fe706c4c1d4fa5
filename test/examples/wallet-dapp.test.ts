// The browser example (examples/wallet-dapp) in headless Chromium: the page, served with the built client by its
// own serve.mjs in front of a real gateway and sample service, builds an order, signs it with `window.keplr`
// and submits it with intent-gate/client. The wallet is a stand-in whose key lives in this test's process: a
// cosmjs amino wallet (Secp256k1HdWallet, the library cosmjs-based wallets use) reached through
// page.exposeFunction, so the signature is made by a real wallet library and not by intent-gate's code. The
// intent must reach the sample service and verify there (and at the gateway).
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { gatewayToml, spawnNode, startGateway, startService } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { cosmjsWallet } from '../helpers/wallet.js'
import { serviceStats } from '../edge/harness.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const SERVE = path.join(ROOT, 'examples/wallet-dapp/serve.mjs')
const CHROMIUM = '/usr/bin/chromium'
const SHOTS = path.join(ROOT, 'var/screenshots')

t.setTimeout(360_000)

t.test('the wallet dApp example signs with window.keplr and its intent verifies at the sample service', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)` }, async (t) => {
  const redis = await startRedis(t)
  const service = await startService(t, { versions: '2.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: service.url, blueVersions: ['2.0'] }) })
  const serve = spawnNode([SERVE, '--gateway', gw.proxyUrl, '--listen', '127.0.0.1:0'])
  t.teardown(() => { serve.child.kill('SIGKILL') })
  const pageUrl = await new Promise<string>((resolve, reject) => {
    serve.child.stdout?.on('data', () => {
      const line = serve.stdout().split('\n')[0] ?? ''
      if (line.endsWith('}')) resolve((JSON.parse(line) as { url: string }).url)
    })
    serve.exited.then((exit) => reject(new Error(`serve.mjs exited (${String(exit.code)}): ${serve.stderr()}`)), reject)
  })

  const wallet = await cosmjsWallet()
  const signed: Array<{ chainId: string, signer: string, data: string }> = []
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  t.teardown(async () => { await browser.close() })
  const page = await browser.newPage({ viewport: { width: 900, height: 760 } })
  const problems: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
  page.on('pageerror', (e) => { problems.push(`page error: ${e.message}`) })

  // The stand-in wallet: its calls cross into this process (arguments and results as JSON, so bytes as arrays).
  await page.exposeFunction('standInGetKey', async (chainId: string) => {
    const key = await wallet.getKey(chainId)
    return { ...key, pubKey: [...key.pubKey], address: [...key.address] }
  })
  await page.exposeFunction('standInSignArbitrary', async (chainId: string, signer: string, data: string) => {
    signed.push({ chainId, signer, data })
    return await wallet.signArbitrary(chainId, signer, data)
  })
  await page.addInitScript(() => {
    const w = globalThis as any
    w.keplr = {
      enable: async () => {},
      getKey: async (chainId: string) => {
        const key = await w.standInGetKey(chainId)
        return { ...key, pubKey: Uint8Array.from(key.pubKey), address: Uint8Array.from(key.address) }
      },
      signArbitrary: async (chainId: string, signer: string, data: string) => await w.standInSignArbitrary(chainId, signer, data)
    }
  })

  await page.goto(pageUrl)
  await page.fill('#amount', '2500000')
  await page.click('#submit')
  await page.waitForFunction(() => /^int_/.test((globalThis as any).document.getElementById('intent-id')?.textContent ?? ''), undefined, { timeout: 30_000 })
  await page.waitForFunction(() => (globalThis as any).document.getElementById('intent-status')?.textContent === 'accepted', undefined, { timeout: 10_000 })
  const id = (await page.textContent('#intent-id')) ?? ''
  await mkdir(SHOTS, { recursive: true })
  await page.screenshot({ path: path.join(SHOTS, 'wallet-dapp.png') })

  t.same(problems, [], 'no console error')
  t.equal(signed.length, 1, 'the wallet was asked to sign once')
  t.equal(signed[0]?.signer, wallet.address, 'for its own address')
  const shown = JSON.parse(signed[0]?.data ?? '{}') as Record<string, any>
  t.match(shown, { owner: wallet.address, inputs: [{ amount: '2500000' }], auth: { scheme: 'adr036', public_key: wallet.publicKey } }, 'the wallet was shown the intent as JSON')
  t.equal(shown.auth.signature, undefined, 'without a signature')

  const stats = await serviceStats(service)
  t.equal(stats.accepted, 1, 'the intent reached the sample service, which verified it (signature checks on)')
  t.equal(stats.refused['bad_signature'], 0)
  t.equal(Object.keys(stats.by_key)[0], `${wallet.address}:${String(shown.nonce)}`)
  const status = await (await fetch(`${service.url}/intents/${id}`)).json() as { intent_id: string }
  t.equal(status.intent_id, id, 'the service knows the id the page shows')
})
