/**
 * The ioredis client the Redis store runs on, set up to fail fast and heal by itself:
 * - no offline queue and no per-request retries: a command while Redis is unreachable fails at once (the
 *   gateway answers 503) instead of waiting for a reconnect, and nothing is resent after one;
 * - a command timeout, so a Redis that hangs (rather than closes) fails the same way;
 * - reconnect forever with a capped backoff;
 * - Sentinel: the primary is asked of the sentinels on every (re)connect and a `+switch-master` triggers one,
 *   so a failover is followed without a restart; a `READONLY` answer (a demoted primary) forces a reconnect;
 * - Cluster (`cluster_nodes`): ioredis' `Cluster` follows MOVED/ASK (a command refused by a node is never run, so
 *   sending it on is safe), but a closed connection or CLUSTERDOWN is not retried: the answer to a sent command
 *   may be lost, and the store, not the client, decides what to undo. The slot map is refreshed on a timer so a
 *   promoted replica is found without a restart;
 * - managed Redis: TLS (`rediss://` or `tls`, a CA file), the ACL user from the URL, the password from the env
 *   var named by `password_env` (it lives only in the client's options, which are never logged).
 */
import { readFileSync } from 'node:fs'
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { Config } from '../../config/schema.js'
import { ConfigError } from '../../errors.js'
import { sendWhenNodeReady } from './cluster-send.js'

/** A single Redis (direct or through Sentinel) or a Redis Cluster: the store uses both the same way. */
export type RedisClient = Redis | Cluster

/** How often a Cluster client re-reads the slot map, so a failover is followed even without a redirect. */
const SLOTS_REFRESH_MS = 1000

/** The longest wait between two reconnection attempts. */
export const MAX_RECONNECT_DELAY_MS = 1000

/** How long one connection attempt may take (a command timeout is too short for a TLS handshake). */
function connectTimeoutMs (config: Config['redis']): number {
  return Math.max(config.command_timeout_ms, 1000)
}

/** 50 ms, 100 ms, 200 ms ... at most 1 s between attempts, forever. */
export function reconnectDelay (attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS)
}

function parseHostPort (entry: string): { host: string, port: number } {
  const at = entry.lastIndexOf(':')
  return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) }
}

/** TLS options when any setting asks for TLS (a rediss:// url, `tls = true`, a CA file), else undefined. */
export function tlsOptions (config: Config['redis']): RedisOptions['tls'] {
  const ca = config.tls_ca_file
  const wanted = config.tls || ca !== '' || (config.url?.startsWith('rediss://') ?? false)
  if (!wanted) return undefined
  return ca === '' ? {} : { ca: readFileSync(ca) }
}

/** The password from the env var named by `password_env` (undefined: none configured, the URL's applies). */
export function redisPassword (config: Config['redis'], env: Record<string, string | undefined>): string | undefined {
  const name = config.password_env
  if (name === '') return undefined
  const password = env[name]
  if (password === undefined || password === '') {
    throw new ConfigError([`redis.password_env: the environment variable ${name} is not set`])
  }
  return password
}

/**
 * The scripts the store sends by group commit (./submission-scripts.ts): a group is one write already, and the
 * auto-pipeline would hold it for one more event-loop turn (a single Redis or Sentinel; see clusterOptions).
 */
const GROUPED_SCRIPTS = ['igAdmit', 'igBind']

export function redisOptions (config: Config['redis'], connectionName: string, env: Record<string, string | undefined> = process.env): RedisOptions {
  const base: RedisOptions = {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: config.command_timeout_ms,
    connectTimeout: connectTimeoutMs(config),
    retryStrategy: reconnectDelay,
    reconnectOnError: (err) => err.message.startsWith('READONLY') ? 1 : false,
    lazyConnect: true,
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: GROUPED_SCRIPTS
  }
  const tls = tlsOptions(config)
  if (tls !== undefined) base.tls = tls
  const password = redisPassword(config, env)
  if (password !== undefined) base.password = password
  // With a url, its user (rediss://user@host) applies; sentinels and cluster nodes take `username`.
  if (config.username !== '') base.username = config.username
  if (config.sentinels !== undefined) {
    return {
      ...base,
      sentinels: config.sentinels.map(parseHostPort),
      name: config.sentinel_name,
      role: 'master',
      sentinelRetryStrategy: reconnectDelay,
      sentinelCommandTimeout: config.command_timeout_ms,
      failoverDetector: true,
      ...(tls === undefined ? {} : { enableTLSForSentinelMode: true, sentinelTLS: tls })
    }
  }
  return base
}

