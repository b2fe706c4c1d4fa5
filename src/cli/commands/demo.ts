/**
 * `intent-gate demo [--quick] [--no-upgrade] [--rate N]`: the whole system on this machine (sample services, the
 * gateway on the embedded store, the local chain), a drain and an upgrade under live traffic, narrated; exit 0
 * when everything behaved. The orchestration lives in src/demo.
 */
import type { Command } from 'commander'
import { UsageError } from '../../errors.js'
import { positiveInteger } from '../control.js'

/** One machine runs every part; beyond this the demo would measure the machine, not the gateway. */
const MAX_RATE = 500

export function registerDemoCommand (program: Command): void {
  program.command('demo')
    .description('the whole system on this machine: sample services, local chain, a drain and an upgrade under live traffic')
    .option('--quick', 'shorter stages (about 40 s in all; 10 s with --no-upgrade)')
    .option('--no-upgrade', 'skip the local chain and the upgrade stage (sample service, gateway, traffic and a drain only)')
    .option('--rate <n>', 'new intents per second', positiveInteger('--rate'), 20)
    .option('--broken-green', 'stage 4: green fails every intent once it serves; the verifying phase rolls the upgrade back')
    .action(async (opts: { quick?: boolean, upgrade: boolean, rate: number, brokenGreen?: boolean }) => {
      if (opts.brokenGreen === true && !opts.upgrade) throw new UsageError('--broken-green needs the upgrade stage (drop --no-upgrade)')
      if (opts.rate > MAX_RATE) throw new UsageError(`--rate must be at most ${MAX_RATE} intents a second (got ${opts.rate})`)
      // Loaded here, not at the top: other commands should not pay for loading the demo.
      const { runDemo } = await import('../../demo/run.js')
      const code = await runDemo({ quick: opts.quick === true, withUpgrade: opts.upgrade, rate: opts.rate, brokenGreen: opts.brokenGreen === true })
      // The exit status is decided; nothing the demo started is left to wait for.
      process.exit(code)
    })
}
