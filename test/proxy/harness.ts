/**
 * Building blocks of the proxy tests: a configuration from TOML (through the real loader), a store of either
 * kind, a proxy listening on port 0 with a log the test can read, and a client. Teardown is registered on `t`
 * right after each thing is created.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { Client } from 'undici'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { createProxy, type Proxy } from '../../src/proxy/index.js'
import { createStore } from '../../src/store/index.js'
import type { Store } from '../../src/store/types.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { createVersionCatalog } from '../../src/versions/index.js'
import type { Teardown } from './upstream.js'

export const catalog = createVersionCatalog()

export interface ConfigOptions {
  /** An upstream (its URL and the version it speaks), or a bare URL of a 2.0 upstream. */
  blue?: UpstreamRef | string
  green?: UpstreamRef | string
  /** Extra TOML appended to the file (whole sections). */
  toml?: string
  /** Keys of `[proxy]` over the test defaults, e.g. `{ upstream_timeout_ms: 300 }`. */
  proxy?: Record<string, string | number>
}

export interface UpstreamRef { url: string, version: string }

function upstreamSection (color: string, u: UpstreamRef | string): string {
  const url = typeof u === 'string' ? u : u.url
  const versions = typeof u === 'string' ? '["2.0"]' : `["${u.version}"]`
  return `[upstreams.${color}]\nurl = "${url}"\nversions = ${versions}\nhealth_interval_ms = 100\nhealth_timeout_ms = 500\nhealthy_threshold = 1\nunhealthy_threshold = 2\nconnections = 16\n`
}

export async function makeConfig (t: Teardown, o: ConfigOptions): Promise<Config> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ig-proxy-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'intent-gate.toml')
  const proxy = { listen: '127.0.0.1:0', upstream_timeout_ms: 2000, reconcile_interval_ms: 60000, shutdown_grace_secs: 5, ...o.proxy }
  const parts = [
    '[proxy]\n' + Object.entries(proxy).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n'),
    '[chain]\nenabled = false'
  ]
  if (o.blue !== undefined) parts.push(upstreamSection('blue', o.blue))
  if (o.green !== undefined) parts.push(upstreamSection('green', o.green))
  if (o.toml !== undefined) parts.push(o.toml)
  await writeFile(file, parts.join('\n\n'))
  return loadConfig({ file, env: {}, knownVersions: catalog.known })
}

export interface LogLine { level: number, msg: string, [k: string]: unknown }

export interface RunningProxy {
  proxy: Proxy
  url: string
  logs: LogLine[]
  client: Client
}

export async function startProxy (t: Teardown, config: Config, store: Store, now?: () => number): Promise<RunningProxy> {
  const logs: LogLine[] = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine)
      cb()
    }
  })
  const logger = pino({ level: 'debug' }, sink)
  const proxy = createProxy({ config, store, versions: catalog, logger, ...(now === undefined ? {} : { now }) })
  t.teardown(async () => await proxy.destroy())
  await proxy.listen()
  const client = new Client(proxy.url())
  t.teardown(async () => await client.destroy())
  return { proxy, url: proxy.url(), logs, client }
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: any
}

/** One request through `client`; the body is read whole. */
export async function call (
  client: Client,
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Reply> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  const res = await client.request({
    method: method as 'GET',
    path: urlPath,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: payload
  })
  const text = await res.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, json }
}

export type StoreKind = 'embedded' | 'redis'

export interface StoreUnderTest {
  store: Store
  /** The Redis server behind a `redis` store (null for `embedded`). */
  redis: RedisServer | null
}

/** A real store for `config`: the embedded one, or Redis on a fresh `redis-server` started for this test. */
export async function makeStore (t: Teardown, config: Config, kind: StoreKind = 'embedded'): Promise<StoreUnderTest> {
  const redis = kind === 'redis' ? await startRedis(t) : null
  const store = createStore({ ...config.redis, ...(redis === null ? {} : { url: redis.url }) })
  t.teardown(async () => await store.close())
  await store.ready()
  return { store, redis }
}

/**
 * Resolves once `condition` holds, checking every 10 ms: for state that changes through a timer the test does
 * not own (the store's control watch, health checks). Fails after `timeoutMs`.
 */
export async function waitFor (condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export interface Gateway extends RunningProxy, StoreUnderTest {
  config: Config
}

/** Configuration, store and proxy in one step: what most proxy tests start with. */
export async function startGateway (t: Teardown, o: ConfigOptions, kind: StoreKind = 'embedded', now?: () => number): Promise<Gateway> {
  const config = await makeConfig(t, o)
  const { store, redis } = await makeStore(t, config, kind)
  const running = await startProxy(t, config, store, now)
  return { ...running, config, store, redis }
}
