/**
 * Real processes for the gateway's acceptance tests: `intent-gate serve` (the BUILT dist/src/cli/main.js, so run
 * `npm run build` first) and sample intent services (`dist/sandbox/cli.js service`), each on port 0, each
 * stopped at teardown. Each resolves once the process printed its one JSON "listening" line.
 *
 *   const blue = await startService(t, { versions: '1.0', settleMs: 100 })
 *   const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url }) })
 *   await gw.admin('POST', '/admin/drain/start', { reason: 'test' })
 *   const { code } = await gw.stop('SIGTERM')
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Teardown } from './redis.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
export const GATEWAY_BIN = path.join(ROOT, 'dist/src/cli/main.js')
export const SANDBOX_BIN = path.join(ROOT, 'dist/sandbox/cli.js')
export const TEST_TOKEN = 'test-admin-token-0123456789'

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

export interface Spawned {
  readonly child: ChildProcess
  /** Resolves with the exit (at once if it already exited). */
  readonly exited: Promise<Exit>
  stdout (): string
  stderr (): string
}

function assertBuilt (file: string): void {
  if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` before these tests`)
}

const live = new Set<ChildProcess>()
let exitHook = false
function track (child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (!exitHook) {
    exitHook = true
    process.once('exit', () => { for (const c of live) c.kill('SIGKILL') })
  }
}

/** Spawns `node <args>` and collects its output. */
export function spawnNode (args: string[], env: Record<string, string | undefined> = {}): Spawned {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, exited, stdout: () => out, stderr: () => err }
}

/** The first JSON line a process prints on stdout; rejects with its stderr when it exits first. */
async function firstJsonLine<T> (p: Spawned, what: string): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const onData = (): void => {
      const nl = p.stdout().indexOf('\n')
      if (nl === -1) return
      p.child.stdout?.off('data', onData)
      try {
        resolve(JSON.parse(p.stdout().slice(0, nl)) as T)
      } catch (err) {
        reject(new Error(`${what} printed a first line that is not JSON: ${p.stdout().slice(0, nl)}`, { cause: err }))
      }
    }
    p.child.stdout?.on('data', onData)
    p.exited.then((exit) => reject(new Error(`${what} exited (${JSON.stringify(exit)}) before listening:\n${p.stderr()}`)), reject)
  })
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it will not go. */
async function stopSpawned (p: Spawned, signal: NodeJS.Signals, graceMs = 20_000): Promise<Exit> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    const escalate = setTimeout(() => p.child.kill('SIGKILL'), graceMs)
    p.child.kill(signal)
    const exit = await p.exited
    clearTimeout(escalate)
    return exit
  }
  return await p.exited
}

export interface ServiceProcess extends Spawned {
  readonly url: string
  /** The service's ledger counts (`/sandbox/stats`). */
  stats (): Promise<{ accepted: number, duplicates: number, by_key?: Record<string, number> }>
  stop (): Promise<Exit>
}

/** A sample intent service on a free port. */
export async function startService (
  t: Teardown,
  opts: { versions?: string, settleMs?: number, chainRpc?: string, env?: Record<string, string> } = {}
): Promise<ServiceProcess> {
  assertBuilt(SANDBOX_BIN)
  const chain = opts.chainRpc === undefined ? [] : ['--chain-rpc', opts.chainRpc]
  const p = spawnNode([SANDBOX_BIN, 'service', '--listen', '127.0.0.1:0', '--versions', opts.versions ?? '1.0', '--settle-ms', String(opts.settleMs ?? 200), ...chain], opts.env)
  t.teardown(async () => { await stopSpawned(p, 'SIGKILL') })
  const { url } = await firstJsonLine<{ url: string }>(p, 'the sample service')
  return {
    ...p,
    url,
    stats: async () => await (await fetch(`${url}/sandbox/stats`)).json() as { accepted: number, duplicates: number },
    stop: async () => await stopSpawned(p, 'SIGTERM')
  }
}

export interface GatewayToml {
  redisUrl?: string
  blue: string
  green?: string
  blueVersions?: string[]
  greenVersions?: string[]
  /** Extra TOML appended as is (its own sections). */
  extra?: string
  reconcileIntervalMs?: number
  maxBodyBytes?: number
  shutdownGraceSecs?: number
}

