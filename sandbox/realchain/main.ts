/**
 * `intent-gate-sandbox realchain [--build]`: a real network for the demo, the same the real-network tests start
 * (network.ts): chains A and B (wasmd, 200 ms blocks, every listener on a free port of 127.0.0.1), the settlement
 * contract 1.0 instantiated on A with 2.0 stored beside it, and the Go relayer linking them with an ICS-20
 * channel, relaying from the start. Prints one JSON line with what a client needs once all of it runs, and tears
 * everything down (relayer, nodes, their temporary homes) on SIGTERM/SIGINT or when its parent goes away.
 *
 * Without `--build` it only looks for the binaries and contract builds in the cache (exit 3 naming the command
 * that builds them); `--build` builds what is missing (minutes on a cold machine). Exit 2 for bad usage.
 */
import { chainBinaries, NotBuiltError, settlementWasm } from './binaries.js'
import { INTENT_DENOM, startNetwork } from './network.js'
import { Teardowns } from './teardown.js'
import { DENOM, GAS_PRICE } from './wasmd.js'

const EXIT_NOT_BUILT = 3
/** How often the orphan check runs: a parent killed with SIGKILL cannot tell us, so we look. */
const PARENT_CHECK_MS = 1000

/** The genesis accounts on A a client may sign with (the settlers are one per sample service colour). */
const SHARED_ACCOUNTS = ['alice', 'settler-blue', 'settler-green']

export async function main (argv: string[]): Promise<void> {
  const unknown = argv.filter((arg) => arg !== '--build')
  if (unknown.length > 0) {
    process.stderr.write(`intent-gate-sandbox realchain: unknown option '${unknown[0] ?? ''}' (expected --build)\n`)
    process.exitCode = 2
    return
  }
  const build = argv.includes('--build')
  const teardowns = new Teardowns()
  let stopping: Promise<void> | null = null
  const stop = (code: number): Promise<void> => {
    stopping ??= teardowns.run().then(() => process.exit(code))
    return stopping
  }
  const stopNow = (): void => { stop(0).catch(() => {}) }
  process.once('SIGTERM', stopNow)
  process.once('SIGINT', stopNow)
  const parent = process.ppid
  setInterval(() => { if (process.ppid !== parent) stopNow() }, PARENT_CHECK_MS).unref()

  try {
    // Checked before anything starts, so a cold machine is told what to run instead of waiting on a build.
    await Promise.all([chainBinaries(build), settlementWasm(build)])
    const net = await startNetwork(teardowns)
    await net.relayer.start()
    const accounts = net.a.accounts.filter((a) => SHARED_ACCOUNTS.includes(a.name))
    process.stdout.write(JSON.stringify({
      rpc: net.a.rpc,
      chain_id: net.a.chainId,
      settlement_contract: net.contract,
      code_ids: { '1.0': net.codes['1.0'].code_id, '2.0': net.codes['2.0'].code_id },
      checksums: { '1.0': net.codes['1.0'].checksum, '2.0': net.codes['2.0'].checksum },
      admin_mnemonic: net.admin.mnemonic,
      admin_address: net.admin.address,
      gas_price: GAS_PRICE,
      denom: DENOM,
      intent_denom: INTENT_DENOM,
      ibc_channels: [net.relayer.channelA],
      counterparty: { rpc: net.b.rpc, chain_id: net.b.chainId, channel: net.relayer.channelB },
      relayer: 'rly (Go relayer v2)',
      accounts: accounts.map((a) => ({ name: a.name, mnemonic: a.mnemonic, address: a.address }))
    }) + '\n')
  } catch (err) {
    process.stderr.write(`intent-gate-sandbox realchain: ${err instanceof Error ? err.message : String(err)}\n`)
    await stop(err instanceof NotBuiltError ? EXIT_NOT_BUILT : 1)
  }
}
