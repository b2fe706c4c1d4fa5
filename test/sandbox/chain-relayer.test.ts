/**
 * Packets and the built-in relayer on the local chain, seen through cosmjs: several settlements in one tx
 * each get their own send_packet event; a paused relayer (an outage) leaves the packets pending for as long
 * as it lasts (PacketCommitments, UnreceivedPackets/Acks); resumed, it acknowledges them in a later block;
 * set to time out, it delivers timeout_packet and the settlement is refunded; an outage that outlasts the
 * packet timeout ends the same way.
 */
import t from 'tap'
import type { Event } from '@cosmjs/stargate'
import { FEE, blockFeed, createSettlementMsg, ibcQueries, signingClient, startChain, websocketClient } from './chain-harness.js'

const attributesOf = (event: { attributes: readonly { key: string, value: string }[] }): Record<string, string> =>
  Object.fromEntries(event.attributes.map(attribute => [attribute.key, attribute.value]))

t.test('relayer outage, resume and timeout', async (t) => {
  const ackDelayMs = 300
  const chain = await startChain(t, ['--block-ms', '100', '--ack-delay-ms', String(ackDelayMs)])
  const { info } = chain
  const contract = info.settlement_contract
  const { client, address } = await signingClient(chain, info.admin_mnemonic)
  const ibc = await ibcQueries(chain)
  const ws = await websocketClient(chain)

  const relayed: Array<{ type: string, attributes: Record<string, string> }> = []
  const relaySubscription = ws.subscribeTx("message.module='ibc_channel'").subscribe({
    next: (event) => {
      for (const e of event.result.events) {
        if (e.type === 'acknowledge_packet' || e.type === 'timeout_packet') relayed.push({ type: e.type, attributes: attributesOf(e) })
      }
    }
  })
  chain.track(() => relaySubscription.unsubscribe())
  const blocks = await blockFeed(chain, ws)

  t.match(await chain.control('/sandbox/relayer/pause'), { paused: true })
  const result = await client.executeMultiple(address, [
    { contractAddress: contract, msg: createSettlementMsg('r-1', address) },
    { contractAddress: contract, msg: createSettlementMsg('r-2', address) }
  ], FEE)
  const sent = result.events.filter((event: Event) => event.type === 'send_packet').map(attributesOf)
  t.equal(sent.length, 2, 'one send_packet event per packet')
  t.same(sent.map(a => a.msg_index), ['0', '1'])
  t.not(sent[0]!.packet_sequence, sent[1]!.packet_sequence, 'each event carries its own packet')
  const sequences = sent.map(a => BigInt(a.packet_sequence!))

  // an outage several times longer than the ack delay: nothing is relayed
  const sentAt = blocks.times.get(result.height) ?? Date.now()
  await blocks.until((_height, timeMs) => timeMs > sentAt + ackDelayMs * 3)
  t.same((await ibc.ibc.channel.packetCommitments('transfer', 'channel-0')).commitments.map(c => c.sequence), sequences, 'commitments stay while the relayer is paused')
  t.same((await ibc.ibc.channel.unreceivedPackets('transfer', 'channel-0', sequences.map(Number))).sequences, sequences)
  t.same((await ibc.ibc.channel.unreceivedAcks('transfer', 'channel-0', sequences.map(Number))).sequences, sequences)
  t.match(await chain.control('/sandbox/relayer'), { paused: true, pending: [{ settlement_id: 'r-1' }, { settlement_id: 'r-2' }] })
  t.same(relayed, [])

  t.match(await chain.control('/sandbox/relayer/resume'), { paused: false })
  const ackedAt = await blocks.until(() => relayed.length >= 2)
  t.ok(ackedAt > result.height, 'acknowledged in a later block')
  t.same(relayed.map(r => [r.type, r.attributes.packet_sequence]), sequences.map(s => ['acknowledge_packet', String(s)]))
  t.match(relayed[0]!.attributes, { packet_src_port: 'transfer', packet_src_channel: 'channel-0', packet_dst_channel: 'channel-1', connection_id: 'connection-0' })
  t.same((await ibc.ibc.channel.packetCommitments('transfer', 'channel-0')).commitments, [], 'acknowledged packets leave no commitment')
  t.same((await ibc.ibc.channel.unreceivedAcks('transfer', 'channel-0', sequences.map(Number))).sequences, [])
  t.match(await client.queryContractSmart(contract, { settlement: { id: 'r-1' } }), { phase: 'user_funds_locked', ibc_packet: { status: 'acknowledged' } })

  t.match(await chain.control('/sandbox/relayer', { outcome: 'timeout' }), { outcome: 'timeout' })
  const timedOut = await client.execute(address, contract, createSettlementMsg('r-3', address), FEE)
  const timeoutSequence = attributesOf(timedOut.events.find((event: Event) => event.type === 'send_packet')!).packet_sequence
  await blocks.until(() => relayed.some(r => r.type === 'timeout_packet'))
  t.match(relayed.find(r => r.type === 'timeout_packet')!.attributes, { packet_sequence: timeoutSequence, packet_src_channel: 'channel-0' })
  t.match(await client.queryContractSmart(contract, { settlement: { id: 'r-3' } }), { phase: 'refunded', ibc_packet: { status: 'timed_out' } }, 'a timed-out transfer refunds the settlement')

  const refused = await fetch(`${info.rpc}/sandbox/relayer`, { method: 'POST', body: JSON.stringify({ ack_delay_ms: -1, outcome: 'lost' }) })
  t.equal(refused.status, 400)
  t.match(await refused.json(), { detail: /ack_delay_ms must be a non-negative integer; outcome must be "ack" or "timeout"/ })
  await t.rejects(ibc.ibc.channel.packetCommitments('transfer', 'channel-9'), /Query failed with \(38\): .*channel not found/, 'an unknown channel is a NotFound')
})

