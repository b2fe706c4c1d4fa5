/**
 * Thin adapters from the real parts to the coordinator's ports: the upstreams' health paths (probed directly),
 * the versions module's stored-intent migration, and the settlement contract client. The composition root
 * (src/main.ts) builds them; nothing here holds state of its own.
 */
import type { Color, Config } from '../config/schema.js'
import type { ContractClient } from '../chain/contract-client.js'
import type { Catalog } from '../versions/catalog.js'
import { migrateStoredIntents } from '../versions/stored-intents.js'
import type { JsonObject } from '../versions/spec.js'
import type { InflightRecord } from '../store/types.js'
import type { IbcWatcher } from '../ibc/watcher.js'
import type { ApiPort, ContractPort, HealthStatus, IbcPort, StoredIntentMigrator, UpstreamPort } from './ports.js'

/** Probes `<url><health_path>` of each configured upstream; any 2xx is healthy. */
export function httpUpstreamPort (upstreams: Config['upstreams']): UpstreamPort {
  const colors = (Object.keys(upstreams) as Color[]).filter((c) => upstreams[c] !== undefined)
  return {
    colors: () => colors,
    versionsOf: (color) => upstreams[color]?.versions ?? [],
    probe: async (color, signal) => {
      const upstream = upstreams[color]
      if (upstream === undefined) return { status: 'unhealthy', reason: `upstream ${color} is not configured` }
      return await probeUrl(new URL(upstream.health_path, upstream.url).href, signal)
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
      if (!(upstreams[record.upstream]?.versions ?? []).includes(targetVersion)) return null
      const report = migrateStoredIntents(catalog, [{ key: record.key, version: record.upstream_version, intent: record.intent as JsonObject }], targetVersion)
      const migrated = report.migrated_records[0]
      if (report.failed !== null || migrated === undefined) return null
      return { ...record, upstream_version: targetVersion, intent: migrated.intent }
    }
  }
}

export function contractPort (client: ContractClient, txTimeoutBlocks = 20): ContractPort {
  const info = async (): ReturnType<ContractPort['info']> => {
    const [state, version] = await Promise.all([client.contractState(), client.contractVersion()])
    return { address: state.address, code_id: state.codeId, contract: version.contract, version: version.version, admin: state.admin ?? null }
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
export function ibcPort (watcher: Pick<IbcWatcher, 'pending' | 'state'>): IbcPort {
  return {
    pending: async () => watcher.pending().map((p) => ({ channel: p.channel, port: p.port, sequence: p.sequence, sent_height: p.sent_height ?? undefined, age_secs: p.age_secs })),
    health: async () => {
      const s = watcher.state()
      return s.healthy ? { status: 'healthy' } : { status: 'unhealthy', reason: s.reason ?? 'the IBC watcher is not healthy' }
    }
  }
}
