// The package as an operator installs it: `npm pack` ships the built code with its Lua scripts, migrations and
// status page beside it, and no tests or bench; the tarball installed into an empty folder (outside this
// repository) runs `intent-gate serve` on a real Redis in front of the installed sample service, and admits a
// signed intent (the service never settles it, so it stays inflight to be read back). Needs `npm run build`
// first (it packs dist/ as it is).
import t, { type Test } from 'tap'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { request, TEST_TOKEN } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const execFileAsync = promisify(execFile)
const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const npm = async (args: string[], cwd: string): Promise<string> =>
  (await execFileAsync('npm', args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } })).stdout

interface Started { child: ChildProcess, line: Record<string, string>, stderr: () => string }

/** Runs an installed binary from `cwd` and resolves with its first stdout line (its "listening" JSON). */
async function startInstalled (t: Test, bin: string, args: string[], cwd: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const line = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)) as Record<string, string>)
    })
    child.once('exit', (code) => reject(new Error(`${path.basename(bin)} ${args[0] ?? ''} exited (${String(code)}) before listening:\n${err}`)))
  })
  return { child, line, stderr: () => err }
}

t.test('npm pack, install into an empty folder, serve, admit an intent', async (t) => {
  const work = await realpath(await mkdtemp(path.join(os.tmpdir(), 'intent-gate-pkg-')))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })

  const [packed] = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], ROOT)) as Array<{ filename: string, files: Array<{ path: string }> }>
  const files = packed?.files.map((f) => f.path) ?? []
  t.same(files.filter((f) => /^(test|bench|dist\/test|dist\/bench|src|sandbox)\//.test(f)), [], 'no tests, bench or TypeScript sources')
  t.same(files.filter((f) => f.endsWith('.map')), [], 'no source maps (their sources are not shipped)')
  for (const f of ['dist/src/client/index.js', 'dist/src/client/index.d.ts', 'dist/src/cli/main.js', 'dist/sandbox/cli.js', 'dist/src/store/redis/scripts/admit.lua', 'dist/migrations/001_upgrade_history.sql', 'dist/src/admin/status/public/index.html', 'config/intent-gate.toml']) {
    t.ok(files.includes(f), `ships ${f}`)
  }

  // Dependencies come from npm's cache (the registry only for what it lacks). Install scripts are skipped:
  // the one native module, better-sqlite3, would be compiled from source for minutes; its addon is taken from
  // this repository's node_modules, built for this same Node on this same machine.
  const app = path.join(work, 'app')
  await mkdir(app)
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'operator-app', private: true }))
  await npm(['install', path.join(work, packed?.filename ?? ''), '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], app)
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'
  await mkdir(path.dirname(path.join(app, addon)), { recursive: true })
  await copyFile(path.join(ROOT, addon), path.join(app, addon))

  const pkg = path.join(app, 'node_modules/intent-gate')
  const gatewayBin = path.join(pkg, 'dist/src/cli/main.js')
  const sandboxBin = path.join(pkg, 'dist/sandbox/cli.js')

  const redis = await startRedis(t)
  const service = await startInstalled(t, sandboxBin, ['service', '--listen', '127.0.0.1:0', '--versions', '1.0', '--settle-ms', '600000'], app, {})
  const config = path.join(app, 'intent-gate.toml')
  await writeFile(config, `
[proxy]
listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
[redis]
url = "${redis.url}"
[chain]
enabled = false
[coordinator]
database = "${path.join(app, 'var/intent-gate.sqlite')}"
[checkpoint]
checkpoint_dir = "${path.join(app, 'var/checkpoints')}"
[upstreams.blue]
url = "${service.line.url as string}"
versions = ["1.0"]
health_interval_ms = 100
`)
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
