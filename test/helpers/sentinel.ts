/**
 * A real Redis Sentinel group for tests: a primary, replicas and three sentinels (`redis-server --sentinel`),
 * every process on a free loopback port with a short `down-after-milliseconds`, so killing the primary fails it
 * over in a second or two. `start` resolves once the replicas are in sync and the sentinels know the replicas
 * and each other (a failover needs their votes).
 *
 *   const group = await startSentinelGroup(t)
 *   const config = { sentinels: group.sentinels, sentinel_name: group.name, ... }
 *   const switched = group.nextSwitch()
 *   await group.primary().kill()
 *   const { port } = await switched          // the promoted replica
 */
import { writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { Redis } from 'ioredis'
import {
  makeTempDir, redisCli, spawnOnFreePort, startRedis, stopProcess,
  type RedisProcess, type RedisServer, type Teardown
} from './redis.js'

export interface SentinelOptions {
  /** Replicas of the primary (default 1). */
  replicas?: number
  /** Sentinels (default 3; quorum is a majority). */
  sentinels?: number
  /** How long a primary may be silent before a sentinel calls it down (default 500 ms). */
  downAfterMs?: number
  /** Sentinel's failover-timeout (default 3000 ms). */
  failoverTimeoutMs?: number
}

export interface SentinelNode {
  readonly port: number
  stop (): Promise<void>
  kill (): Promise<void>
  cli (...args: string[]): Promise<string>
}

export interface SentinelGroup {
  /** The monitored primary's name (`sentinel_name`). */
  readonly name: string
  /** `127.0.0.1:<port>` of each sentinel (`redis.sentinels`). */
  readonly sentinels: string[]
  readonly sentinelNodes: SentinelNode[]
  /** Every data node, the original primary first. */
  readonly servers: RedisServer[]
  /** The data node the sentinels currently call primary. */
  primary (): RedisServer
  /** Resolves on the next `+switch-master` with the new primary's port. */
  nextSwitch (): Promise<{ port: number }>
  /** `SENTINEL FAILOVER` (no vote needed) and wait until the new primary is announced. */
  failover (): Promise<{ port: number }>
  dispose (): Promise<void>
}

const NAME = 'mymaster'

function sentinelConfig (port: number, primaryPort: number, quorum: number, opts: Required<SentinelOptions>): string {
  return [
    `port ${port}`,
    'bind 127.0.0.1',
    `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} ${quorum}`,
    `sentinel down-after-milliseconds ${NAME} ${opts.downAfterMs}`,
    `sentinel failover-timeout ${NAME} ${opts.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${NAME} 1`,
    ''
  ].join('\n')
}

/** Listens to a sentinel's event channels (`+sentinel`, `+slave`, `+switch-master`, ...). */
class SentinelEvents {
  private readonly waiters: Array<{ channel: string, resolve: (message: string) => void }> = []
  readonly client: Redis

  constructor (port: number) {
    this.client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 })
    this.client.on('error', () => {})
    this.client.on('pmessage', (_pattern: string, channel: string, message: string) => {
      for (const waiter of this.waiters.filter((w) => w.channel === channel)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        waiter.resolve(message)
      }
    })
  }

  async start (): Promise<void> {
    await this.client.connect()
    await this.client.psubscribe('*')
  }

  /** Calls `fn` on every message of `channel`, before any `next` waiter hears it. */
  always (channel: string, fn: (message: string) => void): void {
    this.client.on('pmessage', (_pattern: string, ch: string, message: string) => { if (ch === channel) fn(message) })
  }

  async next (channel: string): Promise<string> {
    return await new Promise((resolve) => this.waiters.push({ channel, resolve }))
  }
}

