// The settlement contract on a real wasmd node, through the gateway's own contract client and CLI: both builds
// uploaded by `intent-gate contract upload` (checksums checked against the chain), instantiated at 1.0, inflight
// settlements created (one holding escrow); a migration refused by the contract (simulated and, sent anyway,
// rolled back in its block); 1.0 -> 2.0 with preserve_inflight, each settlement's state equal before and after
// and moved to 2.0's storage; cw2 read; a tx whose timeout_height has passed refused by the node; the revert.
import t from 'tap'
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { sha256 } from '@cosmjs/crypto'
import { toHex, toUtf8 } from '@cosmjs/encoding'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { calculateFee, GasPrice } from '@cosmjs/stargate'
import { MsgMigrateContract } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import { createContractClient } from '../../src/chain/contract-client.js'
import { ChainTxRefusedError } from '../../src/chain/errors.js'
import { runCli } from '../helpers/gateway.js'
import { captureLog } from '../ibc/helpers.js'
import { settlementWasm } from '../../sandbox/realchain/binaries.js'
import { DENOM, GAS_PRICE, startWasmd } from '../../sandbox/realchain/wasmd.js'

const SIGNER_ENV = 'TEST_REAL_SIGNER_MNEMONIC'
const price = GasPrice.fromString(GAS_PRICE)

