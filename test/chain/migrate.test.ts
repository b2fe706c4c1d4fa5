// The settlement contract's migration end to end against the local chain, through the contract client (cosmjs):
// refusals decided before anything is sent (wrong checksum, unknown code, a signer that is not the admin: the
// signer's sequence does not move), the chain's own refusals (inflight settlements without preserve_inflight; a
// non-admin MsgMigrateContract sent anyway), and each stuck_settlement_action doing what docs/design.md says.
import t, { type Test } from 'tap'
import { CosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { createContractClient, type ContractClient, type Settlement } from '../../src/chain/contract-client.js'
import { ChainTxRefusedError, ChecksumMismatchError, CodeNotFoundError, NotContractAdminError } from '../../src/chain/errors.js'
import { captureLog } from '../ibc/helpers.js'
import { startChain, type LocalChain } from './chain-process.js'
import { accountClient } from './settlements.js'

const SIGNER_ENV = 'TEST_SIGNER_MNEMONIC'
// Every case starts a chain of its own and waits for its blocks: about 10 s a case on a quiet machine, 25-30 s on a
// busy one (CI's run with two CPU-bound processes beside it took 210 s), over tap's 180 s for a file.
t.setTimeout(600_000)

interface Setup {
  chain: LocalChain
  client: ContractClient
  reader: CosmWasmClient
  lines: () => Array<Record<string, unknown>>
}

async function setup (t: Test, signer = 'admin'): Promise<Setup> {
  const chain = await startChain(t, { blockMs: 50, ackDelayMs: 600_000 })
  const { logger, lines } = captureLog()
  const client = createContractClient({
    chain: {
      enabled: true,
      rpc_url: chain.rpc,
      chain_id: chain.info.chain_id,
      settlement_contract: chain.info.settlement_contract,
      signer_mnemonic_env: SIGNER_ENV,
      gas_price: chain.info.gas_price
    },
    logger,
    env: { [SIGNER_ENV]: chain.mnemonic(signer) },
    broadcastPollIntervalMs: 100
  })
  t.teardown(() => client.close())
  const reader = await CosmWasmClient.connect(chain.rpc)
  t.teardown(() => reader.disconnect())
  return { chain, client, reader, lines }
}

async function withInflight (t: Test, s: Setup, ids: string[]): Promise<Settlement[]> {
  const alice = await accountClient(t, s.chain, 'alice')
  await alice.createSettlements(ids)
  const inflight = await s.client.inflightSettlements()
  t.same(inflight.map((x) => x.id).sort(), [...ids].sort(), 'the settlements are inflight')
  return inflight
}

const sequenceOf = async (s: Setup, name: string): Promise<number> => (await s.reader.getSequence(s.chain.address(name))).sequence

t.test('a wrong checksum or an unknown code is refused before any transaction', async (t) => {
  const s = await setup(t)
  const before = await sequenceOf(s, 'admin')
  const wrong = s.chain.info.checksums['1.0'] as string
  const err = await s.client.migrate(2, wrong, { new_version: '2.0' }).catch((e: unknown) => e)
  t.ok(err instanceof ChecksumMismatchError, 'ChecksumMismatchError')
  t.match(err, { code: 'IG_ERR_CODE_CHECKSUM_MISMATCH', expected: wrong, actual: s.chain.info.checksums['2.0'] })
  await t.rejects(s.client.migrate(99, wrong, { new_version: '2.0' }), CodeNotFoundError)
  t.equal(await sequenceOf(s, 'admin'), before, 'the signer\'s sequence did not move: nothing was sent')
  t.same(await s.client.contractVersion(), { contract: 'crates.io:intent-settlement', version: '1.0' })
  t.equal((await s.client.contractState()).codeId, 1)
  t.equal(await s.client.codeChecksum(2), s.chain.info.checksums['2.0'], 'the code\'s checksum as the chain reports it')
})

t.test('a signer that is not the admin is refused by the client, and by the chain when sent anyway', async (t) => {
  const s = await setup(t, 'alice')
  const before = await sequenceOf(s, 'alice')
  const err = await s.client.migrate(2, s.chain.info.checksums['2.0'] as string, { new_version: '2.0' }).catch((e: unknown) => e)
  t.ok(err instanceof NotContractAdminError, 'NotContractAdminError')
  t.match(err, { code: 'IG_ERR_NOT_CONTRACT_ADMIN', signer: s.chain.address('alice'), admin: s.chain.info.admin_address })
  t.equal(await sequenceOf(s, 'alice'), before, 'nothing was sent')

  // The same migration sent directly through cosmjs, with a fixed fee so no simulation stops it first.
  const alice = await accountClient(t, s.chain, 'alice')
  await t.rejects(
    alice.client.migrate(alice.address, s.chain.info.settlement_contract, 2, { new_version: '2.0' }, { amount: [{ denom: 'ustake', amount: '25000' }], gas: '1000000' }),
    /can not migrate: unauthorized/
  )
  t.equal((await s.client.contractState()).codeId, 1, 'the contract was not migrated')
})

t.test('with inflight settlements and preserve_inflight false the chain refuses', async (t) => {
  const s = await setup(t)
  await withInflight(t, s, ['p-1', 'p-2'])
  const before = await sequenceOf(s, 'admin')
  const err = await s.client.migrate(2, s.chain.info.checksums['2.0'] as string, {
    new_version: '2.0', config: { preserve_inflight: false, stuck_settlement_action: 'preserve' }
  }).catch((e: unknown) => e)
  t.ok(err instanceof ChainTxRefusedError, 'ChainTxRefusedError')
  t.match(err, { stage: 'simulate', chainMessage: /Cannot migrate: 2 inflight settlements exist/ })
  t.equal(await sequenceOf(s, 'admin'), before, 'refused in simulation: nothing was sent')
  t.same(await s.client.contractVersion(), { contract: 'crates.io:intent-settlement', version: '1.0' })
})

t.test('preserve_inflight true with preserve: settlements survive unchanged, the version is new, the events carry the design\'s attributes', async (t) => {
  const s = await setup(t)
  const inflight = await withInflight(t, s, ['keep-1', 'keep-2'])
  const result = await s.client.migrate(2, s.chain.info.checksums['2.0'] as string, {
    new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve' }
  })
  t.match(result, { codeId: 2, transactionHash: /^[0-9A-F]{64}$/, height: Number })
  const sent = TxBody.decode(TxRaw.decode((await s.reader.getTx(result.transactionHash))?.tx ?? new Uint8Array()).bodyBytes)
  t.equal(Number(sent.timeoutHeight), result.timeoutHeight, 'the tx carries its timeout_height')
  t.ok(result.timeoutHeight >= result.height && result.timeoutHeight <= result.height + 20, 'the chain\'s height + tx_timeout_blocks (20) when it was signed')
  t.same(result.attributes, { action: 'migrate', from_version: '1.0', to_version: '2.0', preserved_inflight: '2', stuck_settlement_action: 'preserve', affected_settlements: '0' })
  t.ok(result.events.some((e) => e.type === 'migrate' && e.attributes.some((a) => a.key === 'code_id' && a.value === '2')), 'the wasm module\'s migrate event names the code')
  t.same(await s.client.inflightSettlements(), inflight, 'inflight settlements are exactly as before')
  t.same(await s.client.contractVersion(), { contract: 'crates.io:intent-settlement', version: '2.0' })
  t.equal((await s.client.contractState()).codeId, 2)
  const mnemonic = s.chain.mnemonic('admin')
  t.notOk(s.lines().some((l) => JSON.stringify(l).includes(mnemonic.split(' ').slice(0, 3).join(' '))), 'the mnemonic never reaches a log line')
  t.ok(s.lines().some((l) => l.msg === 'contract migrated'), 'the migration is logged')
})

t.test('refund_and_cancel: every inflight settlement is cancelled', async (t) => {
  const s = await setup(t)
  await withInflight(t, s, ['r-1', 'r-2', 'r-3'])
  const result = await s.client.migrate(2, s.chain.info.checksums['2.0'] as string, {
    new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'refund_and_cancel' }
  })
  t.match(result.attributes, { preserved_inflight: '3', stuck_settlement_action: 'refund_and_cancel', affected_settlements: '3' })
  t.same(await s.client.inflightSettlements(), [], 'nothing is inflight any more')
  for (const id of ['r-1', 'r-2', 'r-3']) {
    const settlement = await s.reader.queryContractSmart(s.chain.info.settlement_contract, { settlement: { id } })
    t.equal(settlement.phase, 'cancelled', `${id} is cancelled`)
  }
})