export async function startSentinelGroup (t?: Teardown, options: SentinelOptions = {}): Promise<SentinelGroup> {
  const opts: Required<SentinelOptions> = { replicas: 1, sentinels: 3, downAfterMs: 500, failoverTimeoutMs: 3000, ...options }
  const quorum = Math.floor(opts.sentinels / 2) + 1
  const disposers: Array<() => Promise<void>> = []
  const dispose = async (): Promise<void> => {
    for (const d of disposers.reverse()) await d()
  }
  t?.teardown(dispose)

  const first = await startRedis()
  disposers.push(first.dispose)
  const servers: RedisServer[] = [first]
  for (let i = 0; i < opts.replicas; i++) {
    const replica = await startRedis(undefined, { args: ['--replicaof', '127.0.0.1', String(first.port)] })
    disposers.push(replica.dispose)
    servers.push(replica)
  }
  // Once every replica acknowledged a write, they are attached and in sync.
  const synced = await first.replicated('sentinel-group:sync', opts.replicas, 10_000)
  if (synced < opts.replicas) throw new Error(`only ${synced} of ${opts.replicas} replicas synced`)

  const dir = await makeTempDir('sentinel')
  disposers.push(async () => await rm(dir, { recursive: true, force: true }))
  const nodes: SentinelNode[] = []
  const events: SentinelEvents[] = []
  for (let i = 0; i < opts.sentinels; i++) {
    const { port, proc } = await spawnOnFreePort((p) => {
      const file = path.join(dir, `sentinel-${i}-${p}.conf`)
      writeFileSync(file, sentinelConfig(p, first.port, quorum, opts))
      return [file, '--sentinel']
    }, dir)
    const node = sentinelNode(port, proc)
    disposers.push(node.kill)
    nodes.push(node)
    const listener = new SentinelEvents(port)
    disposers.push(async () => { listener.client.disconnect() })
    await listener.start()
    events.push(listener)
  }
  await Promise.all(nodes.map(async (node, i) => await waitUntilAcquainted(node, events[i] as SentinelEvents, opts)))

  // "<name> <old ip> <old port> <new ip> <new port>": followed for as long as the group lives, so primary()
  // is right even after a failover nobody waited for.
  let primaryPort = first.port
  const portOf = (message: string): number => Number(message.split(' ')[4])
  const primaryEvents = events[0] as SentinelEvents
  primaryEvents.always('+switch-master', (message) => { primaryPort = portOf(message) })
  const nextSwitch = async (): Promise<{ port: number }> => ({ port: portOf(await primaryEvents.next('+switch-master')) })
  return {
    name: NAME,
    sentinels: nodes.map((n) => `127.0.0.1:${n.port}`),
    sentinelNodes: nodes,
    servers,
    primary: () => servers.find((s) => s.port === primaryPort) as RedisServer,
    nextSwitch,
    failover: async () => {
      const switched = nextSwitch()
      await (nodes[0] as SentinelNode).cli('SENTINEL', 'FAILOVER', NAME)
      return await switched
    },
    dispose
  }
}

function sentinelNode (port: number, proc: RedisProcess): SentinelNode {
  return {
    port,
    stop: async () => { await stopProcess(proc, 'SIGTERM') },
    kill: async () => { await stopProcess(proc, 'SIGKILL') },
    cli: async (...args) => await redisCli(port, args)
  }
}

/** Resolves once this sentinel knows every replica and every other sentinel (discovery events, then a check). */
async function waitUntilAcquainted (node: SentinelNode, events: SentinelEvents, opts: Required<SentinelOptions>): Promise<void> {
  const count = async (what: 'REPLICAS' | 'SENTINELS'): Promise<number> =>
    (await node.cli('SENTINEL', what, NAME)).split('\n').filter((line) => line === 'name').length
  // Each waiter is registered before the count it follows, so an event between the two is not missed.
  for (;;) {
    const next = events.next('+slave')
    if (await count('REPLICAS') >= opts.replicas) break
    await next
  }
  for (;;) {
    const next = events.next('+sentinel')
    if (await count('SENTINELS') >= opts.sentinels - 1) break
    await next
  }
}
