/**
 * The local chain refuses what a real chain refuses at CheckTx, and cosmjs surfaces it the same way: a tx
 * signed by another key (code 4), for another chain id (code 4), with a wrong sequence (code 32), with too
 * small a fee (code 13); nothing of a refused tx changes the account. Correct txs pass, in SIGN_MODE_DIRECT
 * and in amino JSON, and one account's consecutive txs fit in one block. Gas is charged: out of gas fails the
 * tx in delivery (code 11) but keeps the fee and sequence; MsgSend moves coins and creates the recipient.
 * Refusals go through broadcastTxSync: cosmjs's broadcastTx leaves its 60 s poll timer running when the
 * broadcast itself is refused, which would hold the test process open.
 */
import t from 'tap'
import { Secp256k1HdWallet } from '@cosmjs/amino'
import { toBech32, toUtf8 } from '@cosmjs/encoding'
import { DirectSecp256k1HdWallet, type OfflineDirectSigner } from '@cosmjs/proto-signing'
import { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { FEE, createSettlementMsg, mnemonicOf, signingClient, startChain } from './chain-harness.js'

t.test('CheckTx refuses bad signatures, sequences and fees as a Cosmos SDK chain does', async (t) => {
  const chain = await startChain(t, ['--block-ms', '100'])
  const { info } = chain
  const alice = await DirectSecp256k1HdWallet.fromMnemonic(mnemonicOf(info, 'alice'), { prefix: 'wasm' })
  const bob = await DirectSecp256k1HdWallet.fromMnemonic(mnemonicOf(info, 'bob'), { prefix: 'wasm' })
  const [aliceAccount] = await alice.getAccounts()
  const [bobAccount] = await bob.getAccounts()
  const aliceAddress = aliceAccount!.address

  // claims to be alice (her address and public key) but signs with bob's key
  const impostor: OfflineDirectSigner = {
    getAccounts: async () => [aliceAccount!],
    signDirect: async (_address, signDoc) => await bob.signDirect(bobAccount!.address, signDoc)
  }
  const impostorClient = await SigningCosmWasmClient.connectWithSigner(info.rpc, impostor, { broadcastPollIntervalMs: 50 })
  chain.track(() => impostorClient.disconnect())
  const msg = { typeUrl: '/cosmwasm.wasm.v1.MsgExecuteContract', value: { sender: aliceAddress, contract: info.settlement_contract, msg: toUtf8(JSON.stringify(createSettlementMsg('auth-1', aliceAddress))), funds: [] } }
  await t.rejects(impostorClient.signAndBroadcastSync(aliceAddress, [msg], FEE),
    /failed with code 4 \(codespace: sdk\)\. Log: signature verification failed; please verify account number \(2\) and chain-id \(intent-local-1\): \(unable to verify single signer signature\): unauthorized/,
    'another key: code 4 unauthorized')

  const { client } = await signingClient(chain, mnemonicOf(info, 'alice'))
  const sign = async (overrides: { sequence?: number, chainId?: string, fee?: typeof FEE }): Promise<Uint8Array> => {
    const raw = await client.sign(aliceAddress, [msg], overrides.fee ?? FEE, '', { accountNumber: 2, sequence: overrides.sequence ?? 0, chainId: overrides.chainId ?? info.chain_id })
    return TxRaw.encode(raw).finish()
  }
  await t.rejects(client.broadcastTxSync(await sign({ sequence: 7 })), /failed with code 32 \(codespace: sdk\)\. Log: account sequence mismatch, expected 0, got 7: incorrect account sequence/, 'wrong sequence: code 32')
  await t.rejects(client.broadcastTxSync(await sign({ chainId: 'other-chain-1' })), /failed with code 4 .*signature verification failed/, 'signed for another chain: code 4')
  await t.rejects(client.broadcastTxSync(await sign({ fee: { amount: [{ denom: 'ustake', amount: '10' }], gas: '600000' } })), /failed with code 13 \(codespace: sdk\)\. Log: insufficient fees; got: 10ustake required: 15000ustake: insufficient fee/, 'fee below the gas price: code 13')
  t.match(await client.getAccount(aliceAddress), { sequence: 0 }, 'refused txs leave the sequence alone')

  // two txs of one account in the same block: the mempool's view of the sequence moves on
  const first = await client.broadcastTxSync(await sign({ sequence: 0 }))
  const secondMsg = { ...msg, value: { ...msg.value, msg: toUtf8(JSON.stringify(createSettlementMsg('auth-2', aliceAddress))) } }
  const second = await client.broadcastTxSync(TxRaw.encode(await client.sign(aliceAddress, [secondMsg], FEE, '', { accountNumber: 2, sequence: 1, chainId: info.chain_id })).finish())
  const delivered = await client.broadcastTx(TxRaw.encode(await client.sign(aliceAddress, [{ ...msg, value: { ...msg.value, msg: toUtf8(JSON.stringify({ complete_settlement: { id: 'auth-1' } })) } }], FEE, '', { accountNumber: 2, sequence: 2, chainId: info.chain_id })).finish(), 10_000, 50)
  t.equal(delivered.code, 0)
  t.equal((await client.getTx(first))?.code, 0)
  t.equal((await client.getTx(second))?.code, 0)
  t.match(await client.getAccount(aliceAddress), { sequence: 3 })

  // legacy amino JSON signing (what a Ledger uses) is accepted too
  const aminoWallet = await Secp256k1HdWallet.fromMnemonic(mnemonicOf(info, 'carol'), { prefix: 'wasm' })
  const [carol] = await aminoWallet.getAccounts()
  const aminoClient = await SigningCosmWasmClient.connectWithSigner(info.rpc, aminoWallet, { broadcastPollIntervalMs: 50 })
  chain.track(() => aminoClient.disconnect())
  const result = await aminoClient.execute(carol!.address, info.settlement_contract, createSettlementMsg('auth-amino', carol!.address), FEE)
  t.ok(result.events.some(event => event.type === 'send_packet'), 'an amino-signed execute is delivered')
})

t.test('gas is charged: out of gas fails the tx but keeps fee and sequence; MsgSend funds a new account', async (t) => {
  const chain = await startChain(t, ['--block-ms', '100'])
  const { info } = chain
  const { client, address } = await signingClient(chain, mnemonicOf(info, 'bob'))
  const before = BigInt((await client.getBalance(address, 'ustake')).amount)

  const lowGas = { amount: [{ denom: 'ustake', amount: '1000' }], gas: '40000' }
  const msg = { typeUrl: '/cosmwasm.wasm.v1.MsgExecuteContract', value: { sender: address, contract: info.settlement_contract, msg: toUtf8(JSON.stringify(createSettlementMsg('gas-1', address))), funds: [] } }
  const outOfGas = await client.signAndBroadcast(address, [msg], lowGas)
  t.equal(outOfGas.code, 11)
  t.match(outOfGas.rawLog, /^out of gas in location: wasm contract; gasWanted: 40000, gasUsed: \d+: out of gas$/)
  t.match(await client.getAccount(address), { sequence: 1 }, 'the sequence is used')
  t.equal(BigInt((await client.getBalance(address, 'ustake')).amount), before - 1000n, 'the fee is taken')
  await t.rejects(client.queryContractSmart(info.settlement_contract, { settlement: { id: 'gas-1' } }), /Settlement not found: gas-1/, 'the message had no effect')

  const fresh = toBech32('wasm', new Uint8Array(20).fill(9))
  const sent = await client.sendTokens(address, fresh, [{ denom: 'ustake', amount: '12345' }], FEE)
  t.equal(sent.code, 0)
  t.same(await client.getBalance(fresh, 'ustake'), { denom: 'ustake', amount: '12345' })
  t.match(await client.getAccount(fresh), { address: fresh, sequence: 0 }, 'the recipient account exists now')
  t.equal(BigInt((await client.getBalance(address, 'ustake')).amount), before - 1000n - 12345n - BigInt(FEE.amount[0]!.amount))
})
