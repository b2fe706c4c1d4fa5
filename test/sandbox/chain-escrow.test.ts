// The local chain's second contract and its code handling, through cosmjs: the escrow contract locks, releases and
// refunds coins; both contracts keep cw2's contract_info; MsgStoreCode stores any WebAssembly module (checksum =
// SHA-256 of its bytes) and refuses anything else; a migrate refuses a downgrade or another contract's code the way
// cw2's ensure_from_older_version does (unless the code is a rollback build); a simulated forward-and-back migration
// shows that in advance; a tx past its timeout_height is refused; an injected fault fails a delivered migration.
import t, { type Test } from 'tap'
import { sha256 } from '@cosmjs/crypto'
import { fromUtf8, toHex, toUtf8 } from '@cosmjs/encoding'
import { calculateFee, GasPrice } from '@cosmjs/stargate'
import { MsgExecuteContract, MsgMigrateContract } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import { startChain, type LocalChain } from '../chain/chain-process.js'
import { accountClient, type Account } from '../chain/settlements.js'
import { wasmModule } from '../chain/wasm-module.js'

const FEE = calculateFee(600_000, GasPrice.fromString('0.025ustake'))

async function setup (t: Test): Promise<{ chain: LocalChain, admin: Account, alice: Account }> {
  const chain = await startChain(t, { blockMs: 50 })
  return { chain, admin: await accountClient(t, chain, 'admin'), alice: await accountClient(t, chain, 'alice') }
}

const cw2 = async (a: Account, contract: string): Promise<unknown> => JSON.parse(fromUtf8(await a.client.queryContractRaw(contract, toUtf8('contract_info')) ?? new Uint8Array()))
const migrateMsg = (a: Account, contract: string, codeId: number, version: string): { typeUrl: string, value: MsgMigrateContract } => ({
  typeUrl: '/cosmwasm.wasm.v1.MsgMigrateContract',
  value: MsgMigrateContract.fromPartial({
    sender: a.address,
    contract,
    codeId: BigInt(codeId),
    msg: toUtf8(JSON.stringify({ new_version: version }))
  })
})

t.test('the start line, and cw2 contract_info kept by both contracts', async (t) => {
  const { chain, admin } = await setup(t)
  t.match(chain.info, { escrow_contract: /^wasm1/, escrow_code_ids: { '1.0': 3, '2.0': 4, '1.0-rollback': 5 } })
  t.equal(chain.info.escrow_checksums['2.0'], toHex(sha256(toUtf8('intent-gate escrow contract 2.0'))))
  t.same(await cw2(admin, chain.info.settlement_contract), { contract: 'crates.io:intent-settlement', version: '1.0' })
  t.same(await cw2(admin, chain.info.escrow_contract), { contract: 'crates.io:intent-escrow', version: '1.0' })
})

t.test('escrow: lock with funds, release to the recipient, refund to the owner', async (t) => {
  const { chain, admin, alice } = await setup(t)
  const escrow = chain.info.escrow_contract
  const bob = chain.address('bob')
  const timeout = Math.floor(Date.now() / 1000) + 3600
  const bobBefore = BigInt((await alice.client.getBalance(bob, 'ustake')).amount)
  await alice.client.execute(alice.address, escrow, { lock: { id: 'e-1', recipient: bob, timeout } }, FEE, '', [{ denom: 'ustake', amount: '500' }])
  await alice.client.execute(alice.address, escrow, { lock: { id: 'e-2', recipient: bob, timeout } }, FEE, '', [{ denom: 'ustake', amount: '700' }])
  t.equal((await alice.client.getBalance(escrow, 'ustake')).amount, '1200', 'the contract holds the locked coins')
  t.same((await alice.client.queryContractSmart(escrow, { inflight_settlements: {} }) as { settlements: Array<{ id: string }> }).settlements.map((e) => e.id), ['e-1', 'e-2'])
  await t.rejects(admin.client.execute(alice.address === admin.address ? '' : chain.address('carol'), escrow, { release: { id: 'e-1' } }, FEE), /./, 'another account cannot release')
  await admin.client.execute(admin.address, escrow, { release: { id: 'e-1' } }, FEE)
  await alice.client.execute(alice.address, escrow, { refund: { id: 'e-2' } }, FEE)
  t.equal(BigInt((await alice.client.getBalance(bob, 'ustake')).amount) - bobBefore, 500n, 'released to the recipient')
  t.equal((await alice.client.getBalance(escrow, 'ustake')).amount, '0')
  t.match(await alice.client.queryContractSmart(escrow, { escrow: { id: 'e-2' } }), { phase: 'refunded', owner: alice.address })
  await t.rejects(alice.client.execute(alice.address, escrow, { refund: { id: 'e-2' } }, FEE), /Escrow e-2 is already refunded/)
})

