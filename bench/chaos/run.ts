/**
 * One bounded chaos run: signed clients at a steady rate through two gateway instances while faults follow one
 * another on a timeline (as fractions of the run, so a short run has them all too):
 *
 *   6 %  blue → green through one instance's admin API
 *  14 %  green → blue with `redis-cli SET active` (on the primary; `-c` on a cluster)
 *  22 %  one instance SIGKILLed, started again
 *  34 %  the Redis primary (on a cluster: the namespace's master) SIGKILLed, a replica promoted, the old one back
 *  46 %  the chain node SIGKILLed, started again on the same port and state
 *  56 %  a coordinated upgrade (2.0, swap to green, contract migrated); its leader SIGKILLed while draining, the
 *        other instance takes the lease over and finishes it; the killed one started again
 *
 * The clients send from the start until the duration and every step are over (a busy machine stretches the
 * timeline: the upgrade still drains live traffic). Then they stop sending, every intent is followed to its final
 * answer, the upgrade to its end, and the figures are computed against the services' ledgers.
 */
import { randomBytes } from 'node:crypto'
import type { UpgradeStatusBody } from '../../src/admin/routes/upgrade.js'
import type { GatewayProcess } from '../../test/helpers/gateway.js'
import { ChaosClients } from './client.js'
import { computeFigures, type Figures, type Ledger } from './figures.js'
import { NAMESPACE, startWorld, Teardowns } from './world.js'

export interface ChaosOptions {
  durationMs: number
  cluster: boolean
  ratePerSec: number
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void
}

