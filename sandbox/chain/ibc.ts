/**
 * The IBC side of the local chain: one ICS-20 channel whose packets the settlement contract sends, packet
 * commitments as ibc-go v8 computes them, the send_packet / acknowledge_packet / timeout_packet events with
 * ibc-go v8 attribute keys (one event per packet), and the channel queries.
 */
import { sha256 } from '@cosmjs/crypto'
import { fromBase64, fromHex, toBase64, toHex, toUtf8 } from '@cosmjs/encoding'
import type { Packet } from 'cosmjs-types/ibc/core/channel/v1/channel'
import { AbciError, SDK, wrap } from './errors.js'
import { abciEvent } from './events.js'
import type { AbciEvent, AppState, ChannelRecord, PacketRecord } from './state.js'

export const ORDERING = 'ORDER_UNORDERED'
/** ICS-20 success acknowledgement: {"result": base64(0x01)} */
export const ICS20_SUCCESS_ACK = toUtf8('{"result":"AQ=="}')

export function channelKey (port: string, channel: string): string {
  return `${port}/${channel}`
}

export function packetKey (port: string, channel: string, sequence: number | bigint): string {
  return `${port}/${channel}/${sequence}`
}

export function findChannel (app: AppState, port: string, channel: string): ChannelRecord {
  const record = app.channels[channelKey(port, channel)]
  if (record === undefined) {
    throw new AbciError(SDK.keyNotFound.codespace, SDK.keyNotFound.code,
      `rpc error: code = NotFound desc = port-id: ${port}, channel-id: ${channel}: channel not found: ${SDK.keyNotFound.description}`)
  }
  return record
}

/**
 * ibc-go v8 CommitPacket: sha256(timeout timestamp || timeout revision number || timeout revision height || sha256(data)),
 * big-endian u64s.
 */
export function commitPacket (timeoutTimestampNs: bigint, data: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(24 + 32)
  const view = new DataView(buffer.buffer)
  view.setBigUint64(0, timeoutTimestampNs)
  view.setBigUint64(8, 0n)
  view.setBigUint64(16, 0n)
  buffer.set(sha256(data), 24)
  return sha256(buffer)
}

export interface TransferPacketInput {
  sender: string
  receiver: string
  denom: string
  amount: string
  memo: string
  timeoutSecs: number
  settlementId?: string
}

/** Sends an ICS-20 packet on `channel` (port `transfer`): stores its commitment and returns it with its events. */
export function sendTransferPacket (
  app: AppState,
  channelId: string,
  input: TransferPacketInput,
  block: { height: number, timeMs: number },
  msgIndex: number
): { packet: PacketRecord, events: AbciEvent[] } {
  const channel = findChannel(app, 'transfer', channelId)
  const sequence = channel.nextSequenceSend++
  // FungibleTokenPacketData as ibc-go marshals it: keys sorted
  const data = toUtf8(JSON.stringify({
    amount: input.amount,
    denom: input.denom,
    memo: input.memo,
    receiver: input.receiver,
    sender: input.sender
  }))
  const timeoutNs = BigInt(block.timeMs + input.timeoutSecs * 1000) * 1_000_000n
  const packet: PacketRecord = {
    sequence,
    sourcePort: channel.portId,
    sourceChannel: channel.channelId,
    destinationPort: channel.counterpartyPortId,
    destinationChannel: channel.counterpartyChannelId,
    data: toBase64(data),
    timeoutTimestamp: timeoutNs.toString(),
    commitment: toHex(commitPacket(timeoutNs, data)),
    sentHeight: block.height,
    sentTimeMs: block.timeMs,
    ...(input.settlementId === undefined ? {} : { settlementId: input.settlementId, contract: input.sender })
  }
  app.commitments[packetKey(packet.sourcePort, packet.sourceChannel, sequence)] = packet
  const events = [
    abciEvent('send_packet', [
      ['packet_data', new TextDecoder().decode(data)],
      ['packet_data_hex', toHex(data)],
      ...packetAttributes(packet, channel, true)
    ], msgIndex),
    abciEvent('ibc_transfer', [['sender', input.sender], ['receiver', input.receiver], ['amount', input.amount], ['denom', input.denom], ['memo', input.memo]], msgIndex),
    abciEvent('message', [['module', 'transfer']], msgIndex)
  ]
  return { packet, events }
}

