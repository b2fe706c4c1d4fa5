/**
 * The sample service settling through the local chain (`service --chain-rpc`): an accepted intent becomes a
 * settlement on the contract (its funds leave over IBC: a send_packet), is completed after --settle-ms, and
 * reads `settled` with the completion transaction's hash; a settlement a migration cancelled reads `cancelled`.
 */
import t from 'tap'
import { setTimeout as delay } from 'node:timers/promises'
import { makeSigner, signIntentV2 } from '../../sandbox/client/index.js'
import { FEE, signingClient, startChain } from './chain-harness.js'
import { startService } from './service-process.js'

const signer = makeSigner()

async function statusOf (url: string): Promise<Record<string, any>> {
  return await (await fetch(url)).json() as Record<string, any>
}

/** Reads the intent's status (the service has no event stream) until it leaves the inflight ones. */
async function untilTerminal (url: string): Promise<Record<string, any>> {
  for (let i = 0; i < 300; i++) {
    const body = await statusOf(url)
    if (!['accepted', 'matched', 'escrowed', 'ibc_in_flight'].includes(body.status)) return body
    await delay(50)
  }
  throw new Error('the intent never reached a terminal status')
}

t.test('the service settles through the chain', async (t) => {
  const chain = await startChain(t, ['--block-ms', '100', '--ack-delay-ms', '100'])
  const svc = await startService(t, ['--versions', '1.0,2.0', '--settle-ms', '1500', '--chain-rpc', chain.info.rpc])
  t.match(svc.info, { settler: 'chain' })
  const { client: admin, address: adminAddress } = await signingClient(chain, chain.info.admin_mnemonic)
  const contract = chain.info.settlement_contract

  const submitted = await fetch(`${svc.url}/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signIntentV2(signer)) })
  t.equal(submitted.status, 202)
  const { intent_id: id } = await submitted.json() as { intent_id: string }
  const final = await untilTerminal(`${svc.url}/intents/${id}`)
  t.equal(final.status, 'settled')
  const completion = await admin.getTx(final.fills[0].tx_hash)
  t.ok(completion, 'the fill names the completion transaction on the chain')
  t.ok(completion!.events.some(e => e.type === 'wasm' && e.attributes.some(a => a.key === 'action' && a.value === 'complete_settlement')))
  t.match(await admin.queryContractSmart(contract, { settlement: { id } }), { id, phase: 'completed', ibc_packet: { channel: 'channel-0' } })
  const created = await admin.searchTx(`wasm.settlement_id='${id}' AND wasm.action='create_settlement'`)
  t.equal(created.length, 1, 'created once')
  t.ok(created[0]!.events.some(e => e.type === 'send_packet'), 'its funds left over IBC')

  // a settlement the admin's migration cancels reads `cancelled`
  const second = await fetch(`${svc.url}/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signIntentV2(signer)) })
  const { intent_id: secondId } = await second.json() as { intent_id: string }
  for (let i = 0; i < 100 && (await statusOf(`${svc.url}/intents/${secondId}`)).status !== 'ibc_in_flight'; i++) await delay(20)
  await admin.migrate(adminAddress, contract, chain.info.code_ids['2.0']!, { new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'refund_and_cancel' } }, FEE)
  t.equal((await untilTerminal(`${svc.url}/intents/${secondId}`)).status, 'cancelled')
})