t.test('MsgStoreCode: a WebAssembly module gets a new code id with its checksum; anything else is refused', async (t) => {
  const { admin } = await setup(t)
  const module = wasmModule(undefined, 'store-test')
  const uploaded = await admin.client.upload(admin.address, module, FEE)
  t.equal(uploaded.codeId, 6, 'the next code id after the five genesis codes')
  const details = await admin.client.getCodeDetails(uploaded.codeId)
  t.equal(details.checksum, toHex(sha256(module)), 'checksum = SHA-256 of the module (cosmjs uploads it gzipped)')
  t.same([...details.data], [...module], 'the chain serves the module bytes')
  await t.rejects(admin.client.upload(admin.address, toUtf8('not a wasm module at all'), FEE), /Bad magic number.*create wasm contract failed/)
})

t.test('cw2: a downgrade or a foreign contract is refused, a rollback build may come down; simulate shows it first', async (t) => {
  const { chain, admin } = await setup(t)
  const escrow = chain.info.escrow_contract
  const ids = chain.info.escrow_code_ids as Record<string, number>
  const forwardAndBack = (back: number): Array<ReturnType<typeof migrateMsg>> => [migrateMsg(admin, escrow, ids['2.0'] as number, '2.0'), migrateMsg(admin, escrow, back, '1.0')]
  await t.rejects(admin.client.simulate(admin.address, forwardAndBack(ids['1.0'] as number), undefined), /message index: 1: Generic error: Cannot migrate from newer version \(2.0\) to older \(1.0\)/,
    'the dry run of 2.0 then back to code 1.0 is refused at the second message')
  t.ok(await admin.client.simulate(admin.address, forwardAndBack(ids['1.0-rollback'] as number), undefined) > 0, 'back through the rollback build passes')
  await t.rejects(admin.client.migrate(admin.address, escrow, chain.info.code_ids['2.0'] as number, { new_version: '2.0' }, FEE), /Cannot migrate from crates.io:intent-escrow to crates.io:intent-settlement/)
  await admin.client.migrate(admin.address, escrow, ids['2.0'] as number, { new_version: '2.0' }, FEE)
  await t.rejects(admin.client.migrate(admin.address, escrow, ids['1.0'] as number, { new_version: '1.0' }, FEE), /Cannot migrate from newer version/)
  await admin.client.migrate(admin.address, escrow, ids['1.0-rollback'] as number, { new_version: '1.0' }, FEE)
  t.same(await cw2(admin, escrow), { contract: 'crates.io:intent-escrow', version: '1.0' })
  const unmodelled = await admin.client.upload(admin.address, wasmModule(undefined, 'plain'), FEE)
  await t.rejects(admin.client.migrate(admin.address, escrow, unmodelled.codeId, { new_version: '3.0' }, FEE), /runs no contract this sandbox models/)
  const v3 = await admin.client.upload(admin.address, wasmModule({ contract: 'crates.io:intent-escrow', version: '3.0' }), FEE)
  await admin.client.migrate(admin.address, escrow, v3.codeId, { new_version: '3.0' }, FEE)
  t.same(await cw2(admin, escrow), { contract: 'crates.io:intent-escrow', version: '3.0' }, 'an uploaded module with a model runs it')
})

t.test('timeout_height: a tx not in a block by then is refused', async (t) => {
  const { chain, admin } = await setup(t)
  const height = await admin.client.getHeight()
  const msg = { typeUrl: '/cosmwasm.wasm.v1.MsgExecuteContract', value: MsgExecuteContract.fromPartial({ sender: admin.address, contract: chain.info.escrow_contract, msg: toUtf8('{"refund":{"id":"none"}}'), funds: [] }) }
  // signAndBroadcastSync: a CheckTx refusal through broadcastTx would leave cosmjs's 60 s poll timer running
  await t.rejects(admin.client.signAndBroadcastSync(admin.address, [msg], FEE, '', BigInt(height - 1)), /tx timeout height/)
  const within = await admin.client.signAndBroadcast(admin.address, [msg], FEE, '', BigInt(height + 50))
  t.match(within, { code: 5, rawLog: /Escrow not found: none/ }, 'within its timeout height the tx runs (and the contract answers)')
})

t.test('POST /sandbox/faults fails the next delivered migration of a contract; simulation still passes', async (t) => {
  const { chain, admin } = await setup(t)
  await chain.control('/sandbox/faults', { migrate_fails: { [chain.info.settlement_contract]: 1 } })
  const msg = migrateMsg(admin, chain.info.settlement_contract, chain.info.code_ids['2.0'] as number, '2.0')
  t.ok(await admin.client.simulate(admin.address, [msg], undefined) > 0)
  t.match(await admin.client.signAndBroadcast(admin.address, [msg], FEE), { code: 11, rawLog: /injected fault/ })
  t.match(await admin.client.signAndBroadcast(admin.address, [msg], FEE), { code: 0 })
  t.equal((await admin.client.getContract(chain.info.settlement_contract)).codeId, chain.info.code_ids['2.0'], 'the fault was used once')
})
