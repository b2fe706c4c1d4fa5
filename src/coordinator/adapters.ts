/**
 * Thin adapters from the real parts to the coordinator's ports: the proxy's upstreams (their health checker),
 * the gateway's own readiness, the versions module's stored-intent migration, and the settlement contract
 * client. The composition root (src/main.ts) builds them; nothing here holds state of its own.
 */
import type { Config } from '../config/schema.js'
import type { ContractClient } from '../chain/contract-client.js'
import type { Catalog } from '../versions/catalog.js'
import { migrateStoredIntents } from '../versions/stored-intents.js'
import type { JsonObject } from '../versions/spec.js'
import type { InflightRecord } from '../store/types.js'
import type { IbcWatcher } from '../ibc/watcher.js'
import type { Upstreams } from '../proxy/upstreams.js'
import type { ApiPort, ContractPort, HealthStatus, IbcPort, StoredIntentMigrator, UpstreamPort } from './ports.js'

/**
 * The proxy's upstreams as the coordinator sees them. A probe is one health check now, by the proxy's own checker
 * (same pool, `health_path`, `health_timeout_ms`, any 2xx), judged on its own: the thresholds that smooth the
 * proxy's routing do not hide a failing check from an upgrade.
 */
export function upstreamPort (upstreams: Pick<Upstreams, 'get' | 'states'>): UpstreamPort {
  return {
    colors: () => upstreams.states().map((s) => s.color),
    versionsOf: (color) => upstreams.get(color)?.config.versions ?? [],
    probe: async (color) => {
      const upstream = upstreams.get(color)
      if (upstream === undefined) return { status: 'unhealthy', reason: `upstream ${color} is not configured` }
      const checked = await upstream.check()
      return checked.last_error === null
        ? { status: 'healthy' }
        : { status: 'unhealthy', reason: `${checked.url} (${upstream.config.health_path}): ${checked.last_error}` }
    }
  }
}

/** The gateway's own readiness (`/readyz` on the admin listener). */
export function httpApiPort (readyzUrl: string): ApiPort {
  return { ready: async (signal) => await probeUrl(readyzUrl, signal) }
}

async function probeUrl (url: string, signal: AbortSignal): Promise<HealthStatus> {
  try {
    const res = await fetch(url, { signal })
    await res.arrayBuffer().catch(() => {})
    return res.ok ? { status: 'healthy' } : { status: 'unhealthy', reason: `${url} answered ${res.status}` }
  } catch (err) {
    return { status: 'unhealthy', reason: `${url} unreachable: ${(err as Error).message}` }
  }
}

/**
 * Moves a stored record's forwarded body to `targetVersion` when its owner accepts that version natively;
 * a record its owner cannot take in that version, or that the version cannot express, stays as it is.
 */
export function storedIntentMigrator (catalog: Catalog, upstreams: Config['upstreams']): StoredIntentMigrator {
  return {
    migrate: (record: InflightRecord, targetVersion: string) => {
      if (record.upstream_version === targetVersion) return null
      // Bound under key layout 3: its bytes are gone and it is never sent again; it is read in the version its owner took.
      if (record.body_dropped === true) return null
      if (!(upstreams[record.upstream]?.versions ?? []).includes(targetVersion)) return null
      const stored = [{ key: record.key, version: record.upstream_version, intent: record.intent as JsonObject }]
      const report = migrateStoredIntents(catalog, stored, targetVersion)
      const migrated = report.migrated_records[0]
      if (report.failed !== null || migrated === undefined) return null
      return { ...record, upstream_version: targetVersion, intent: migrated.intent }
    }
  }
}

export function contractPort (client: ContractClient, txTimeoutBlocks = 20): ContractPort {
  const info = async (): ReturnType<ContractPort['info']> => {
    const [state, version] = await Promise.all([client.contractState(), client.contractVersion()])
    return {
      address: state.address,
      code_id: state.codeId,
      contract: version.contract,
      version: version.version,
      admin: state.admin ?? null
    }
  }
  return {
    info,
    inflightSettlements: async () => await client.inflightSettlements(),
    codeChecksum: async (codeId) => await client.codeChecksum(codeId),
    verifyMigration: async (codeId, checksum) => { await client.verifyMigration(codeId, checksum) },
    migrate: async (codeId, checksum, msg, options) => (await client.migrate(codeId, checksum, msg, options)).transactionHash,
    dryRunMigrations: async (steps) => { await client.simulateMigrations(steps.map((s) => ({ codeId: s.code_id, msg: s.msg }))) },
    height: async () => await client.height(),
    timeoutHeight: async () => (await client.height()) + txTimeoutBlocks,
    extendTimeouts: async (ids, secs) => (await client.extendTimeout(ids, secs)).extended.length,
    health: async () => {
      try {
        await info()
        await client.inflightSettlements()
        return { status: 'healthy' }
      } catch (err) {
        return { status: 'unhealthy', reason: (err as Error).message }
      }
    }
  }
}

/** The IBC watcher's pending set and health, as the coordinator reads them. */
export function ibcPort (watcher: Pick<IbcWatcher, 'pending' | 'state' | 'knownPendingCount'>): IbcPort {
  return {
    pending: async () => watcher.pending().map((p) => ({
      channel: p.channel,
      port: p.port,
      sequence: p.sequence,
      sent_height: p.sent_height ?? undefined,
      age_secs: p.age_secs
    })),
    knownPendingCount: () => watcher.knownPendingCount(),
    health: async () => {
      const s = watcher.state()
      return s.healthy ? { status: 'healthy' } : { status: 'unhealthy', reason: s.reason ?? 'the IBC watcher is not healthy' }
    }
  }
}
