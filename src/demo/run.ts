/**
 * `intent-gate demo`: the whole system on this machine, in stages, narrated. Every process runs on 127.0.0.1
 * with port 0 and is stopped at the end, on an error, and on Ctrl-C. Resolves with the exit status: 0 when
 * everything behaved, 1 when something did not (each problem is printed), 130 when interrupted.
 */
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { ChildProcesses } from './children.js'
import { drainStage } from './drain-stage.js'
import { createNarrator } from './narrator.js'
import { watchTraffic, type StageContext } from './stage-context.js'
import { summaryStage } from './summary.js'
import { NORMAL, QUICK } from './timings.js'
import { Traffic } from './traffic.js'
import { upgradeStage } from './upgrade-stage.js'
import { makeDemoDir, removeAbandonedDemoDirs } from './work-dir.js'
import { startWorld, type ChainKind } from './world.js'

export interface DemoOptions {
  /** Shorter stages (for tests and the impatient). */
  quick: boolean
  /** Stage 4: the local chain, green, and an upgrade under live traffic. */
  withUpgrade: boolean
  /** New intents per second. */
  rate: number
  /** Stage 4 breaks green once it serves: the verifying phase rolls the upgrade back. */
  brokenGreen?: boolean
  /** The chain of stage 4: the sandbox's (default) or a real network of two wasmd chains and the Go relayer. */
  chain?: ChainKind
  write?: (text: string) => void
}

const EXIT_INTERRUPTED = 130

export async function runDemo (o: DemoOptions): Promise<number> {
  const write = o.write ?? ((text: string) => { process.stdout.write(text) })
  const timings = o.quick ? QUICK : NORMAL
  const say = createNarrator(write, o.withUpgrade ? 5 : 4)
  const children = new ChildProcesses()
  const controller = new AbortController()
  const onSignal = (): void => {
    if (controller.signal.aborted) return
    write('\nInterrupted: stopping every process...\n')
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  await removeAbandonedDemoDirs()
  const dir = await makeDemoDir()
  const problems: string[] = []
  let traffic: Traffic | null = null

  const chainKind = o.chain ?? 'sandbox'
  const chainWords = chainKind === 'wasmd' ? 'a real network (two wasmd chains and the Go relayer)' : 'the local chain'
  write('intent-gate demo: sample intent services, the gateway' + (o.withUpgrade ? `, ${chainWords} and an upgrade under live traffic` : ' and a drain under live traffic') +
    ', all on 127.0.0.1; everything is stopped at the end (Ctrl-C stops it early).\n')
  try {
    say.stage('Start the world')
    const world = await startWorld(children, say, { dir, chain: chainKind, token: randomBytes(24).toString('hex'), withUpgrade: o.withUpgrade, settleMs: timings.settleMs, verify: o.brokenGreen === true })

    say.stage('Steady traffic')
    say.say(`Sending ${o.rate} signed 1.0 intents a second through the gateway; each client retries a 503 after its Retry-After ` +
      'with the same Idempotency-Key, then reads its intent until it settles.')
    traffic = await Traffic.start(children, { target: world.proxyUrl, rate: o.rate, finishTimeoutSecs: 60 })
    const c: StageContext = { admin: world.admin, traffic, say, timings, signal: controller.signal, problems }
    await watchTraffic(c, timings.trafficSecs)

    say.stage('Drain under live traffic')
    await drainStage(c)

    if (o.withUpgrade && world.chain !== null && world.green !== null) {
      say.stage('Upgrade under live traffic')
      await upgradeStage(c, { chain: world.chain, blue: world.blue, green: world.green, broken: o.brokenGreen === true, real: chainKind === 'wasmd' })
    }

    say.stage('Summary')
    await summaryStage(c, world.green === null ? [world.blue] : [world.blue, world.green],
      chainKind === 'wasmd' && world.chain !== null ? { chain: world.chain, contractVersion: o.brokenGreen === true ? '1.0' : '2.0' } : null)
  } catch (err) {
    if (controller.signal.aborted) return await finish(EXIT_INTERRUPTED)
    problems.push(err instanceof Error ? err.message : String(err))
    for (const c of children.crashed()) problems.push(`${c.name} exited (${c.exit}) while the demo ran:\n${c.stderrTail.trimEnd()}`)
  }
  return await finish(problems.length === 0 ? 0 : 1)

  async function finish (code: number): Promise<number> {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // A second Ctrl-C while stopping must not kill the demo before its children are gone.
    process.on('SIGINT', () => {})
    // Interrupted clients would wait out their Retry-After against a gateway that is going away.
    if (code === EXIT_INTERRUPTED) traffic?.abort()
    await children.stopAll()
    await rm(dir, { recursive: true, force: true })
    if (code === 0) write('\nEverything behaved: no intent failed. All processes stopped.\n')
    else if (code === 1) write(`\nThe demo did not behave:\n${problems.map((p) => `  - ${p}`).join('\n')}\nAll processes stopped.\n`)
    else write('All processes stopped.\n')
    return code
  }
}