const FINAL = ['completed', 'rolled_back', 'failed']
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Polls (every 100 ms: the admin API has no push) until `probe` gives a value; throws after `timeoutMs`. */
async function until<T> (what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) { last = err }
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}${last === undefined ? '' : ` (${String(last)})`}`)
    await sleep(100)
  }
}

/** An admin API call that rides out a busy or restarting instance (transport errors retried for 30 s). */
async function admin<T = unknown> (
  gw: GatewayProcess,
  method: string,
  route: string,
  body?: unknown
): Promise<{ status: number, body: T }> {
  return await until(`${method} ${route}`, async () => await gw.admin<T>(method, route, body), 30_000)
}

async function upgradeStatus (gw: GatewayProcess): Promise<UpgradeStatusBody> {
  const r = await admin<UpgradeStatusBody>(gw, 'GET', '/admin/upgrade/status')
  if (r.status !== 200) throw new Error(`upgrade status ${r.status}`)
  return r.body
}

/** What each gateway says when a step fails: its drain status and its last warnings and errors (for the cause). */
async function describeGateways (instances: Array<GatewayProcess | null>): Promise<string[]> {
  const lines: string[] = []
  for (const [i, gw] of instances.entries()) {
    if (gw === null) continue
    const name = i === 0 ? 'a' : 'b'
    try {
      const drain = await admin(gw, 'GET', '/admin/drain/status')
      lines.push(`gateway ${name}: drain status ${drain.status} ${JSON.stringify(drain.body).slice(0, 300)}`)
    } catch (err) {
      lines.push(`gateway ${name}: drain status unreadable: ${(err as Error).message}`)
    }
    const logged = `${gw.stdout()}\n${gw.stderr()}`.split('\n').filter((l) => /"level":(40|50|60)/.test(l))
    for (const l of logged.slice(-8)) lines.push(`gateway ${name} logged: ${l.slice(0, 400)}`)
  }
  return lines
}

export async function runChaos (options: ChaosOptions): Promise<Figures> {
  const log = options.log ?? (() => {})
  const t = new Teardowns()
  try {
    const instances: Array<GatewayProcess | null> = []
    const live = (): GatewayProcess[] => instances.filter((g): g is GatewayProcess => g !== null)
    log(`chaos: starting the world (${options.cluster ? 'Redis Cluster' : 'Redis Sentinel'}, chain, blue, green, two gateways) and signing the intents`)
    const clients = new ChaosClients({ targets: () => live().map((g) => g.proxyUrl), ratePerSec: options.ratePerSec, runId: randomBytes(4).toString('hex') })
    // Half as many again: on a busy machine the timeline's steps overrun the duration, and the clients send until
    // the last one is done (the rest are signed as they are sent).
    const signing = clients.prepare(Math.ceil(1.5 * options.ratePerSec * options.durationMs / 1000))
    const world = await startWorld(t, { cluster: options.cluster, settleMs: 1500 })
    instances.push(await world.startGateway('a'), await world.startGateway('b'))
    for (const gw of live()) {
      await until('both upstreams healthy', async () => {
        const { body } = await admin<{ upstreams: Array<{ healthy: boolean }> }>(gw, 'GET', '/admin/upstreams')
        return body.upstreams.filter((u) => u.healthy).length === 2 ? true : undefined
      })
    }
    await signing
    const faults: string[] = []
    const started = performance.now()
    const note = (what: string): void => {
      const line = `${((performance.now() - started) / 1000).toFixed(1)} s: ${what}`
      faults.push(line)
      log(`chaos: ${line}`)
    }
    const at = async (fraction: number): Promise<void> => {
      await sleep(Math.max(0, started + fraction * options.durationMs - performance.now()))
    }
    const restart = async (index: number, name: string, signal: NodeJS.Signals): Promise<void> => {
      const gw = instances[index] as GatewayProcess
      instances[index] = null
      await gw.stop(signal)
      note(`instance ${name} ${signal === 'SIGKILL' ? 'SIGKILLed' : 'stopped'}`)
      instances[index] = await world.startGateway(name)
      note(`instance ${name} started again`)
    }
    // The clients send through the whole timeline, however long its steps take: the coordinated upgrade must
    // drain live traffic (started after the clients stopped, it drained at once and completed before its leader
    // could be killed: stop 35's CI and ci22).
    clients.start()
    note(`clients at ${options.ratePerSec} intents/s`)
    // A fault that cannot be injected (or whose effect never shows) is noted and fails the run; the clients go on.
    let stepsFailed = 0
    const step = async (what: string, run: () => Promise<void>): Promise<void> => {
      try {
        await run()
      } catch (err) {
        stepsFailed++
        note(`FAILED: ${what}: ${(err as Error).message.slice(0, 300)}`)
        for (const line of await describeGateways(instances)) log(`chaos:   ${line}`)
      }
    }

    await at(0.06)
    await step('admin swap', async () => {
      const swap = await admin(live()[0] as GatewayProcess, 'POST', '/admin/upstreams/active', { color: 'green' })
      note(`admin swap to green (${swap.status})`)
    })

    await at(0.14)
    await step('redis-cli swap', async () => {
      note(`redis-cli SET active blue (${await world.redis.cli('SET', `intent-gate:{${NAMESPACE}}:active`, 'blue')})`)
    })

    await at(0.22)
    await step('gateway SIGKILL', async () => { await restart(1, 'b', 'SIGKILL') })

    await at(0.34)
    await step('Redis primary SIGKILL', async () => { await world.redis.crashPrimary(note) })

    await at(0.46)
    await step('chain SIGKILL', async () => {
      await world.restartChain()
      note('chain node SIGKILLed and started again')
      // As an operator would, the upgrade waits until every gateway can read the chain again (pending IBC packets
      // known, not null): started before, its ibc_relayer pre-check refuses it and it rolls back at once.
      await until('every gateway to see the chain again', async () => {
        const views = await Promise.all(live().map(async (gw) => await admin<{ pending_ibc_packets: number | null }>(gw, 'GET', '/admin/drain/status')))
        return views.every((v) => v.status === 200 && v.body.pending_ibc_packets !== null) ? true : undefined
      }, 120_000)
      note('every gateway reads the chain again')
    })

    await at(0.56)
    await step('coordinated upgrade with its leader SIGKILLed', async () => {
      const info = world.chain.info
      const asked = live()[0] as GatewayProcess
      const start = await admin<{ id: string }>(asked, 'POST', '/admin/upgrade/start', {
        target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] }
      })
      if (start.status !== 202) throw new Error(`refused: ${start.status} ${JSON.stringify(start.body).slice(0, 300)}`)
      note('coordinated upgrade started')
      {
        const reached = await until('the upgrade to drain', async () => {
          const state = (await upgradeStatus(asked)).state
          return ['draining', 'checkpointing', ...FINAL].includes(state) ? state : undefined
        })
        if (FINAL.includes(reached)) throw new Error(`it ended (${reached}) before its leader could be killed mid-phase`)
        // Each instance's view, asked until it answers: right after a failover an instance may answer 503 for a moment.
        const statuses = await Promise.all(live().map(async (gw) => ({ gw, status: await until('upgrade status of an instance', async () => await upgradeStatus(gw)) })))
        const leader = statuses.find((s) => s.status.leader.is_leader)?.gw
        const index = leader === undefined ? -1 : instances.indexOf(leader)
        if (leader === undefined || index < 0) throw new Error('no instance said it leads the upgrade')
        {
          // Frozen first: the reads above take a while on a busy machine, and a leader left running may already have
          // moved past checkpointing. Stopped, it cannot move the upgrade on, so the phase read now is the one it dies in.
          leader.child.kill('SIGSTOP')
          instances[index] = null
          const survivor = live()[0] as GatewayProcess
          const phase = (await until('the upgrade status from the survivor', async () => await upgradeStatus(survivor))).state
          await leader.stop('SIGKILL')
          note(`the upgrade's leader SIGKILLed mid-phase (${phase})`)
          const done = await until('the survivor to finish the upgrade', async () => {
            const s = await upgradeStatus(survivor)
            return FINAL.includes(s.state) ? s : undefined
          }, 120_000)
          note(`upgrade ${done.state}${done.leader.is_leader ? ', taken over by the other instance' : ''}`)
          instances[index] = await world.startGateway(index === 0 ? 'a' : 'b')
          note('the killed leader started again')
          // The next leader runs draining and checkpointing again and completes; a step killed while applying (the
          // contract migration) is never sent twice, so the upgrade rolls back naming it (docs/design.md).
          const resumable = ['draining', 'checkpointing'].includes(phase)
          const interruptedRollback = done.state === 'rolled_back' && /interrupted/.test(done.error ?? '')
          if (done.state !== 'completed' && (resumable || !interruptedRollback)) {
            throw new Error(`the upgrade ended ${done.state} after its leader was killed while ${phase}: ${done.error ?? ''}`)
          }
        }
      }
    })

    await at(1)
    note('clients stop sending (the duration and every step are over); following every intent to its end')
    const outcomes = await clients.finish()
    note(`every intent answered (${outcomes.length})`)
    const ledger = async (s: typeof world.blue): Promise<Ledger> => await s.stats() as Ledger
    const [blue, green] = await Promise.all([ledger(world.blue), ledger(world.green)])
    for (const sample of clients.tally.samples.slice(0, 3)) log(`chaos: non-retryable ${sample.status} for ${sample.key}: ${sample.body}`)
    const figures = computeFigures(outcomes, clients.tally, blue, green, {
      mode: world.redis.kind, durationS: Math.round(options.durationMs / 1000), ratePerS: options.ratePerSec, faults
    })
    return { ...figures, ok: figures.ok && stepsFailed === 0 }
  } finally {
    await t.run()
  }
}
