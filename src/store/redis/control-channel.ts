/**
 * Control changes pushed between instances: Redis pub/sub beside the poll. Whenever this gateway writes a control
 * key (the coordinator setting or clearing `upgrade`, the admin API's drain or swap), the same MULTI PUBLISHes
 * one message on the namespace's own channel `intent-gate:{<ns>}:control`; every instance SUBSCRIBEs to it on a
 * connection of its own and re-reads the control state at once, so submissions held during an upgrade are released
 * within one round trip of the key's removal instead of a poll interval later.
 *
 * Why pub/sub and not keyspace notifications: they need `notify-keyspace-events` in the server's configuration
 * (managed Redis often forbids CONFIG SET, and a Cluster delivers them only on the node owning the key), while a
 * plain PUBLISH works on every deployment the store supports. An operator's `redis-cli SET`/`DEL` publishes
 * nothing; the poll (`redis.poll_interval_ms`) still sees it. A message lost while the subscriber reconnects is
 * made up for by a re-read on every (re)subscription, and by the poll.
 */
import type { ChainableCommander } from 'ioredis'
import type { Config } from '../../config/schema.js'
import type { StoreLogger } from '../options.js'
import { createRedisClient, keepConnecting, type RedisClient } from './connection.js'

export class ControlChannel {
  private readonly subscriber: RedisClient
  private closed = false

  constructor (
    config: Config['redis'],
    connectionName: string,
    env: Record<string, string | undefined> | undefined,
    readonly channel: string,
    onChange: () => void,
    private readonly log: StoreLogger | undefined
  ) {
    // Subscribed again by the 'ready' listener below. ioredis's own resubscription on reconnect leaves its promise
    // unhandled: a connection lost again between the ready check and that SUBSCRIBE rejected it, and an unhandled
    // rejection ends a Node process (a clean-clone test run met it at a teardown).
    this.subscriber = createRedisClient(config, `${connectionName}:sub`, env, { autoResubscribe: false })
    this.subscriber.on('error', () => {}) // reconnects on its own; the store's main connection reports outages
    this.subscriber.on('message', (channel: string) => { if (channel === this.channel) onChange() })
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).then(() => { onChange() }, (err: unknown) => {
        if (!this.closed) this.log?.warn({ err }, 'store: cannot subscribe to the control channel; relying on the poll')
      })
    })
    keepConnecting(this.subscriber, () => this.closed, () => {})
    this.subscriber.connect().catch(() => {})
  }

  /**
   * Adds the PUBLISH to the transaction that writes a control key, so Redis sends the message the moment the key
   * changes: not one round trip later (the writer reading the write's reply, then sending PUBLISH), and never
   * lost to a writer that stops between the two. Subscribers read after the message, so they see the write.
   */
  publishIn<T extends ChainableCommander> (tx: T): T {
    tx.publish(this.channel, 'changed')
    return tx
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      if (this.subscriber.status === 'ready') await this.subscriber.quit()
    } catch {
      // the disconnect below ends it anyway
    }
    this.subscriber.disconnect()
  }
}
