// The package as an operator installs it: `npm pack` ships the built code with its Lua scripts, migrations and
// status page beside it, and no tests or bench; the tarball installed into an empty folder (outside this
// repository) runs `intent-gate serve` on a real Redis in front of the installed sample service, and admits a
// signed intent (the service never settles it, so it stays inflight to be read back). Needs `npm run build`
// first (it packs dist/ as it is).
import t from 'tap'
import { request, TEST_TOKEN } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { execFileAsync, packAndInstall, startInstalled, writeGatewayConfig } from './installed.js'

// npm pack and an install from the cache take minutes on a loaded machine (well past the usual file timeout).
t.setTimeout(600_000)

t.test('npm pack, install into an empty folder, serve, admit an intent', async (t) => {
  const { app, files, gatewayBin, sandboxBin } = await packAndInstall(t)
  t.same(files.filter((f) => /^(test|bench|dist\/test|dist\/bench|src|sandbox)\//.test(f)), [], 'no tests, bench or TypeScript sources')
  t.same(files.filter((f) => f.endsWith('.map')), [], 'no source maps (their sources are not shipped)')
  for (const f of ['dist/src/client/index.js', 'dist/src/client/index.d.ts', 'dist/src/cli/main.js', 'dist/sandbox/cli.js', 'dist/src/store/redis/scripts/admit.lua', 'dist/migrations/001_upgrade_history.sql', 'dist/src/admin/status/public/index.html', 'config/intent-gate.toml']) {
    t.ok(files.includes(f), `ships ${f}`)
  }

  const redis = await startRedis(t)
  const service = await startInstalled(t, sandboxBin, ['service', '--listen', '127.0.0.1:0', '--versions', '1.0', '--settle-ms', '600000'], app, {})
  const config = await writeGatewayConfig(app, { redisUrl: redis.url, upstreamUrl: service.line.url as string, versions: ['1.0'] })
  const gw = await startInstalled(t, gatewayBin, ['serve', '--config', config], app, { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  const proxy = gw.line.proxy as string
  const admin = gw.line.admin as string

  const submitted = await request(`${proxy}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(submitted.status, 202, JSON.stringify(submitted.body))
  const id = submitted.body.id as string
  t.equal((await request(`${proxy}/intents/${id}`)).status, 200, 'its status reads through the gateway')
  const inflight = await (await fetch(`${admin}/admin/inflight`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).json() as Array<{ id: string }>
  t.same(inflight.map((r) => r.id), [id], 'admitted in the Redis store (through its Lua scripts)')

  // An application importing the client library by the package's name, signing with its own key.
  const script = `
    import { IntentClient, secp256k1Signer, signIntent } from 'intent-gate/client'
    const signer = secp256k1Signer('${'11'.repeat(32)}')
    const intent = await signIntent(signer, { version: '1.0', input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '5' },
      output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '1', recipient: (await signer.account()).address },
      deadline: Math.floor(Date.now() / 1000) + 600, nonce: 1 })
    const answer = await new IntentClient({ url: '${proxy}' }).submit(intent)
    console.log(JSON.stringify(answer))`
  const client = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { cwd: app })
  t.match(JSON.parse(client.stdout), { httpStatus: 202, status: 'pending', intentId: /^int_/ }, 'intent-gate/client, imported by name, submits a signed intent')

  const db = await execFileAsync(process.execPath, [gatewayBin, 'db', 'status', '--config', config], { cwd: app, env: { ...process.env, INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN } })
  t.match(db.stdout, /001/, 'the coordinator applied the shipped migrations')

  const ready = await fetch(`${admin}/readyz`)
  t.equal(ready.status, 200)
  gw.child.kill('SIGTERM')
  t.equal(await new Promise((resolve) => gw.child.once('exit', resolve)), 0, `serve exits 0 on SIGTERM: ${gw.stderr()}`)
})
