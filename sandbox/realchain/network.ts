/**
 * The real network of the IBC tests: chains A and B (wasmd), the Go relayer linking them with an ICS-20 channel
 * (not relaying until the test starts it), and the settlement contract 1.0 on A with 2.0 stored beside it.
 * ICS-20 transfers from A are what the gateway's watcher must see pending while the relayer is stopped.
 */
import { readFile } from 'node:fs/promises'
import { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { sha256 } from '@cosmjs/crypto'
import { toHex } from '@cosmjs/encoding'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { GasPrice } from '@cosmjs/stargate'
import { MsgTransfer } from 'cosmjs-types/ibc/applications/transfer/v1/tx'
import { settlementWasm } from './binaries.js'
import { linkChains, type Relayer } from './relayer.js'
import { DENOM, GAS_PRICE, GENESIS_BALANCE, PREFIX, startWasmd, type ChainAccount, type WasmdChain } from './wasmd.js'
import type { Teardown } from './teardown.js'

/** The sample intents' output denom: what the chain-settling services escrow in the contract. */
export const INTENT_DENOM = 'uosmo'

export interface Code { code_id: number, checksum: string }

export interface Network {
  a: WasmdChain
  b: WasmdChain
  relayer: Relayer
  /** The settlement contract on A (code 1.0, admin = A's `admin`). */
  contract: string
  codes: { '1.0': Code, '2.0': Code }
  admin: ChainAccount
  /** A signing client on A for `name`. */
  signer (name: string): Promise<{ client: SigningCosmWasmClient, address: string }>
  /** `count` ICS-20 transfers from alice on A to bob on B, in one tx; returns their sequences. */
  transfer (count: number): Promise<number[]>
}

export async function startNetwork (t: Teardown): Promise<Network> {
  const [files, a, b] = await Promise.all([
    settlementWasm(),
    startWasmd(t, { chainId: 'real-a-1', accounts: ['admin', 'alice', 'relayer', 'settler-blue', 'settler-green'], extraCoins: `${GENESIS_BALANCE}${INTENT_DENOM}` }),
    startWasmd(t, { chainId: 'real-b-1', accounts: ['bob', 'relayer'] })
  ])
  const signer = async (name: string): Promise<{ client: SigningCosmWasmClient, address: string }> => {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(a.account(name).mnemonic, { prefix: PREFIX })
    const [{ address } = { address: '' }] = await wallet.getAccounts()
    const client = await SigningCosmWasmClient.connectWithSigner(a.rpc, wallet, {
      gasPrice: GasPrice.fromString(GAS_PRICE),
      broadcastPollIntervalMs: 100
    })
    t.teardown(() => client.disconnect())
    return { client, address }
  }
  const admin = await signer('admin')
  const codes = {} as Network['codes']
  for (const version of ['1.0', '2.0'] as const) {
    const bytes = await readFile(files[version])
    const stored = await admin.client.upload(admin.address, bytes, 'auto')
    codes[version] = { code_id: stored.codeId, checksum: stored.checksum }
    if (stored.checksum !== toHex(sha256(bytes))) throw new Error(`code ${version}: the chain's checksum ${stored.checksum} is not the file's`)
  }
  const [relayer, { contractAddress }] = await Promise.all([
    linkChains(t, a, b, a.account('relayer'), b.account('relayer')),
    admin.client.instantiate(admin.address, codes['1.0'].code_id, { ibc_channel: 'channel-0' }, 'intent-settlement', 'auto', { admin: admin.address })
  ])
  const alice = await signer('alice')
  const bob = b.account('bob').address
  return {
    a,
    b,
    relayer,
    contract: contractAddress,
    codes,
    admin: a.account('admin'),
    signer,
    transfer: async (count) => {
      const timeoutNs = BigInt(Date.now() + 3_600_000) * 1_000_000n
      const messages = Array.from({ length: count }, () => ({
        typeUrl: '/ibc.applications.transfer.v1.MsgTransfer',
        value: MsgTransfer.fromPartial({ sourcePort: 'transfer', sourceChannel: relayer.channelA, token: { denom: DENOM, amount: '7' }, sender: alice.address, receiver: bob, timeoutTimestamp: timeoutNs })
      }))
      const result = await alice.client.signAndBroadcast(alice.address, messages, 'auto')
      if (result.code !== 0) throw new Error(`the transfers failed: ${result.rawLog ?? ''}`)
      return result.events.filter((e) => e.type === 'send_packet').map((e) => Number(e.attributes.find((x) => x.key === 'packet_sequence')?.value))
    }
  }
}
