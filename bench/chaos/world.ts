/**
 * The chaos run's world, all real processes on this machine: a Redis (a Sentinel group of a primary, two replicas
 * and three sentinels, or a six-node Redis Cluster), the local chain (its state in a file, on a fixed port, so it
 * can be SIGKILLed and started again), the blue (1.0) and green (2.0) sample services, and two coordinated
 * `intent-gate serve` processes with `wait_replicas = 1`. It reuses the tests' process helpers (test/helpers,
 * test/sandbox/chain-harness.ts): the same processes the tests trust, started the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startCluster, type RedisCluster } from '../../test/helpers/cluster.js'
import { gatewayToml, startGateway, startService, type GatewayProcess, type ServiceProcess } from '../../test/helpers/gateway.js'
import { freePort, type RedisServer } from '../../test/helpers/redis.js'
import { startSentinelGroup, type SentinelGroup } from '../../test/helpers/sentinel.js'
import { startChain, type RunningChain } from '../../test/sandbox/chain-harness.js'

/** Collects clean-ups like tap's `t.teardown` and runs them in reverse. */
export class Teardowns {
  private readonly fns: Array<() => unknown> = []
  teardown (fn: () => unknown): void { this.fns.push(fn) }
  async run (): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try { await fn() } catch {}
    }
  }
}

export const NAMESPACE = 'chaos'

/** The Redis the gateways share and the faults it can take. */
export interface ChaosRedis {
  readonly kind: 'sentinel' | 'cluster'
  /** The `[redis]` lines of the gateways' configuration. */
  readonly toml: string
  /** `redis-cli` as an operator runs it against the namespace (on the primary; `-c` on a cluster). */
  cli (...args: string[]): Promise<string>
  /** SIGKILLs the node holding the namespace, waits for a replica's promotion, starts the old node again. */
  crashPrimary (note: (what: string) => void): Promise<void>
}

export interface World {
  readonly redis: ChaosRedis
  chain: RunningChain
  readonly blue: ServiceProcess
  readonly green: ServiceProcess
  readonly dir: string
  /** SIGKILLs the chain node and starts it again on the same port with the same state file. */
  restartChain (): Promise<void>
  /** Starts gateway instance `name` (its SQLite file is its own; checkpoints are shared). */
  startGateway (name: string): Promise<GatewayProcess>
}

async function sentinelRedis (t: Teardowns): Promise<ChaosRedis> {
  const group: SentinelGroup = await startSentinelGroup(t, { replicas: 2 })
  return {
    kind: 'sentinel',
    toml: `sentinels = ${JSON.stringify(group.sentinels)}\nsentinel_name = "${group.name}"\n`,
    cli: async (...args) => await group.primary().cli(...args),
    crashPrimary: async (note) => {
      const old: RedisServer = group.primary()
      const switched = group.nextSwitch()
      await old.kill()
      note(`Redis primary :${old.port} SIGKILLed`)
      const { port } = await switched
      note(`Sentinel promoted :${port}`)
      await old.restart() // the sentinels turn it into a replica of the new primary
      note(`old primary :${old.port} back (as a replica)`)
    }
  }
}

async function clusterRedis (t: Teardowns): Promise<ChaosRedis> {
  const cluster: RedisCluster = await startCluster(t)
  const slotKey = `intent-gate:{${NAMESPACE}}:inflight`
  return {
    kind: 'cluster',
    toml: `cluster_nodes = ${JSON.stringify(cluster.nodes)}\n`,
    cli: async (...args) => await cluster.cli(...args),
    crashPrimary: async (note) => {
      const master = await cluster.masterOf(slotKey)
      const slot = await cluster.slotOf(slotKey)
      await master.kill()
      note(`the namespace's master :${master.port} (slot ${slot}) SIGKILLed`)
      const promoted = await cluster.waitForMaster(slot, (port) => port !== master.port)
      note(`replica :${promoted.port} promoted`)
      await master.restart() // rejoins as a replica of the promoted node (its nodes.conf is kept)
      note(`old master :${master.port} back (as a replica)`)
    }
  }
}

export async function startWorld (t: Teardowns, opts: { cluster: boolean, settleMs: number }): Promise<World> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-chaos-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const chainPort = await freePort()
  const chainArgs = ['--listen', `127.0.0.1:${chainPort}`, '--state', path.join(dir, 'chain.json'), '--block-ms', '200']
  const [redis, chain, blue, green] = await Promise.all([
    opts.cluster ? clusterRedis(t) : sentinelRedis(t),
    startChain(t, chainArgs),
    startService(t, { versions: '1.0', settleMs: opts.settleMs }),
    startService(t, { versions: '2.0', settleMs: opts.settleMs })
  ])
  const world: World = {
    redis,
    chain,
    blue,
    green,
    dir,
    restartChain: async () => {
      await world.chain.kill()
      world.chain = await startChain(t, chainArgs)
    },
    startGateway: async (name) => {
      const info = world.chain.info
      const extra = `
[chain]
enabled = true
rpc_url = "${info.rpc}"
chain_id = "${info.chain_id}"
settlement_contract = "${info.settlement_contract}"
gas_price = "${info.gas_price}"

[coordinator]
database = "${path.join(dir, `state-${name}.sqlite`)}"
lease_ttl_ms = 3000

[checkpoint]
checkpoint_dir = "${path.join(dir, 'checkpoints')}"

[upgrade]
min_upgrade_interval_secs = 0
drain_timeout_secs = 120

[rollback]
rollback_retry_delay_secs = 1

[health_checks]
check_timeout_secs = 5
`
      const config = gatewayToml({ blue: blue.url, green: green.url, extra, reconcileIntervalMs: 1000 })
        .replace('[chain]\nenabled = false\n', '')
        .replace('[redis]\n', `[redis]\nnamespace = "${NAMESPACE}"\n${redis.toml}wait_replicas = 1\nwait_timeout_ms = 300\ncommand_timeout_ms = 800\n`)
      return await startGateway(t, {
        config,
        env: {
          INTENT_GATE_SIGNER_MNEMONIC: info.admin_mnemonic,
          INTENT_GATE_COORDINATOR_DATABASE: path.join(dir, `state-${name}.sqlite`),
          INTENT_GATE_CHECKPOINT_CHECKPOINT_DIR: path.join(dir, 'checkpoints')
        }
      })
    }
  }
  return world
}