t.test('extend_timeout: every inflight settlement gets the additional seconds and stays inflight', async (t) => {
  const s = await setup(t)
  const before = await withInflight(t, s, ['e-1', 'e-2'])
  const result = await s.client.migrate(2, s.chain.info.checksums['2.0'] as string, {
    new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: { extend_timeout: { additional_seconds: 900 } } }
  })
  t.match(result.attributes, { stuck_settlement_action: 'extend_timeout', affected_settlements: '2' })
  const after = await s.client.inflightSettlements()
  t.same(after.map((x) => [x.id, x.timeout, x.phase]), before.map((x) => [x.id, x.timeout + 900, x.phase]))
})

t.test('extendTimeout extends inflight settlements in batched transactions', async (t) => {
  const s = await setup(t)
  const before = await withInflight(t, s, ['x-1', 'x-2', 'x-3'])
  const one = await s.client.extendTimeout(['x-1', 'x-2', 'x-3'], 120)
  t.equal(one.transactions.length, 1, 'three settlements, one transaction')
  t.same(one.extended, ['x-1', 'x-2', 'x-3'])
  const batched = createContractClient({
    chain: { enabled: true, rpc_url: s.chain.rpc, chain_id: 'intent-local-1', settlement_contract: s.chain.info.settlement_contract, signer_mnemonic_env: SIGNER_ENV, gas_price: '0.025ustake' },
    logger: captureLog().logger,
    env: { [SIGNER_ENV]: s.chain.mnemonic('admin') },
    extendBatchSize: 2,
    broadcastPollIntervalMs: 100
  })
  t.teardown(() => batched.close())
  const two = await batched.extendTimeout(['x-1', 'x-2', 'x-3'], 30)
  t.equal(two.transactions.length, 2, 'batches of two: two transactions')
  const after = await s.client.inflightSettlements()
  t.same(after.map((x) => [x.id, x.timeout]), before.map((x) => [x.id, x.timeout + 150]))
  await t.rejects(s.client.extendTimeout(['no-such-settlement'], 10), { code: 'IG_ERR_CHAIN_TX_REFUSED', stage: 'simulate', chainMessage: /not found: no-such-settlement/ })
})
