/**
 * `--chain wasmd`: what the real network itself says at the end, read from the chains (not from the gateway or the
 * sample services): the packets chain B received and acknowledged on the ICS-20 channel, the commitments chain A
 * still holds (a packet not yet acknowledged back), and the settlement contract's code and cw2 version on A.
 */
import { CosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { fromUtf8, toUtf8 } from '@cosmjs/encoding'
import { QueryClient, setupIbcExtension } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import type { ChainInfo } from './gateway-config.js'

const PORT = 'transfer'

export interface RealNetworkFigures {
  /** Acknowledgements chain B wrote on its end of the channel: one per packet it received. */
  received: number
  /** Packet commitments left on chain A: packets whose acknowledgement has not come back yet. */
  unacknowledged: number
  codeId: number
  /** The contract's cw2 record (`contract_info`), e.g. `{contract: 'crates.io:intent-settlement', version: '2.0'}`. */
  cw2: { contract: string, version: string } | null
}

export async function realNetworkFigures (chain: ChainInfo): Promise<RealNetworkFigures> {
  const counterparty = chain.counterparty
  if (counterparty === undefined) throw new Error('the chain description names no counterparty chain')
  const channelA = chain.ibc_channels[0] ?? 'channel-0'
  const [received, unacknowledged] = await Promise.all([
    withIbc(counterparty.rpc, async (ibc) => (await ibc.allPacketAcknowledgements(PORT, counterparty.channel)).acknowledgements.length),
    withIbc(chain.rpc, async (ibc) => (await ibc.allPacketCommitments(PORT, channelA)).commitments.length)
  ])
  const wasm = await CosmWasmClient.connect(chain.rpc)
  try {
    const { codeId } = await wasm.getContract(chain.settlement_contract)
    const raw = await wasm.queryContractRaw(chain.settlement_contract, toUtf8('contract_info'))
    const cw2 = raw === null ? null : JSON.parse(fromUtf8(raw)) as { contract: string, version: string }
    return { received, unacknowledged, codeId, cw2 }
  } finally {
    wasm.disconnect()
  }
}

type ChannelQueries = ReturnType<typeof setupIbcExtension>['ibc']['channel']

async function withIbc<T> (rpc: string, f: (ibc: ChannelQueries) => Promise<T>): Promise<T> {
  const comet = await Comet38Client.connect(rpc)
  try {
    return await f(QueryClient.withExtensions(comet, setupIbcExtension).ibc.channel)
  } finally {
    comet.disconnect()
  }
}
