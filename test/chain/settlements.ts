/**
 * Test-side chain clients, through cosmjs only: a signing client for a genesis account with an explicit fee
 * (see docs/sandbox-chain.md on cosmjs packaging), settlement creation (each one sends an IBC packet), and the
 * chain's own view of a channel's packet commitments with the height they were read at.
 */
import { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { toUtf8 } from '@cosmjs/encoding'
import { DirectSecp256k1HdWallet, type EncodeObject } from '@cosmjs/proto-signing'
import { calculateFee, GasPrice, QueryClient } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { MsgExecuteContract } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import { QueryPacketCommitmentsRequest, QueryPacketCommitmentsResponse } from 'cosmjs-types/ibc/core/channel/v1/query'
import type { LocalChain } from './chain-process.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface TxResult {
  height: number
  transactionHash: string
  /** The packets the tx sent, as `channel/sequence`, read from its own send_packet events. */
  packets: string[]
}

export interface Account {
  address: string
  client: SigningCosmWasmClient
  /** Signs and broadcasts, waiting for inclusion; throws when the tx fails. */
  send (messages: EncodeObject[]): Promise<TxResult>
  /** Creates settlements in ONE tx (one execute message each); each sends one packet (`channel/sequence`s returned). */
  createSettlements (ids: string[], timeoutSecs?: number): Promise<TxResult>
}

export async function accountClient (t: Teardown, chain: LocalChain, name: string): Promise<Account> {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic(name), { prefix: 'wasm' })
  const [{ address } = { address: '' }] = await wallet.getAccounts()
  const client = await SigningCosmWasmClient.connectWithSigner(chain.rpc, wallet, { broadcastPollIntervalMs: 50 })
  t.teardown(() => client.disconnect())
  const send = async (messages: EncodeObject[]): Promise<TxResult> => {
    const gas = await client.simulate(address, messages, undefined)
    const fee = calculateFee(Math.ceil(gas * 1.3), GasPrice.fromString(chain.info.gas_price))
    const result = await client.signAndBroadcast(address, messages, fee)
    if (result.code !== 0) throw new Error(`tx failed (${result.code}): ${result.rawLog ?? ''}`)
    const packets = result.events.filter((e) => e.type === 'send_packet').map((e) => {
      const attr = (key: string): string => e.attributes.find((a) => a.key === key)?.value ?? '?'
      return `${attr('packet_src_channel')}/${attr('packet_sequence')}`
    })
    return { height: result.height, transactionHash: result.transactionHash, packets }
  }
  return {
    address,
    client,
    send,
    createSettlements: async (ids, timeoutSecs = 3600) => {
      const deadline = Math.floor(Date.now() / 1000) + timeoutSecs
      return await send(ids.map((id) => ({
        typeUrl: '/cosmwasm.wasm.v1.MsgExecuteContract',
        value: MsgExecuteContract.fromPartial({
          sender: address,
          contract: chain.info.settlement_contract,
          msg: toUtf8(JSON.stringify({ create_settlement: { id, user: address, amount: '1000', denom: chain.info.denom, timeout: deadline } })),
          funds: []
        })
      })))
    }
  }
}

/** The chain's packet commitments on a channel, with the height the query answered at. */
export async function chainCommitments (
  t: Teardown,
  chain: LocalChain
): Promise<(port: string, channel: string) => Promise<{ height: number, sequences: number[] }>> {
  const comet = await Comet38Client.connect(chain.rpc)
  t.teardown(() => comet.disconnect())
  const queries = QueryClient.withExtensions(comet)
  return async (port, channel) => {
    const query = QueryPacketCommitmentsRequest.fromPartial({ portId: port, channelId: channel, pagination: { limit: 1000n } })
    const request = QueryPacketCommitmentsRequest.encode(query).finish()
    const { value, height } = await queries.queryAbci('/ibc.core.channel.v1.Query/PacketCommitments', request)
    return { height, sequences: QueryPacketCommitmentsResponse.decode(value).commitments.map((c) => Number(c.sequence)) }
  }
}