/** The Cluster client's options: each node's connection as above, plus how redirects and failovers are met. */
export function clusterOptions (config: Config['redis'], connectionName: string, env: Record<string, string | undefined> = process.env): ClusterOptions {
  const {
    retryStrategy: _nodesAreFoundThroughTheSlotMap,
    enableAutoPipelining: _onTheClusterItself,
    ...node
  } = redisOptions(config, connectionName, env)
  return {
    redisOptions: node,
    enableOfflineQueue: false,
    // Ready once the slot map is read. ioredis's ready check (CLUSTER INFO) goes to a random node and is refused
    // while that node connects, which restarts the whole connection; a slot without a master is met per command
    // instead (CLUSTERDOWN: the gateway answers 503).
    enableReadyCheck: false,
    // Grouped scripts too (on a Cluster a group goes out one event-loop turn later than on a single Redis). A
    // command meeting a node that is still connecting waits for it either way (./cluster-send.ts).
    enableAutoPipelining: true,
    lazyConnect: true,
    clusterRetryStrategy: reconnectDelay,
    // A command refused with MOVED, ASK or TRYAGAIN never ran: following the redirect is safe.
    maxRedirections: 16,
    retryDelayOnTryAgain: 50,
    // A closed connection may have lost the answer to a command that ran; CLUSTERDOWN means no master for the
    // slot. Both fail at once (the gateway answers 503); the slot map refresh finds the promoted replica.
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    // Refreshed by our own timer instead (refreshSlotsPeriodically): ioredis's re-arms itself when a refresh is
    // still running as the client is closed, and then keeps a closed client's process alive for good.
    slotsRefreshInterval: 0,
    slotsRefreshTimeout: Math.max(config.command_timeout_ms, 1000),
    // TLS certificates name the host the nodes announce; do not resolve it to an address first.
    dnsLookup: (address, callback) => { callback(null, address) }
  }
}

/**
 * Reconnects a client that ioredis gave up on although nobody closed it (`closing()` false), a second later.
 * ioredis ends a Sentinel client for good when the previous connection's failover detector hears
 * `+switch-master` while a reconnection is asking the sentinels for the new primary: the connector is
 * disconnected under the pending connect, which then fails with "Connection is closed." and sets the status to
 * `end`, where no retry strategy applies (ioredis 5.11, SentinelConnector.connect and Redis._connect). A primary
 * that crashes and is failed over makes exactly that race likely; the chaos run hit it in 2 of 3 runs under load,
 * and the instance then answered 503 until restarted. Our own close() sets `closing` first, so it is not undone.
 */
export function keepConnecting (client: RedisClient, closing: () => boolean, onEnded: () => void): void {
  client.on('end', () => {
    if (closing()) return
    onEnded()
    const timer = setTimeout(() => {
      if (!closing() && client.status === 'end') client.connect().catch(() => {})
    }, MAX_RECONNECT_DELAY_MS)
    timer.unref()
  })
}

/** Reads the slot map every SLOTS_REFRESH_MS from each time the client is ready until it ends. */
function refreshSlotsPeriodically (cluster: Cluster): void {
  let timer: NodeJS.Timeout | null = null
  cluster.on('ready', () => {
    timer ??= setInterval(() => {
      if (cluster.status === 'ready') cluster.refreshSlotsCache()
    }, SLOTS_REFRESH_MS).unref()
  })
  cluster.on('end', () => {
    if (timer !== null) clearInterval(timer)
    timer = null
  })
}

/**
 * @param single options for a single Redis or Sentinel connection only (a Cluster manages its node connections,
 *   its subscriber's included, itself)
 */
export function createRedisClient (config: Config['redis'], connectionName: string, env: Record<string, string | undefined> = process.env,
  single: Partial<RedisOptions> = {}): RedisClient {
  if (config.cluster_nodes !== undefined) {
    const cluster = new Cluster(config.cluster_nodes.map(parseHostPort), clusterOptions(config, connectionName, env))
    // ioredis connects to a node on its first command and refuses (without sending) the commands that arrive
    // while that connection is being made: connect to each node as soon as the slot map names it instead.
    cluster.on('+node', (node: Redis) => { node.connect().catch(() => {}) })
    // And a command that still finds its node connecting waits for it (./cluster-send.ts).
    sendWhenNodeReady(cluster, connectTimeoutMs(config))
    refreshSlotsPeriodically(cluster)
    return cluster
  }
  const options = { ...redisOptions(config, connectionName, env), ...single }
  if (config.sentinels !== undefined) return new Redis(options)
  if (config.url === undefined) throw new Error('store: redis.url, redis.sentinels or redis.cluster_nodes is required for the Redis store')
  return new Redis({ ...urlOptions(config.url), ...options })
}

/**
 * What a `redis://` or `rediss://` url says (host, port, db, ACL user, password). Read here rather than by
 * ioredis, which lets a url's (even empty) password win over the one from `password_env`.
 */
export function urlOptions (url: string): RedisOptions {
  const parsed = new URL(url)
  const options: RedisOptions = { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port === '' ? 6379 : Number(parsed.port) }
  if (parsed.username !== '') options.username = decodeURIComponent(parsed.username)
  if (parsed.password !== '') options.password = decodeURIComponent(parsed.password)
  if (parsed.pathname.length > 1) options.db = Number(parsed.pathname.slice(1))
  return options
}