t.test('the settlement contract on wasmd: upload, refused migration, 1.0 -> 2.0 preserving settlements, revert', async (t) => {
  const [files, chain] = await Promise.all([settlementWasm(), startWasmd(t, { chainId: 'real-contract-1', accounts: ['admin', 'alice'] })])
  const admin = chain.account('admin')
  const dir = await mkdtemp(join(tmpdir(), 'intent-gate-real-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

  // 1. Both builds through the gateway's CLI; the contract does not exist yet, so the config names the admin's
  //    address (only its prefix matters for an upload).
  const config = join(dir, 'upload.toml')
  const chainToml = (contract: string): string => `[chain]\nrpc_url = "${chain.rpc}"\nchain_id = "${chain.chainId}"\nsettlement_contract = "${contract}"\nsigner_mnemonic_env = "${SIGNER_ENV}"\ngas_price = "${GAS_PRICE}"\n[upstreams.blue]\nurl = "http://127.0.0.1:1"\n`
  await writeFile(config, chainToml(admin.address))
  const codes: Record<string, { code_id: number, checksum: string }> = {}
  for (const version of ['1.0', '2.0'] as const) {
    const run = await runCli(['contract', 'upload', files[version], '--config', config, '--json'], { [SIGNER_ENV]: admin.mnemonic })
    t.equal(run.code, 0, run.stderr)
    const printed = JSON.parse(run.stdout) as { code_id: number, checksum: string }
    t.equal(printed.checksum, toHex(sha256(await readFile(files[version]))), `${version}: the chain's checksum is the file's SHA-256`)
    codes[version] = printed
  }
  const [v1, v2] = [codes['1.0'] as { code_id: number, checksum: string }, codes['2.0'] as { code_id: number, checksum: string }]

  // 2. Instantiated at 1.0 with the admin as wasm admin; alice opens three settlements, one holding escrow.
  const signer = async (mnemonic: string): Promise<{ client: SigningCosmWasmClient, address: string }> => {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: 'wasm' })
    const [{ address } = { address: '' }] = await wallet.getAccounts()
    const client = await SigningCosmWasmClient.connectWithSigner(chain.rpc, wallet, { gasPrice: price, broadcastPollIntervalMs: 100 })
    t.teardown(() => client.disconnect())
    return { client, address }
  }
  const a = await signer(admin.mnemonic)
  const { contractAddress } = await a.client.instantiate(a.address, v1.code_id, {}, 'intent-settlement', 'auto', { admin: a.address })
  const alice = await signer(chain.account('alice').mnemonic)
  const deadline = Math.floor(Date.now() / 1000) + 3600
  const create = (id: string): Record<string, unknown> => ({ create_settlement: { id, user: alice.address, amount: '1000', denom: DENOM, timeout: deadline } })
  await alice.client.execute(alice.address, contractAddress, create('s-escrow'), 'auto', undefined, [{ denom: DENOM, amount: '1000' }])
  await alice.client.executeMultiple(alice.address, [
    { contractAddress, msg: create('s-plain') },
    { contractAddress, msg: create('s-advanced') }
  ], 'auto')
  await alice.client.execute(alice.address, contractAddress, { advance_settlement: { id: 's-advanced', phase: 'ibc_in_flight' } }, 'auto')
  const ids = ['s-escrow', 's-plain', 's-advanced']

  const { logger } = captureLog()
  const client = createContractClient({
    chain: {
      enabled: true,
      rpc_url: chain.rpc,
      chain_id: chain.chainId,
      settlement_contract: contractAddress,
      signer_mnemonic_env: SIGNER_ENV,
      gas_price: GAS_PRICE
    },
    logger,
    env: { [SIGNER_ENV]: admin.mnemonic },
    broadcastPollIntervalMs: 100
  })
  t.teardown(() => client.close())
  t.same(await client.contractVersion(), { contract: 'crates.io:intent-settlement', version: '1.0' }, 'cw2 as the contract set it')
  t.equal(await client.codeChecksum(v2.code_id), v2.checksum)
  const query = async (id: string): Promise<unknown> => await a.client.queryContractSmart(contractAddress, { settlement: { id } })
  const before = await Promise.all(ids.map(query))
  // Oldest first, then by id: created_at is the block time in whole seconds, which 200 ms blocks share.
  const inflightOrder = (before as Array<{ id: string, created_at: number }>).slice()
    .sort((x, y) => x.created_at - y.created_at || x.id.localeCompare(y.id)).map((x) => x.id)
  t.same((await client.inflightSettlements()).map((s) => s.id), inflightOrder, 'three inflight settlements, oldest first')
  t.match(before[0], { id: 's-escrow', phase: 'user_funds_locked', escrow: { denom: DENOM, amount: '1000' } })
  t.match(before[2], { id: 's-advanced', phase: 'ibc_in_flight' })
  t.same((await a.client.getBalance(contractAddress, DENOM)).amount, '1000', 'the escrow is held by the contract')

  // 3. The contract refuses to drop inflight settlements: in simulation (nothing sent) ...
  const refusing = { new_version: '2.0', config: { preserve_inflight: false, stuck_settlement_action: 'preserve' } }
  const simulated = await client.migrate(v2.code_id, v2.checksum, refusing).catch((e: unknown) => e)
  t.ok(simulated instanceof ChainTxRefusedError, 'refused')
  t.match(simulated, { stage: 'simulate' })
  t.match((simulated as Error).message, /Cannot migrate: 3 inflight settlements exist/)
  t.comment(`real simulate refusal: ${(simulated as Error).message}`)
  // ... and sent anyway with a fixed fee: the tx fails in its block and nothing it did stays.
  const sent = await a.client.signAndBroadcast(a.address, [{
    typeUrl: '/cosmwasm.wasm.v1.MsgMigrateContract',
    value: MsgMigrateContract.fromPartial({
      sender: a.address,
      contract: contractAddress,
      codeId: BigInt(v2.code_id),
      msg: toUtf8(JSON.stringify(refusing))
    })
  }], calculateFee(1_000_000, price))
  t.not(sent.code, 0, 'the migrate tx failed in its block')
  t.match(sent.rawLog, /Cannot migrate: 3 inflight settlements exist/)
  t.comment(`real deliver refusal: code ${sent.code} ${sent.rawLog ?? ''}`)
  t.equal((await client.contractState()).codeId, v1.code_id, 'still on code 1.0')
  t.same(await client.contractVersion(), { contract: 'crates.io:intent-settlement', version: '1.0' }, 'cw2 unchanged')
  t.same(await Promise.all(ids.map(query)), before, 'every settlement as it was')

  // 4. A tx whose timeout_height has passed is refused by the node.
  const past = (await client.height()) - 1
  const late = await client.migrate(v2.code_id, v2.checksum, { new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve' } }, { timeoutHeight: past }).catch((e: unknown) => e)
  t.ok(late instanceof ChainTxRefusedError, 'a tx past its timeout height is refused')
  t.comment(`real timeout_height refusal: ${(late as Error).message}`)
  t.match((late as Error).message, /timeout height/)
  t.equal((await client.contractState()).codeId, v1.code_id, 'still on code 1.0')

  // 5. 1.0 -> 2.0 preserving the inflight settlements.
  const migrated = await client.migrate(v2.code_id, v2.checksum, { new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve' } })
  t.match(migrated.attributes, { action: 'migrate', from_version: '1.0', to_version: '2.0', preserved_inflight: '3', stuck_settlement_action: 'preserve', moved_settlements: '3' }, 'the migrate event')
  t.ok(migrated.timeoutHeight > migrated.height - 1, `timeout_height ${migrated.timeoutHeight} carried`)
  t.equal((await client.contractState()).codeId, v2.code_id)
  t.same(await client.contractVersion(), { contract: 'crates.io:intent-settlement', version: '2.0' })
  const after = await Promise.all(ids.map(query))
  for (const [i, id] of ids.entries()) t.same(after[i], before[i], `${id}: the same state after the migration`)
  // cw-storage-plus keys: the namespace's length (2 bytes), the namespace, the id.
  const raw = async (namespace: string, id: string): Promise<number> =>
    (await a.client.queryContractRaw(contractAddress, new Uint8Array([0, namespace.length, ...toUtf8(namespace + id)])))?.length ?? 0
  t.equal(await raw('settlements', 's-plain'), 0, '1.0\'s storage key is gone')
  t.ok(await raw('settlements_v2', 's-plain') > 0, '2.0 keeps the settlement under settlements_v2')

  // 6. extend_timeout on the new code, then the revert to 1.0 (which accepts coming down).
  const extended = await client.extendTimeout(ids, 60)
  t.same(extended.extended, ids)
  t.equal(((await query('s-plain')) as { timeout: number }).timeout, deadline + 60)
  t.ok(await client.simulateMigrations([{ codeId: v1.code_id, msg: { new_version: '1.0' } }]) > 0, 'a dry run of the revert passes')
  const reverted = await client.migrate(v1.code_id, v1.checksum, { new_version: '1.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve' } })
  t.match(reverted.attributes, { from_version: '2.0', to_version: '1.0', moved_settlements: '3' })
  t.same(await client.contractVersion(), { contract: 'crates.io:intent-settlement', version: '1.0' })
  t.same((await client.inflightSettlements()).map((s) => s.id), inflightOrder, 'still inflight after the revert')

  // 7. 2.0 refuses to be reached from a newer version (cw2 check).
  await client.migrate(v2.code_id, v2.checksum, { new_version: '3.0' })
  const down = await client.migrate(v2.code_id, v2.checksum, { new_version: '2.0' }).catch((e: unknown) => e)
  t.match((down as Error).message, /Cannot migrate from newer version \(3\.0\) to older \(2\.0\)/)
  t.comment(`real cw2 refusal: ${(down as Error).message}`)
})
