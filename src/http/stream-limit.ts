/**
 * Caps on long-lived event streams, overall and per client address, for both ports. A stream costs a socket and a
 * descriptor for as long as the client likes; without a cap a few thousand anonymous readers exhaust the
 * descriptors that submissions and probes need (issue 24). Past a cap the caller answers 503 with Retry-After.
 */
import { TooManyStreamsError } from '../errors.js'
import { channels, type StreamMessage } from '../observability/channels.js'

/** Retry-After for a refused stream: streams are long-lived, so a slot frees up slowly. */
export const STREAM_RETRY_AFTER_SECS = 10

export class StreamLimit {
  private total = 0
  private readonly perPeer = new Map<string, number>()

  constructor (private readonly max: number, private readonly maxPerPeer: number, private readonly port: StreamMessage['port']) {}

  /** Takes a slot for `peer`, or throws TooManyStreamsError. The returned function gives it back (once). */
  acquire (peer: string): () => void {
    const mine = this.perPeer.get(peer) ?? 0
    if (this.total >= this.max || mine >= this.maxPerPeer) {
      this.publish('refused')
      throw new TooManyStreamsError(this.total >= this.max
        ? `${this.max} event streams are open on the ${this.port} port, the most it serves; retry later`
        : `this address has ${mine} event streams open on the ${this.port} port, the most one client may; close one first`, STREAM_RETRY_AFTER_SECS)
    }
    this.total++
    this.perPeer.set(peer, mine + 1)
    this.publish('opened')
    let released = false
    return () => {
      if (released) return
      released = true
      this.publish('closed')
      this.total--
      const left = (this.perPeer.get(peer) ?? 1) - 1
      if (left === 0) this.perPeer.delete(peer)
      else this.perPeer.set(peer, left)
    }
  }

  size (): number {
    return this.total
  }

  private publish (event: StreamMessage['event']): void {
    if (channels.stream.hasSubscribers) channels.stream.publish({ port: this.port, event })
  }
}
