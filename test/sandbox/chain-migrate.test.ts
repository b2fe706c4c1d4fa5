/**
 * Migrating the settlement contract on the local chain with SigningCosmWasmClient.migrate and the design's
 * MigrateMsg: a sender that is not the admin and an unknown code id are refused as wasmd refuses them;
 * inflight settlements with preserve_inflight false refuse the migration; with it true they survive
 * unchanged while the cw2 version, code id and history move on; each stuck_settlement_action does what
 * docs/design.md says.
 */
import t from 'tap'
import type { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { FEE, createSettlementMsg, mnemonicOf, signingClient, startChain } from './chain-harness.js'

interface Settlement { id: string, phase: string, timeout: number }

t.test('migrate follows wasmd and the design MigrateMsg', async (t) => {
  const chain = await startChain(t, ['--block-ms', '100'])
  const { info } = chain
  const contract = info.settlement_contract
  await chain.control('/sandbox/relayer/pause') // acknowledgements would change the settlements under comparison
  const { client: admin, address: adminAddress } = await signingClient(chain, info.admin_mnemonic)
  const { client: alice, address: aliceAddress } = await signingClient(chain, mnemonicOf(info, 'alice'))

  const inflight = async (): Promise<Settlement[]> => {
    const answer = await admin.queryContractSmart(contract, { inflight_settlements: {} }) as { settlements: Settlement[] }
    return answer.settlements
  }
  const version = async (client: SigningCosmWasmClient): Promise<string> => {
    const raw = await client.queryContractRaw(contract, new TextEncoder().encode('contract_info'))
    return (JSON.parse(new TextDecoder().decode(raw!)) as { version: string }).version
  }
  const migrateMsg = (action: unknown, preserve = true): Record<string, unknown> => ({ new_version: '2.0', config: { preserve_inflight: preserve, stuck_settlement_action: action } })

  await admin.execute(adminAddress, contract, createSettlementMsg('m-1', aliceAddress), FEE)
  await admin.execute(adminAddress, contract, createSettlementMsg('m-done', aliceAddress), FEE)
  await admin.execute(adminAddress, contract, { complete_settlement: { id: 'm-done' } }, FEE)
  const before = await inflight()
  t.same(before.map(s => s.id), ['m-1'], 'one inflight settlement (the completed one is not)')

  await t.rejects(alice.migrate(aliceAddress, contract, info.code_ids['2.0']!, migrateMsg('preserve'), FEE),
    /Code: 4; Raw log: failed to execute message; message index: 0: can not migrate: unauthorized/, 'a sender that is not the admin')
  await t.rejects(admin.migrate(adminAddress, contract, 99, migrateMsg('preserve'), FEE),
    /Code: 18; Raw log: failed to execute message; message index: 0: unknown code: invalid request/, 'a code id that does not exist')
  await t.rejects(admin.migrate(adminAddress, contract, info.code_ids['2.0']!, migrateMsg('preserve', false), FEE),
    /Code: 11; Raw log: failed to execute message; message index: 0: Cannot migrate: 1 inflight settlements exist: migrate wasm contract failed/,
    'inflight settlements and preserve_inflight false')
  t.equal(await version(admin), '1.0', 'a refused migration changes nothing')
  t.equal((await admin.getContract(contract)).codeId, info.code_ids['1.0'])

  const preserved = await admin.migrate(adminAddress, contract, info.code_ids['2.0']!, migrateMsg('preserve'), FEE)
  const wasm = preserved.events.find(event => event.type === 'wasm')
  t.match(Object.fromEntries(wasm!.attributes.map(a => [a.key, a.value])), { _contract_address: contract, action: 'migrate', from_version: '1.0', to_version: '2.0', preserved_inflight: '1' }, 'the design attributes')
  t.ok(preserved.events.some(event => event.type === 'migrate' && event.attributes.some(a => a.key === 'code_id' && a.value === String(info.code_ids['2.0']))))
  t.same(await inflight(), before, 'preserve: the inflight settlements are unchanged')
  t.equal(await version(admin), '2.0', 'the cw2 version is the new one')
  t.equal((await admin.getContract(contract)).codeId, info.code_ids['2.0'])
  t.match((await admin.getContractCodeHistory(contract)).map(entry => [entry.operation, entry.codeId]), [['Init', 1], ['Migrate', 2]])

  const extended = await admin.migrate(adminAddress, contract, info.code_ids['1.0']!, { new_version: '1.0', config: { preserve_inflight: true, stuck_settlement_action: { extend_timeout: { additional_seconds: 3600 } } } }, FEE)
  t.ok(extended.events.some(event => event.type === 'wasm' && event.attributes.some(a => a.key === 'to_version' && a.value === '1.0')), 'a migration back to code 1.0 is allowed (rollback)')
  t.same((await inflight()).map(s => s.timeout), before.map(s => s.timeout + 3600), 'extend_timeout adds the seconds to every inflight timeout')

  await admin.execute(adminAddress, contract, createSettlementMsg('m-2', aliceAddress), FEE)
  const cancelled = await admin.migrate(adminAddress, contract, info.code_ids['2.0']!, migrateMsg('refund_and_cancel'), FEE)
  t.match(Object.fromEntries(cancelled.events.find(event => event.type === 'wasm')!.attributes.map(a => [a.key, a.value])), { preserved_inflight: '2', to_version: '2.0' })
  t.same(await inflight(), [], 'refund_and_cancel leaves nothing inflight')
  t.match(await admin.queryContractSmart(contract, { settlement: { id: 'm-2' } }), { id: 'm-2', phase: 'cancelled' })
  t.match(await admin.queryContractSmart(contract, { settlement: { id: 'm-done' } }), { phase: 'completed' }, 'terminal settlements are not touched')

  await admin.execute(adminAddress, contract, createSettlementMsg('m-3', aliceAddress), FEE)
  await admin.migrate(adminAddress, contract, info.code_ids['2.0']!, { new_version: '2.1' }, FEE)
  t.equal(await version(admin), '2.1', 'without a config the migration is not checked against inflight settlements')
  t.same((await inflight()).map(s => s.id), ['m-3'])
})
