// Reading packet events from block results: each event from its own attributes, malformed ones reported, failed
// txs skipped, begin-block events first and end-block events last.
import t from 'tap'
import { packetEventsOfBlock, parsePacketEvent, type AbciEventLike } from '../../src/ibc/packet-events.js'

const packetEvent = (type: string, sequence: string, channel = 'channel-0', extra: Array<[string, string]> = []): AbciEventLike => ({
  type,
  attributes: ([
    ['packet_timeout_height', '0-0'],
    ['packet_timeout_timestamp', '1767225600000000000'],
    ['packet_sequence', sequence],
    ['packet_src_port', 'transfer'],
    ['packet_src_channel', channel],
    ['packet_dst_port', 'transfer'],
    ['packet_dst_channel', 'channel-1'],
    ['packet_channel_ordering', 'ORDER_UNORDERED'],
    ['connection_id', 'connection-0'],
    ...extra
  ] satisfies Array<[string, string]>).map(([key, value]) => ({ key, value }))
})

t.test('a tx that sends two packets yields two packets, each with its own sequence', async (t) => {
  const { events, malformed } = packetEventsOfBlock({
    results: [{ code: 0, events: [{ type: 'message', attributes: [] }, packetEvent('send_packet', '7'), packetEvent('send_packet', '8')] }],
    finalizeBlockEvents: []
  })
  t.same(malformed, [])
  t.same(events.map((e) => [e.kind, e.port, e.channel, e.sequence]), [['send', 'transfer', 'channel-0', 7], ['send', 'transfer', 'channel-0', 8]])
  t.equal(events[0]?.timeoutTimestamp, '1767225600000000000')
})

t.test('acknowledgements and timeouts (also timeout on close) end a packet', async (t) => {
  const { events } = packetEventsOfBlock({
    results: [{ code: 0, events: [packetEvent('acknowledge_packet', '1'), packetEvent('timeout_packet', '2'), packetEvent('timeout_on_close_packet', '3')] }],
    finalizeBlockEvents: []
  })
  t.same(events.map((e) => [e.kind, e.sequence]), [['acknowledge', 1], ['timeout', 2], ['timeout', 3]])
})

t.test('events of failed txs are skipped; the block\'s own events count, begin-block first and end-block last', async (t) => {
  const { events } = packetEventsOfBlock({
    results: [
      { code: 5, events: [packetEvent('send_packet', '9')] },
      { code: 0, events: [packetEvent('send_packet', '10')] }
    ],
    finalizeBlockEvents: [
      packetEvent('timeout_packet', '11', 'channel-0', [['mode', 'EndBlock']]),
      packetEvent('acknowledge_packet', '4', 'channel-0', [['mode', 'BeginBlock']])
    ]
  })
  t.same(events.map((e) => [e.kind, e.sequence]), [['acknowledge', 4], ['send', 10], ['timeout', 11]])
})

t.test('malformed packet events are reported with the reason and do not stop the others', async (t) => {
  const missing: AbciEventLike = { type: 'send_packet', attributes: [{ key: 'packet_src_port', value: 'transfer' }, { key: 'packet_src_channel', value: 'channel-0' }] }
  const contradictory = packetEvent('send_packet', '12', 'channel-0', [['packet_sequence', '13']])
  const { events, malformed } = packetEventsOfBlock({
    results: [{
      code: 0,
      events: [missing, packetEvent('send_packet', 'abc'), packetEvent('send_packet', '0'), packetEvent('send_packet', '5', ''), contradictory, packetEvent('send_packet', '14'), packetEvent('send_packet', '99999999999999999999')]
    }],
    finalizeBlockEvents: []
  })
  t.same(events.map((e) => e.sequence), [14])
  t.same(malformed.map((m) => m.reason), [
    'packet_sequence is missing',
    'packet_sequence is not valid ("abc")',
    'packet_sequence is not valid ("0")',
    'packet_src_channel is empty',
    'attribute packet_sequence appears twice with different values (12, 13)',
    'packet_sequence is not valid ("99999999999999999999")'
  ])
})

t.test('other events are not packet events', async (t) => {
  t.equal(parsePacketEvent({ type: 'recv_packet', attributes: [] }), null)
  t.equal(parsePacketEvent({ type: 'wasm', attributes: [{ key: 'packet_sequence', value: '1' }] }), null)
})
