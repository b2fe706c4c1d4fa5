/**
 * At start, a warning when the namespace's Redis can lose its data on a restart: no AOF, no RDB snapshots and no
 * replica (docs/specification.md section 4). Read with `CONFIG GET appendonly` / `save`, falling back to `INFO persistence`
 * where CONFIG is disabled or not permitted (managed Redis): then only AOF can be seen, and the warning says so.
 * The replicas are read from `INFO replication`. The commands travel in one pipeline with a read of a namespace
 * key, so on a Cluster they reach the namespace's master. Best effort: a failure of the check is only logged.
 */
import type { StoreLogger } from '../options.js'
import type { RedisClient } from './connection.js'

export interface Durability {
  /** AOF on; null when it could not be read. */
  aof: boolean | null
  /** RDB snapshots configured (`save` not empty); null when CONFIG could not be read. */
  rdb: boolean | null
  /** Replicas connected to this primary. */
  replicas: number
}

/** `field:value` lines of an INFO section. */
function infoField (info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

export async function readDurability (client: RedisClient, routeKey: string): Promise<Durability> {
  const results = await client.pipeline()
    .exists(routeKey)
    .config('GET', 'appendonly')
    .config('GET', 'save')
    .info('persistence')
    .info('replication')
    .exec() ?? []
  const reply = (i: number): unknown => results[i]?.[0] === null ? results[i]?.[1] : undefined
  const appendonly = reply(1) as string[] | undefined
  const save = reply(2) as string[] | undefined
  const persistence = String(reply(3) ?? '')
  const replication = String(reply(4) ?? '')
  const aofInfo = infoField(persistence, 'aof_enabled')
  return {
    aof: appendonly?.[1] !== undefined ? appendonly[1] === 'yes' : aofInfo === undefined ? null : aofInfo === '1',
    rdb: save?.[1] !== undefined ? save[1].trim() !== '' : null,
    replicas: Number(infoField(replication, 'connected_slaves') ?? 0)
  }
}

/** Logs one warning when a restart of this Redis could lose every inflight record; returns what it read. */
export async function warnIfVolatile (client: RedisClient, routeKey: string, log: StoreLogger | undefined): Promise<Durability | null> {
  let durability: Durability
  try {
    durability = await readDurability(client, routeKey)
  } catch (err) {
    log?.info({ err: (err as Error).message }, 'store: could not check whether Redis persists its data')
    return null
  }
  const { aof, rdb, replicas } = durability
  if (replicas > 0 || aof === true || rdb === true) return durability
  const unknown = rdb === null ? ' (RDB snapshots could not be checked: CONFIG is not available)' : ''
  log?.warn({ aof, rdb, replicas },
    `store: this Redis can lose its data on a restart: no AOF, no RDB snapshots and no replica${unknown}. ` +
    'Inflight intents would be forgotten; enable appendonly or a replica (see docs/store.md)')
  return durability
}
