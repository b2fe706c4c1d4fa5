/**
 * `intent-gate-sandbox load --target URL [--rate N] [--duration S] ...`: steady signed traffic through the
 * gateway, as the demo and an operator trying the gateway need it. Prints JSON lines on stdout:
 *   {"type":"start", "target", "rate", "version"}           once
 *   {"type":"progress", "elapsed_s", ...LoadCounts}          every --progress-ms
 *   {"type":"summary", "elapsed_s", ...LoadCounts, "failures", "finished"}   once, last
 * Sending stops after --duration or at SIGTERM/SIGINT; then every open intent gets its final answer and is
 * followed until it ends (up to --finish-timeout). Exit 0 when nothing failed and everything finished, 1
 * otherwise, 2 for bad usage.
 */
import { UsageError } from '../../src/errors.js'
import { IntentClient, secp256k1Signer, signIntent, type IntentDraft, type IntentSigner } from '../../src/client/index.js'
import { parseLoadArgs, type LoadOptions } from './args.js'
import { emptyCounts, runIntent, type Failure } from './intent-client.js'

/** An intent's deadline, from its creation: far enough that a demo's drain and upgrade never expire it. */
const DEADLINE_SECS = 600

export async function main (argv: string[]): Promise<void> {
  let options: LoadOptions
  try {
    options = parseLoadArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`intent-gate-sandbox load: ${err.message}\n`)
    process.exitCode = 2
    return
  }
  process.exitCode = await run(options)
}

async function run (o: LoadOptions): Promise<number> {
  const signer = secp256k1Signer(globalThis.crypto.getRandomValues(new Uint8Array(32)))
  const client = new IntentClient({ url: o.target })
  // Every submission may wait out drains and upgrades for as long as the run may take to finish.
  const maxWaitMs = o.finishTimeoutSecs * 1000
  let nonce = 0
  const counts = emptyCounts()
  const failures: Failure[] = []
  const open = new Set<Promise<void>>()
  const startedAt = Date.now()
  const elapsed = (): number => Math.round((Date.now() - startedAt) / 100) / 10
  const line = (doc: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(doc) + '\n') }

  line({ type: 'start', target: o.target, rate: o.rate, version: o.version })
  const progress = setInterval(() => line({ type: 'progress', elapsed_s: elapsed(), ...counts }), o.progressMs)

  let stopSending!: () => void
  const stopped = new Promise<void>((resolve) => { stopSending = resolve })
  const state = { sending: true }
  const onSignal = (): void => { state.sending = false; stopSending() }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  const durationTimer = o.durationSecs === null ? null : setTimeout(onSignal, o.durationSecs * 1000)

  // Each tick is scheduled from the start time, so a slow tick does not lower the rate.
  const intervalMs = 1000 / o.rate
  const endAt = o.durationSecs === null ? Infinity : startedAt + o.durationSecs * 1000
  for (let i = 0; state.sending && Date.now() < endAt; i++) {
    const deadline = Math.floor(Date.now() / 1000) + DEADLINE_SECS
    const intent = await signIntent(signer, await draft(signer, o.version, ++nonce, deadline))
    const life = runIntent(JSON.stringify(intent), { client, pollMs: o.pollMs, maxWaitMs, counts, failures })
    open.add(life)
    life.then(() => open.delete(life), () => open.delete(life))
    const wait = Math.max(0, startedAt + (i + 1) * intervalMs - Date.now())
    await Promise.race([new Promise((resolve) => setTimeout(resolve, wait)), stopped])
  }
  if (durationTimer !== null) clearTimeout(durationTimer)

  let finishTimer: NodeJS.Timeout | undefined
  const finished = await Promise.race([
    Promise.all(open).then(() => true),
    new Promise<boolean>((resolve) => { finishTimer = setTimeout(() => resolve(false), o.finishTimeoutSecs * 1000) })
  ])
  clearTimeout(finishTimer)
  clearInterval(progress)
  line({ type: 'summary', elapsed_s: elapsed(), ...counts, failures, finished })
  // Intents still open after the finish timeout keep timers alive; the summary is out, so leave now.
  if (!finished) setImmediate(() => process.exit(1))
  return counts.failed === 0 && finished ? 0 : 1
}

/** One order of the steady traffic, in `version`: 1 uatom on the Hub for uosmo on Osmosis, to the signer. */
async function draft (signer: IntentSigner, version: '1.0' | '2.0', nonce: number, deadline: number): Promise<IntentDraft> {
  const recipient = (await signer.account()).address
  const input = { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' }
  const output = { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient }
  return version === '1.0'
    ? { version, input, output, deadline, nonce }
    : { version, origin_chain_id: input.chain_id, inputs: [input], outputs: [output], fill_deadline: deadline, nonce: String(nonce) }
}