/** A gateway configuration for tests: listeners on port 0, no chain, fast health checks and control polling. */
export function gatewayToml (o: GatewayToml): string {
  const upstream = (color: string, url: string, versions: string[]): string => `
[upstreams.${color}]
url = "${url}"
versions = ${JSON.stringify(versions)}
health_interval_ms = 100
healthy_threshold = 1
unhealthy_threshold = 1
`
  return `
[proxy]
listen = "127.0.0.1:0"
reconcile_interval_ms = ${o.reconcileIntervalMs ?? 200}
max_body_bytes = ${o.maxBodyBytes ?? 65536}
shutdown_grace_secs = ${o.shutdownGraceSecs ?? 10}

[admin]
listen = "127.0.0.1:0"

[redis]
${o.redisUrl === undefined ? '' : `url = "${o.redisUrl}"`}
poll_interval_ms = 50

[chain]
enabled = false

[log]
level = "warn"
${upstream('blue', o.blue, o.blueVersions ?? ['1.0'])}${o.green === undefined ? '' : upstream('green', o.green, o.greenVersions ?? ['2.0'])}
${o.extra ?? ''}
`
}

export interface GatewayProcess extends Spawned {
  readonly proxyUrl: string
  readonly adminUrl: string
  /** The probe listener (`[admin] probes_listen`), or null when the configuration has none. */
  readonly probesUrl: string | null
  /** One admin API call with the test token; resolves to status and parsed body. */
  admin<T = unknown> (method: string, path: string, body?: unknown): Promise<{ status: number, body: T, headers: Headers }>
  stop (signal?: NodeJS.Signals): Promise<Exit>
}

export interface ServeOptions {
  config: string
  env?: Record<string, string | undefined>
  /** Another build's `intent-gate` entry point (a previous release: test/helpers/release.ts); this checkout's by default. */
  bin?: string
}

/** Writes `config` to a temp file and runs `intent-gate serve --config <file>` with `env` over the test token. */
export async function startGateway (t: Teardown, opts: ServeOptions): Promise<GatewayProcess> {
  const p = await spawnServe(t, opts)
  const { proxy, admin, probes } = await firstJsonLine<{ proxy: string, admin: string, probes?: string }>(p, 'intent-gate serve')
  return {
    ...p,
    proxyUrl: proxy,
    adminUrl: admin,
    probesUrl: probes ?? null,
    admin: async (method, route, body) => {
      const res = await fetch(`${admin}${route}`, {
        method,
        headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body)
      })
      const text = await res.text()
      return { status: res.status, body: (text === '' ? null : JSON.parse(text)), headers: res.headers }
    },
    stop: async (signal = 'SIGTERM') => await stopSpawned(p, signal)
  }
}

/** `intent-gate serve` without waiting for it to listen (for start-up failures). */
export async function spawnServe (t: Teardown, opts: ServeOptions): Promise<Spawned> {
  const bin = opts.bin ?? GATEWAY_BIN
  assertBuilt(bin)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-gw-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = path.join(dir, 'intent-gate.toml')
  await writeFile(file, opts.config)
  const p = spawnNode([bin, 'serve', '--config', file], {
    INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN,
    INTENT_GATE_COORDINATOR_DATABASE: path.join(dir, 'coordinator.sqlite'),
    INTENT_GATE_CHECKPOINT_CHECKPOINT_DIR: path.join(dir, 'checkpoints'),
    ...opts.env
  })
  t.teardown(async () => { await stopSpawned(p, 'SIGKILL') })
  return p
}

/** Runs the `intent-gate` CLI to completion. */
export async function runCli (
  args: string[],
  env: Record<string, string | undefined> = {}
): Promise<Exit & { stdout: string, stderr: string }> {
  assertBuilt(GATEWAY_BIN)
  const p = spawnNode([GATEWAY_BIN, ...args], env)
  const exit = await p.exited
  return { ...exit, stdout: p.stdout(), stderr: p.stderr() }
}

export interface Answer {
  status: number
  headers: Headers
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: any
  /** performance.now() when the request was started and when its answer was complete. */
  startedAt: number
  endedAt: number
}

/** One request to the gateway; never rejects for an HTTP status (a transport error rejects). */
export async function request (
  url: string,
  init: { method?: string, body?: unknown, raw?: string | Buffer, headers?: Record<string, string> } = {}
): Promise<Answer> {
  const startedAt = performance.now()
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body))
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body
  })
  const text = await res.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch {}
  return { status: res.status, headers: res.headers, body: parsed, startedAt, endedAt: performance.now() }
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T> (what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** A sample of a Prometheus text exposition (`name{labels} value`), or undefined when absent. */
export function metricValue (text: string, name: string, labels = ''): number | undefined {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `
  const line = text.split('\n').find((l) => l.startsWith(prefix))
  return line === undefined ? undefined : Number(line.slice(prefix.length))
}