export type PacketOutcome = 'acknowledged' | 'timed_out'

/**
 * MsgAcknowledgement / MsgTimeout for one of our packets: removes the commitment and emits the event.
 * A packet already settled is a no-op, as ibc-go treats a redundant relay (no events, success).
 */
export function settlePacket (
  app: AppState,
  packet: Packet,
  outcome: PacketOutcome,
  msgIndex: number
): { record?: PacketRecord, events: AbciEvent[] } {
  const channel = findChannel(app, packet.sourcePort, packet.sourceChannel)
  const key = packetKey(packet.sourcePort, packet.sourceChannel, packet.sequence)
  const record = app.commitments[key]
  if (record === undefined) return { events: [] }
  const expected = commitPacket(BigInt(record.timeoutTimestamp), fromBase64(record.data))
  const got = commitPacket(packet.timeoutTimestamp, packet.data)
  if (toHex(expected) !== toHex(got)) {
    throw wrap({ codespace: 'channel', code: 23, description: 'invalid packet' }, `commitment bytes are not equal: got (${toHex(got)}), expected (${toHex(expected)})`)
  }
  delete app.commitments[key]
  const settledKey = channelKey(packet.sourcePort, packet.sourceChannel)
  app.settledSequences[settledKey] = [...(app.settledSequences[settledKey] ?? []), record.sequence]
  const type = outcome === 'acknowledged' ? 'acknowledge_packet' : 'timeout_packet'
  return { record, events: [abciEvent(type, packetAttributes(record, channel, outcome === 'acknowledged'), msgIndex)] }
}

function packetAttributes (packet: PacketRecord, channel: ChannelRecord, withConnection: boolean): Array<[string, string]> {
  const attributes: Array<[string, string]> = [
    ['packet_timeout_height', '0-0'],
    ['packet_timeout_timestamp', packet.timeoutTimestamp],
    ['packet_sequence', String(packet.sequence)],
    ['packet_src_port', packet.sourcePort],
    ['packet_src_channel', packet.sourceChannel],
    ['packet_dst_port', packet.destinationPort],
    ['packet_dst_channel', packet.destinationChannel],
    ['packet_channel_ordering', ORDERING]
  ]
  if (withConnection) attributes.push(['packet_connection', channel.connectionId])
  attributes.push(['connection_id', channel.connectionId])
  return attributes
}

/** The commitments of a channel, by sequence (PacketCommitments). */
export function channelCommitments (app: AppState, port: string, channel: string): PacketRecord[] {
  findChannel(app, port, channel)
  return Object.values(app.commitments)
    .filter(packet => packet.sourcePort === port && packet.sourceChannel === channel)
    .sort((a, b) => a.sequence - b.sequence)
}

/**
 * The sequences among `sequences` still pending on the channel: the counterparty has not received them and
 * their acknowledgement has not come back (the relayer delivers both in one step). Asked of either end of
 * the channel (our `channel-0` or the counterparty's `channel-1`), it answers for the packets sent here.
 */
export function pendingAmong (app: AppState, port: string, channel: string, sequences: bigint[]): bigint[] {
  const record = findChannelEitherEnd(app, port, channel)
  return sequences.filter(sequence => app.commitments[packetKey(record.portId, record.channelId, sequence)] !== undefined)
}

function findChannelEitherEnd (app: AppState, port: string, channel: string): ChannelRecord {
  const local = app.channels[channelKey(port, channel)]
  if (local !== undefined) return local
  const remote = Object.values(app.channels).find(record => record.counterpartyPortId === port && record.counterpartyChannelId === channel)
  return remote ?? findChannel(app, port, channel)
}

export function commitmentBytes (packet: PacketRecord): Uint8Array {
  return fromHex(packet.commitment)
}
