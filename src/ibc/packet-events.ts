/**
 * Reads IBC packet events (ibc-go v8 attribute keys) from one block's results. Each event is read from its OWN
 * attributes: the flattened `events` map of a tx mixes the attributes of every packet the tx touched, so a tx
 * that sends two packets would read as one packet with two sequences. Pure functions, no I/O.
 */

/** What happened to a packet: sent, or finished (acknowledged or timed out; either ends its commitment). */
export type PacketEventKind = 'send' | 'acknowledge' | 'timeout'

export interface PacketEvent {
  kind: PacketEventKind
  port: string
  channel: string
  sequence: number
  /** ibc-go `packet_timeout_timestamp` (ns since the epoch, decimal), when present. */
  timeoutTimestamp?: string
}

export interface MalformedEvent {
  type: string
  reason: string
}

/** The parts of an ABCI event the parser needs (cosmjs's comet38 Event has this shape). */
export interface AbciEventLike {
  readonly type: string
  readonly attributes: ReadonlyArray<{ readonly key: string, readonly value: string }>
}

/** The parts of `block_results` the parser needs. */
export interface BlockResultsLike {
  readonly results: ReadonlyArray<{ readonly code: number, readonly events: readonly AbciEventLike[] }>
  readonly finalizeBlockEvents: readonly AbciEventLike[]
}

const KIND_OF: Record<string, PacketEventKind> = {
  send_packet: 'send',
  acknowledge_packet: 'acknowledge',
  timeout_packet: 'timeout',
  // Older ibc-go releases name the timeout-on-close event separately; it ends the commitment all the same.
  timeout_on_close_packet: 'timeout'
}

const IDENTIFIER = /^[a-zA-Z0-9._+\-#[\]<>]{2,128}$/
const SEQUENCE = /^[1-9][0-9]*$/

export function isPacketEventType (type: string): boolean {
  return Object.hasOwn(KIND_OF, type)
}

/**
 * One event: null when it is not a packet event; a MalformedEvent when it is one but its attributes cannot be
 * read (missing, empty, contradictory, or not an identifier / sequence); the packet event otherwise.
 */
export function parsePacketEvent (event: AbciEventLike): PacketEvent | MalformedEvent | null {
  const kind = KIND_OF[event.type]
  if (kind === undefined) return null
  const attrs = new Map<string, string>()
  for (const { key, value } of event.attributes) {
    const seen = attrs.get(key)
    if (seen !== undefined && seen !== value) return { type: event.type, reason: `attribute ${key} appears twice with different values (${seen}, ${value})` }
    attrs.set(key, value)
  }
  const port = attrs.get('packet_src_port')
  const channel = attrs.get('packet_src_channel')
  const sequence = attrs.get('packet_sequence')
  if (port === undefined || !IDENTIFIER.test(port)) return { type: event.type, reason: `packet_src_port is ${describe(port)}` }
  if (channel === undefined || !IDENTIFIER.test(channel)) return { type: event.type, reason: `packet_src_channel is ${describe(channel)}` }
  if (sequence === undefined || !SEQUENCE.test(sequence) || !Number.isSafeInteger(Number(sequence))) {
    return { type: event.type, reason: `packet_sequence is ${describe(sequence)}` }
  }
  const parsed: PacketEvent = { kind, port, channel, sequence: Number(sequence) }
  const timeout = attrs.get('packet_timeout_timestamp')
  if (timeout !== undefined && /^[0-9]+$/.test(timeout)) parsed.timeoutTimestamp = timeout
  return parsed
}

export function isMalformed (value: PacketEvent | MalformedEvent): value is MalformedEvent {
  return 'reason' in value
}

/**
 * Every packet event of a block, in execution order: the block's begin-block events (the Cosmos SDK marks them
 * `mode=BeginBlock`), the txs' events (failed txs changed nothing and are skipped), then the rest of the
 * finalize_block_events (end-block logic can send or time out packets too).
 */
export function packetEventsOfBlock (results: BlockResultsLike): { events: PacketEvent[], malformed: MalformedEvent[] } {
  const events: PacketEvent[] = []
  const malformed: MalformedEvent[] = []
  const take = (event: AbciEventLike): void => {
    const parsed = parsePacketEvent(event)
    if (parsed === null) return
    if (isMalformed(parsed)) malformed.push(parsed)
    else events.push(parsed)
  }
  const isBeginBlock = (event: AbciEventLike): boolean => event.attributes.some((a) => a.key === 'mode' && a.value === 'BeginBlock')
  for (const event of results.finalizeBlockEvents) if (isBeginBlock(event)) take(event)
  for (const tx of results.results) {
    if (tx.code !== 0) continue
    for (const event of tx.events) take(event)
  }
  for (const event of results.finalizeBlockEvents) if (!isBeginBlock(event)) take(event)
  return { events, malformed }
}

function describe (value: string | undefined): string {
  if (value === undefined) return 'missing'
  if (value === '') return 'empty'
  return `not valid (${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)})`
}
