/**
 * A real Redis Cluster for tests: six `redis-server --cluster-enabled yes` on free loopback ports (three masters,
 * one replica each) joined by `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`. A short
 * `cluster-node-timeout` makes a killed master fail over in a second or two. Teardown is registered on `t`
 * before the first process starts, so a failed start leaves nothing behind.
 *
 *   const cluster = await startCluster(t)
 *   const config = { cluster_nodes: cluster.nodes, ... }
 *   const master = await cluster.masterOf('intent-gate:{default}:inflight')
 *   await master.kill()
 *   await cluster.waitForMaster(slot, (port) => port !== master.port)   // the replica took over
 *   await cluster.cli('SET', 'intent-gate:{default}:drain', '1')        // redis-cli -c: follows MOVED
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { freePort, startRedis, type RedisServer, type Teardown } from './redis.js'

const execFileAsync = promisify(execFile)

export interface ClusterOptions {
  /** `cluster-node-timeout` (default 1000 ms): how long a silent master stays a master. */
  nodeTimeoutMs?: number
  /** Extra `redis-server` arguments for every node (e.g. TLS). */
  args?: string[]
}

export interface RedisCluster {
  /** `127.0.0.1:<port>` of every node (`redis.cluster_nodes`). */
  readonly nodes: string[]
  readonly servers: RedisServer[]
  /** `redis-cli -c` against the first live node: follows MOVED/ASK like an operator's shell. */
  cli (...args: string[]): Promise<string>
  /** The hash slot of a key (`CLUSTER KEYSLOT`). */
  slotOf (key: string): Promise<number>
  /** The node that is master of the key's slot now. */
  masterOf (key: string): Promise<RedisServer>
  /** Resolves once a live node reports `cluster_state:ok` and the slot's master satisfies `accept`. */
  waitForMaster (slot: number, accept: (port: number) => boolean, timeoutMs?: number): Promise<RedisServer>
  /** Resharding of one slot, as `redis-cli --cluster reshard` does it: IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE. */
  moveSlot (slot: number, to: RedisServer): Promise<void>
  dispose (): Promise<void>
}

/** How often cluster state is re-read while waiting: the cluster announces nothing a client can subscribe to. */
const POLL_MS = 50

export async function startCluster (t?: Teardown, options: ClusterOptions = {}): Promise<RedisCluster> {
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000
  const servers: RedisServer[] = []
  const dispose = async (): Promise<void> => {
    await Promise.all(servers.map(async (s) => await s.dispose()))
  }
  t?.teardown(dispose)

  for (let i = 0; i < 6; i++) {
    // The cluster bus needs a port of its own (port + 10000 may be above 65535 for an ephemeral port).
    const busPort = await freePort()
    servers.push(await startRedis(undefined, {
      args: [
        '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf',
        '--cluster-port', String(busPort),
        '--cluster-node-timeout', String(nodeTimeoutMs),
        // A replica that lagged may still take over: the test decides what may be lost (wait_replicas).
        '--cluster-replica-validity-factor', '0',
        ...(options.args ?? [])
      ]
    }))
  }
  const nodes = servers.map((s) => `127.0.0.1:${s.port}`)
  await execFileAsync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes'])

  const live = (): RedisServer[] => servers.filter((s) => s.pid() !== null)
  const first = (): RedisServer => {
    const node = live()[0]
    if (node === undefined) throw new Error('no cluster node is running')
    return node
  }
  const slotOf = async (key: string): Promise<number> => Number(await first().cli('CLUSTER', 'KEYSLOT', key))
  /** The master port of a slot as `node` sees it (CLUSTER NODES), or null when it has none that is up. */
  const masterPortAt = async (node: RedisServer, slot: number): Promise<number | null> => {
    const lines = (await node.cli('CLUSTER', 'NODES')).split('\n')
    for (const line of lines) {
      const [, address, flags, , , , , state, ...ranges] = line.split(' ')
      if (address === undefined || flags === undefined) continue
      if (!flags.includes('master') || flags.includes('fail') || state !== 'connected') continue
      for (const range of ranges) {
        if (range.startsWith('[')) continue // a slot being migrated or imported
        const [lo, hi] = range.split('-').map(Number)
        if (lo !== undefined && slot >= lo && slot <= (hi ?? lo)) return Number(address.split('@')[0]?.split(':')[1])
      }
    }
    return null
  }
  const serverOn = (port: number): RedisServer => {
    const found = servers.find((s) => s.port === port)
    if (found === undefined) throw new Error(`no cluster node on port ${port}`)
    return found
  }
  const waitForMaster = async (slot: number, accept: (port: number) => boolean, timeoutMs = 30_000): Promise<RedisServer> => {
    const until = Date.now() + timeoutMs
    for (;;) {
      for (const node of live()) {
        try {
          const ok = (await node.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')
          const port = ok ? await masterPortAt(node, slot) : null
          if (port !== null && accept(port) && serverOn(port).pid() !== null) return serverOn(port)
        } catch {
          // a node that is shutting down: ask the next
        }
      }
      if (Date.now() > until) throw new Error(`slot ${slot}: no accepted master within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }
  // `--cluster create` returns once the slots are assigned; every node must agree before a test starts.
  for (const node of servers) {
    const until = Date.now() + 30_000
    while (!(await node.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      if (Date.now() > until) throw new Error(`cluster node ${node.port} never reached cluster_state:ok`)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }
  // ... and every master's replica must be in sync (startRedis sets no diskless-sync delay): a test of durable
  // admissions (WAIT) starts from there.
  for (const node of servers) {
    const until = Date.now() + 30_000
    for (;;) {
      const replication = await node.cli('INFO', 'replication')
      if (!replication.includes('role:master')) break
      const replicas = [...replication.matchAll(/^slave\d+:.*state=(\w+)/gm)].map((m) => m[1])
      if (replicas.length > 0 && replicas.every((state) => state === 'online')) break
      if (Date.now() > until) throw new Error(`cluster node ${node.port}: its replica never came online (${replicas.join(', ') || 'none'})`)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }
  return {
    nodes,
    servers,
    cli: async (...args) => {
      const { stdout } = await execFileAsync('redis-cli', ['-c', '-h', '127.0.0.1', '-p', String(first().port), ...args])
      return stdout.replace(/\n$/, '')
    },
    slotOf,
    masterOf: async (key) => await waitForMaster(await slotOf(key), () => true),
    waitForMaster,
    moveSlot: async (slot, to) => {
      const from = await waitForMaster(slot, () => true)
      if (from.port === to.port) return
      const fromId = await from.cli('CLUSTER', 'MYID')
      const toId = await to.cli('CLUSTER', 'MYID')
      await to.cli('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId)
      await from.cli('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId)
      for (;;) {
        const keys = (await from.cli('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')).split('\n').filter((k) => k !== '')
        if (keys.length === 0) break
        await from.cli('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys)
      }
      for (const node of live()) {
        if ((await node.cli('ROLE')).startsWith('master')) await node.cli('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId)
      }
    },
    dispose
  }
}
