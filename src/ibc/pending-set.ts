/**
 * The pending-packet bookkeeping of the watcher: which packets sent on the watched channels still await their
 * acknowledgement or timeout. Applying a block's events or a reconciliation returns the changed entries, so the
 * caller can persist exactly those (store hash fields keyed `port/channel/sequence`). Pure, no I/O.
 */
import type { PacketEvent } from './packet-events.js'

export interface PendingPacket {
  port: string
  channel: string
  sequence: number
  /** The height of the block that sent it; null when it is known only from the chain's commitments. */
  sent_height: number | null
  /** When it was sent (block time, ms); for a packet known only from commitments, when the watcher first saw it. */
  sent_at_ms: number
  /** How the watcher learned of it: its send_packet event, or the reconciliation with the chain's commitments. */
  source: 'event' | 'commitment'
  timeout_timestamp?: string
}

/** What `/admin/ibc/pending` and `pending()` show. */
export interface PendingPacketView {
  channel: string
  port: string
  sequence: number
  sent_height: number | null
  age_secs: number
  stale: boolean
}

export interface Changes {
  /** Entries added or updated, by key. */
  upserts: Map<string, PendingPacket>
  /** Keys removed. */
  deletes: Set<string>
}

export function packetKey (port: string, channel: string, sequence: number): string {
  return `${port}/${channel}/${sequence}`
}

export class PendingSet {
  readonly #packets = new Map<string, PendingPacket>()

  constructor (initial: Iterable<PendingPacket> = []) {
    for (const packet of initial) this.#packets.set(packetKey(packet.port, packet.channel, packet.sequence), packet)
  }

  get size (): number {
    return this.#packets.size
  }

  has (port: string, channel: string, sequence: number): boolean {
    return this.#packets.has(packetKey(port, channel, sequence))
  }

  /** Applies one block's events (in execution order) on watched channels; returns the net changes. */
  applyBlock (events: readonly PacketEvent[], height: number, blockTimeMs: number): Changes {
    const touched = new Set<string>()
    for (const event of events) {
      const key = packetKey(event.port, event.channel, event.sequence)
      touched.add(key)
      if (event.kind === 'send') {
        const known = this.#packets.get(key)
        // A packet first seen in the commitments gets its real height and time once its event is read.
        if (known === undefined || known.source === 'commitment') {
          const packet: PendingPacket = { port: event.port, channel: event.channel, sequence: event.sequence, sent_height: height, sent_at_ms: blockTimeMs, source: 'event' }
          if (event.timeoutTimestamp !== undefined) packet.timeout_timestamp = event.timeoutTimestamp
          this.#packets.set(key, packet)
        }
      } else {
        this.#packets.delete(key)
      }
    }
    return this.#changesFor(touched)
  }

  /**
   * Makes one channel's entries equal the chain's commitments (sequences still committed): committed packets the
   * set lacks are added (seen at `nowMs`), entries without a commitment are removed.
   */
  reconcile (port: string, channel: string, committed: Iterable<number>, nowMs: number): Changes & { added: number[], removed: number[] } {
    const onChain = new Set(committed)
    const touched = new Set<string>()
    const added: number[] = []
    const removed: number[] = []
    for (const sequence of onChain) {
      const key = packetKey(port, channel, sequence)
      if (this.#packets.has(key)) continue
      this.#packets.set(key, { port, channel, sequence, sent_height: null, sent_at_ms: nowMs, source: 'commitment' })
      touched.add(key)
      added.push(sequence)
    }
    for (const [key, packet] of this.#packets) {
      if (packet.port !== port || packet.channel !== channel || onChain.has(packet.sequence)) continue
      this.#packets.delete(key)
      touched.add(key)
      removed.push(packet.sequence)
    }
    return { ...this.#changesFor(touched), added: added.sort((a, b) => a - b), removed: removed.sort((a, b) => a - b) }
  }

  /** Every pending packet, oldest channel/sequence first, with its age and stale flag at `nowMs`. */
  view (nowMs: number, staleSecs: number): PendingPacketView[] {
    return [...this.#packets.values()]
      .sort((a, b) => a.channel.localeCompare(b.channel) || a.port.localeCompare(b.port) || a.sequence - b.sequence)
      .map((p) => {
        const ageMs = Math.max(0, nowMs - p.sent_at_ms)
        return {
          channel: p.channel,
          port: p.port,
          sequence: p.sequence,
          sent_height: p.sent_height,
          age_secs: Math.floor(ageMs / 1000),
          stale: ageMs > staleSecs * 1000
        }
      })
  }

  packets (): PendingPacket[] {
    return [...this.#packets.values()]
  }

  #changesFor (touched: Set<string>): Changes {
    const changes: Changes = { upserts: new Map(), deletes: new Set() }
    for (const key of touched) {
      const packet = this.#packets.get(key)
      if (packet === undefined) changes.deletes.add(key)
      else changes.upserts.set(key, packet)
    }
    return changes
  }
}