t.test('an outage longer than the packet timeout ends in timeout_packet and a refund', async (t) => {
  const chain = await startChain(t, ['--block-ms', '100', '--ack-delay-ms', '100'])
  const { info } = chain
  const contract = info.settlement_contract
  const { client, address } = await signingClient(chain, info.admin_mnemonic)
  const ws = await websocketClient(chain)
  const relayed: string[] = []
  const relaySubscription = ws.subscribeTx("message.module='ibc_channel'").subscribe({
    next: (event) => { relayed.push(...event.result.events.map(e => e.type).filter(type => type.endsWith('_packet'))) }
  })
  chain.track(() => relaySubscription.unsubscribe())
  const blocks = await blockFeed(chain, ws)

  // packets of new settlements time out one second after they are sent
  await client.migrate(address, contract, info.code_ids['1.0']!, { new_version: '1.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve', new_config: { ibc_timeout_secs: 1 } } }, FEE)
  await chain.control('/sandbox/relayer/pause')
  const created = await client.execute(address, contract, createSettlementMsg('late', address), FEE)
  const sent = attributesOf(created.events.find((event: Event) => event.type === 'send_packet')!)
  const timeoutMs = Number(BigInt(sent.packet_timeout_timestamp!) / 1_000_000n)
  await blocks.until((_height, timeMs) => timeMs > timeoutMs)
  t.match(await client.queryContractSmart(contract, { settlement: { id: 'late' } }), { phase: 'user_funds_locked', ibc_packet: { status: 'pending' } }, 'nothing happens while the relayer is away')

  await chain.control('/sandbox/relayer/resume')
  await blocks.until(() => relayed.length > 0)
  t.same(relayed, ['timeout_packet'], 'the resumed relayer can only time the packet out')
  t.match(await client.queryContractSmart(contract, { settlement: { id: 'late' } }), { phase: 'refunded', ibc_packet: { status: 'timed_out' } })
})
