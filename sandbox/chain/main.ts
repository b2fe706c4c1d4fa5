/**
 * `intent-gate-sandbox chain`: starts the local chain (a test and demo tool, not a real node), prints one
 * JSON line with everything a client needs once it listens, and stops cleanly on SIGTERM/SIGINT.
 */
import { parseChainArgs, UsageError } from './args.js'
import { ACCOUNT_NAMES, artifactFor, checksumOf, CODE_IDS, DENOM, ESCROW_CODE_IDS, ESCROW_CONTRACT, escrowArtifactFor, GAS_PRICE, genesisKeys, genesisState, SETTLEMENT_CONTRACT } from './genesis.js'
import { ChainNode } from './node.js'
import { ChainServer } from './server.js'
import { StateFile } from './state.js'

export async function main (argv: string[]): Promise<void> {
  let args
  try {
    args = parseChainArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`intent-gate-sandbox chain: ${error.message}\n`)
    process.exitCode = 2
    return
  }
  const keys = await genesisKeys()
  const stateFile = args.stateFile === undefined ? undefined : new StateFile(args.stateFile)
  let state
  try {
    state = stateFile?.load() ?? genesisState(keys, Date.now())
  } catch (error) {
    process.stderr.write(`intent-gate-sandbox chain: cannot read --state ${args.stateFile ?? ''}: ${(error as Error).message}\n`)
    process.exitCode = 2
    return
  }
  if (args.ackDelayMs !== undefined) state.relayer.ackDelayMs = args.ackDelayMs
  const node = new ChainNode(state, { blockMs: args.blockMs, stateFile, relayerKey: keys.relayer })
  node.start()

  let info: Record<string, unknown> = {}
  const server = new ChainServer({ node, info: () => info })
  let rpc: string
  try {
    rpc = await server.listen(args.host, args.port)
  } catch (error) {
    node.stop()
    process.stderr.write(`intent-gate-sandbox chain: cannot listen on --listen ${args.host}:${args.port}: ${(error as Error).message}\n`)
    process.exitCode = 1
    return
  }
  info = {
    rpc,
    websocket: `${rpc.replace(/^http/, 'ws')}/websocket`,
    chain_id: state.chainId,
    settlement_contract: SETTLEMENT_CONTRACT,
    code_ids: { ...CODE_IDS },
    checksums: Object.fromEntries(Object.keys(CODE_IDS).map(version => [version, checksumOf(artifactFor(version))])),
    escrow_contract: ESCROW_CONTRACT,
    escrow_code_ids: { ...ESCROW_CODE_IDS },
    escrow_checksums: Object.fromEntries(Object.keys(ESCROW_CODE_IDS).map(version => [version, checksumOf(escrowArtifactFor(version))])),
    admin_mnemonic: keys.admin.mnemonic,
    admin_address: keys.admin.address,
    gas_price: GAS_PRICE,
    denom: DENOM,
    ibc_channels: Object.values(state.app.channels).map(channel => channel.channelId),
    ibc: Object.values(state.app.channels).map(channel => ({
      port_id: channel.portId,
      channel_id: channel.channelId,
      counterparty_port_id: channel.counterpartyPortId,
      counterparty_channel_id: channel.counterpartyChannelId,
      connection_id: channel.connectionId
    })),
    relayer_address: keys.relayer.address,
    accounts: ACCOUNT_NAMES.map(name => ({ name, mnemonic: keys[name].mnemonic, address: keys[name].address })),
    height: node.latest.height
  }
  process.stdout.write(`${JSON.stringify(info)}\n`)

  const shutdown = (): void => {
    node.stop()
    server.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}
