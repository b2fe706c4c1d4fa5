/**
 * `intent-gate demo [--quick] [--no-upgrade] [--rate N] [--broken-green] [--chain sandbox|wasmd]`: the whole
 * system on this machine (sample services, the gateway on the embedded store, the sandbox chain or two real wasmd
 * chains with the Go relayer), a drain and an upgrade under live traffic, narrated; exit 0
 * when everything behaved. The orchestration lives in src/demo.
 */
import type { Command } from 'commander'
import { UsageError } from '../../errors.js'
import { positiveInteger } from '../control.js'

/** One machine runs every part; beyond this the demo would measure the machine, not the gateway. */
const MAX_RATE = 500
const DEFAULT_RATE = 20
/**
 * On two real chains every intent is two settlement transactions and an IBC packet the Go relayer must carry both
 * ways: at 20 a second on a shared 2-core machine it fell behind (1,700 packets unacknowledged), at 5 it keeps up.
 */
const DEFAULT_RATE_WASMD = 5

export function registerDemoCommand (program: Command): void {
  program.command('demo')
    .description('the whole system on this machine: sample services, local chain, a drain and an upgrade under live traffic')
    .option('--quick', 'shorter stages (about 40 s in all; 10 s with --no-upgrade)')
    .option('--no-upgrade', 'skip the local chain and the upgrade stage (sample service, gateway, traffic and a drain only)')
    .option('--rate <n>', `new intents per second (default ${DEFAULT_RATE}; ${DEFAULT_RATE_WASMD} with --chain wasmd)`, positiveInteger('--rate'))
    .option('--broken-green', 'stage 4: green fails every intent once it serves; the verifying phase rolls the upgrade back')
    .option('--chain <kind>', 'the chain of stage 4: sandbox (the local stand-in) or wasmd (two real wasmd chains and the Go relayer; `npm run chain:build` first)', 'sandbox')
    .action(async (opts: { quick?: boolean, upgrade: boolean, rate?: number, brokenGreen?: boolean, chain: string }) => {
      if (opts.brokenGreen === true && !opts.upgrade) throw new UsageError('--broken-green needs the upgrade stage (drop --no-upgrade)')
      if (opts.chain !== 'sandbox' && opts.chain !== 'wasmd') throw new UsageError(`--chain must be sandbox or wasmd (got '${opts.chain}')`)
      if (opts.chain === 'wasmd' && !opts.upgrade) throw new UsageError('--chain wasmd needs the upgrade stage (drop --no-upgrade): the chain is used only there')
      const rate = opts.rate ?? (opts.chain === 'wasmd' ? DEFAULT_RATE_WASMD : DEFAULT_RATE)
      if (rate > MAX_RATE) throw new UsageError(`--rate must be at most ${MAX_RATE} intents a second (got ${rate})`)
      // Loaded here, not at the top: other commands should not pay for loading the demo.
      const { runDemo } = await import('../../demo/run.js')
      const code = await runDemo({
        quick: opts.quick === true,
        withUpgrade: opts.upgrade,
        rate,
        brokenGreen: opts.brokenGreen === true,
        chain: opts.chain
      })
      // The exit status is decided; nothing the demo started is left to wait for.
      process.exit(code)
    })
}
