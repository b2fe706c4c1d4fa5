/**
 * Shared pieces of the watcher tests: a config for a local chain, a logger whose lines a test can read, the
 * stores the watcher keeps its state in (embedded, or Redis on a real redis-server), a TCP proxy whose
 * connections a test can cut or black-hole, and waiting for a condition on processed heights.
 */
import net from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Logger } from '../../src/log.js'
import type { Config } from '../../src/config/schema.js'
import type { Store } from '../../src/store/types.js'
import { EmbeddedStore, RedisStore } from '../../src/store/index.js'
import type { IbcWatcher, ProcessedHeight } from '../../src/ibc/watcher.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export function watcherConfig (rpcUrl: string, overrides: Partial<Config['ibc']> = {}): Pick<Config, 'chain' | 'ibc'> {
  return {
    chain: { enabled: true, rpc_url: rpcUrl, chain_id: 'intent-local-1', settlement_contract: '', signer_mnemonic_env: 'UNUSED', gas_price: '0.025ustake', tx_timeout_blocks: 20, contracts: {} },
    ibc: { channels: ['channel-0'], port: 'transfer', stale_packet_secs: 600, reconcile_interval_secs: 3600, ...overrides }
  }
}

export interface CapturedLog {
  logger: Logger
  lines: () => Array<Record<string, unknown>>
}

export function captureLog (): CapturedLog {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    }
  })
  return { logger: pino({ level: 'debug' }, sink), lines: () => lines }
}

/** The embedded single-instance store, closed at teardown. */
export function embeddedStore (t: Teardown): Store {
  const store = new EmbeddedStore()
  t.teardown(async () => { await store.close() })
  return store
}

/** A Redis store on a real redis-server (test/helpers/redis.ts), ready, closed at teardown. */
export async function redisStore (t: Teardown, url: string): Promise<Store> {
  const store = new RedisStore({ url, namespace: 'ibc-test', poll_interval_ms: 50, command_timeout_ms: 1000 })
  t.teardown(async () => { await store.close() })
  await store.ready()
  return store
}

/** Resolves with the first processed height for which `predicate` holds (checked on every processed height). */
export async function waitForHeight (
  watcher: IbcWatcher,
  predicate: (e: ProcessedHeight) => boolean,
  what: string,
  timeoutMs = 20_000
): Promise<ProcessedHeight> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for ${what}; watcher state: ${JSON.stringify(watcher.state())}`)) }, timeoutMs)
    const off = watcher.onProcessed((e) => {
      if (!predicate(e)) return
      clearTimeout(timer)
      off()
      resolve(e)
    })
  })
}

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Destroys every open connection with a TCP reset: no WebSocket close frame, no FIN handshake. */
  cut (): number
  /** Existing connections stay open but carry nothing more in either direction (a dead network path). */
  blackhole (): number
  /** Number of connections accepted so far. */
  accepted (): number
}

export async function startTcpProxy (t: Teardown, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket, upstream: net.Socket, dead: boolean }>()
  let accepted = 0
  const server = net.createServer((client) => {
    accepted++
    const upstream = net.connect(targetPort, '127.0.0.1')
    const pair = { client, upstream, dead: false }
    pairs.add(pair)
    client.on('data', (d) => { if (!pair.dead) upstream.write(d) })
    upstream.on('data', (d) => { if (!pair.dead) client.write(d) })
    const end = (): void => { pairs.delete(pair); client.destroy(); upstream.destroy() }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as net.AddressInfo
  t.teardown(async () => {
    for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy() }
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut: () => {
      const n = pairs.size
      for (const { client, upstream } of pairs) { client.resetAndDestroy(); upstream.destroy() }
      pairs.clear()
      return n
    },
    blackhole: () => {
      let n = 0
      for (const pair of pairs) { if (!pair.dead) n++; pair.dead = true }
      return n
    },
    accepted: () => accepted
  }
}
