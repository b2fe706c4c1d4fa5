/**
 * The composition root: the one place that builds every part, wires them together, starts them in order and
 * stops them in reverse. The configuration arrives loaded and validated (once, by `intent-gate serve`); secrets
 * are read from the environment it is given.
 *
 *   start: versions → logger → store → IBC watcher → metrics → proxy → admin (routes registered here)
 *          → contract client → coordinator → listen (proxy, admin) → coordinator contends for leadership
 *   stop:  the reverse: admin → proxy (open exchanges finish, up to proxy.shutdown_grace_secs) → coordinator →
 *          contract client → metrics → IBC watcher → store
 *
 * `runServe` adds the process around it: SIGTERM/SIGINT close gracefully and exit 0 (a second signal aborts
 * at once), and one JSON line on stdout says where it listens: {"proxy": "http://...", "admin": "http://..."}.
 */
import type { Config } from './config/schema.js'
import { createLogger, type Logger } from './log.js'
import { LayoutMismatchError } from './errors.js'
import { createMetrics } from './metrics/index.js'
import { createStore } from './store/index.js'
import { loadVersionCatalog, type Catalog } from './versions/index.js'
import { createProxy } from './proxy/index.js'
import { createAdminServer } from './admin/server.js'
import { createProbeListener } from './admin/probes.js'
import { adminToken } from './admin/token.js'
import { drainModeOf, upgradeStateValue } from './drain/status.js'
import { healthRoutes } from './admin/routes/health.js'
import { drainRoutes, readDrainStatus } from './admin/routes/drain.js'
import { inflightRoutes } from './admin/routes/inflight.js'
import { ibcRoutes } from './admin/routes/ibc.js'
import { upstreamsRoutes } from './admin/routes/upstreams.js'
import { versionsRoutes } from './admin/routes/versions.js'
import { upgradeRoutes } from './admin/routes/upgrade.js'
import { checkpointRoutes } from './admin/routes/checkpoints.js'
import { statusRoutes } from './admin/status/routes.js'
import { auditRoutes } from './admin/routes/audit.js'
import type { AuditLog } from './audit/audit-log.js'
import { noticeControlChanges } from './audit/control-noticer.js'
import { createContractClient, namedContractClients } from './chain/contract-client.js'
import { createCoordinatorPart } from './coordinator/index.js'
import { createIbcWatcher } from './ibc/watcher.js'
import { AdmissionGate } from './proxy/admission-gate.js'
import { runStartReads, type StartReads } from './instance/start-reads.js'
import { instanceIdBeside } from './instance/release.js'
import { KEY_LAYOUTS, RELEASE_VERSION } from './release.js'
import { Registration } from './instance/registration.js'
import { InstanceLeave } from './instance/leave.js'
import { instancesRoutes } from './admin/routes/instances.js'

export interface GatewayOptions {
  config: Config
  /** The environment the admin token (and other secrets) are read from. */
  env: Record<string, string | undefined>
  logger: Logger
  /** The version catalog, when the caller loaded it already; else built from `[versions] modules`. */
  versions?: Catalog
}

export interface Gateway {
  readonly proxyUrl: string
  readonly adminUrl: string
  /** The probe listener's URL (`[admin] probes_listen`), or null when there is none. */
  readonly probesUrl: string | null
  /** Graceful stop in reverse start order; idempotent. */
  close (): Promise<void>
  /** Immediate stop: open exchanges are aborted; idempotent. */
  destroy (): Promise<void>
  /** This instance leaves the fleet (src/instance/leave.ts); resolves once it has left. Idempotent. */
  leave (): Promise<void>
  /** A leave under way stops waiting (a second signal). */
  hurryLeave (): void
}

export async function startGateway (options: GatewayOptions): Promise<Gateway> {
  const { config, env, logger } = options
  const token = adminToken(config, env)
  const versions = options.versions ?? await loadVersionCatalog(config.versions.modules)
  const stops = new StopStack(logger)
  try {
    const instanceId = instanceIdBeside(config.coordinator.database)
    // What this instance admitted is kept beside its id, so a restarted process registers it again after a Redis
    // loss it was not running for (docs/store.md, "The admission journal").
    const journalFile = config.coordinator.database === ':memory:' ? undefined : `${config.coordinator.database}.admissions`
    const store = createStore(config.redis, { logger: logger.child({ component: 'store' }), endedRetentionSecs: config.proxy.idempotency_ttl_secs, env, instanceId, journalFile })
    stops.push(async () => { await store.close() })
    // The fleet's registry: refreshed while the process runs (and retried while the store is down), from the
    // moment the store has answered and found the namespace's key layout one this instance shares.
    const registration = new Registration({ store, id: instanceId, version: RELEASE_VERSION, layout: String(KEY_LAYOUTS.writes), logger: logger.child({ component: 'instance' }) })
    store.ready().then(() => { registration.start() }, () => {})
    stops.push(async () => { await registration.deregister() })
    // A store that is not up yet is waited for, closed (docs/specification.md section 3, *Starting before its store*): the
    // gate refuses submissions (503 store-unavailable) and /readyz says what it waits for until the start-up
    // reads below succeeded; only bad configuration ends the process.
    const gate = new AdmissionGate()
    let startReads: StartReads | null = null
    gate.waitFor('store', () => {
      if (store.health() === 'unavailable') return `the store (${store.kind}) cannot be reached yet`
      return startReads?.done() === true ? null : 'reading the coordinator\'s state from the store'
    })
    let waitedForStore = false
    store.ready().then(() => logger.info({ store: store.kind }, 'store ready'), (err: unknown) => {
      // Found after start-up stopped waiting (listening closed): it stays closed, refusing intents, and says why.
      if (err instanceof LayoutMismatchError && waitedForStore) logger.error({ err }, 'the namespace\'s key layout cannot be shared; refusing intents')
    })

    // The chain side exists only with `[chain] enabled`; without it nothing is pending on IBC. With it, a watcher
    // that cannot read the chain or has not caught up does not know: null, never 0 (docs/specification.md section 5).
    const watcher = config.chain.enabled ? createIbcWatcher({ config, store, logger }) : null
    if (watcher !== null) {
      await watcher.start()
      stops.push(async () => { await watcher.close() })
    }
    const pendingIbcPackets = (): number | null => watcher === null ? 0 : watcher.knownPendingCount()
    // The proxy is built below; the gauges read it on scrape only.
    let proxyRef: ReturnType<typeof createProxy> | null = null
    // Without one reading of the chain nothing pending on IBC is known: admitting would start inflight work no
    // drain can account for. Once read, a chain lost later leaves admission alone (the drain says unknown).
    if (watcher !== null) {
      gate.waitFor('chain', () => watcher.knownPendingCount() !== null ? null : `waiting for the chain RPC at ${config.chain.rpc_url} (${watcher.state().reason ?? 'not read yet'})`)
    }
    const metrics = createMetrics({
      inflightCount: async () => await store.inflightCount(),
      upgradeState: async () => {
        const control = await store.control()
        const busy = control.drain !== null || control.upgrade !== null
        const mode = drainModeOf(control, busy ? await store.inflightCount() : 0, pendingIbcPackets())
        return { value: upgradeStateValue(control, mode), sinceMs: control.drain?.started_at_ms ?? null }
      },
      pendingIbcPackets,
      operator: {
        activeColor: () => proxyRef?.activeColor() ?? config.proxy.initial_active,
        upstreamHealth: () => proxyRef?.upstreams.states().map((s) => ({ color: s.color, healthy: s.healthy })) ?? [],
        drainDeadlineMs: async () => {
          const drain = (await store.control()).drain
          return drain?.deadline_secs !== undefined && drain.started_at_ms !== undefined
            ? drain.started_at_ms + drain.deadline_secs * 1000
            : null
        }
      },
      instanceStates: () => {
        const fleet = registration.fleet()
        if (fleet === null) return null
        const states = { serving: 0, leaving: 0, gone: 0 }
        for (const r of fleet) states[r.state]++
        return states
      }
    })
    stops.push(() => { metrics.close() })

    const proxy = createProxy({ config, store, versions, logger, gate })
    proxyRef = proxy
    // The audit log lives in the coordinator's SQLite, opened below; no route is served before it exists.
    let audit: AuditLog | null = null
    const admin = createAdminServer({
      listen: config.admin.listen,
      token,
      logger,
      allowedHosts: config.admin.allowed_hosts,
      audit: (entry) => audit?.record(entry)
    })
    admin.register(healthRoutes({
      metrics,
      readiness: {
        store: () => {
          const health = store.health()
          if (health === 'recovering') return 'Redis lost its data: this instance is registering its inflight intents again'
          if (health === 'unavailable') return 'the store cannot be reached'
          return gate.waiting().store ?? null
        },
        chain: () => gate.waiting().chain ?? null,
        instance: () => (gate.isLeaving() ? `leaving the fleet (${leave.status().state}); the other instances admit` : null),
        proxy: () => (proxy.address() === null ? 'the proxy is not listening' : null)
      }
    }))
    admin.register(drainRoutes({ store, pendingIbcPackets }))
    admin.register(inflightRoutes({ store }))
    admin.register(ibcRoutes({ watcher }))
    admin.register(upstreamsRoutes({ proxy, store }))
    admin.register(versionsRoutes({ proxy }))
    const leave = new InstanceLeave({
      gate,
      proxy,
      pendingWrites: () => store.pendingRepairs(),
      flushWrites: async () => { await store.flushRepairs() },
      registration,
      leaveGraceSecs: config.proxy.leave_grace_secs,
      shutdownGraceSecs: config.proxy.shutdown_grace_secs,
      logger: logger.child({ component: 'instance' })
    })
    admin.register(instancesRoutes({
      store,
      self: instanceId,
      leave,
      onLeaveError: (err) => { logger.error({ err }, 'the leave failed') }
    }))

    const contract = config.chain.enabled && config.chain.settlement_contract !== ''
      ? createContractClient({ chain: config.chain, logger, env })
      : null
    if (contract !== null) stops.push(() => { contract.close() })
    const contracts = config.chain.enabled ? namedContractClients(config.chain, logger, env) : {}
    stops.push(() => { for (const client of Object.values(contracts)) client.close() })
    let adminListening = false
    const coordinator = await createCoordinatorPart({
      config,
      store,
      logger,
      catalog: versions,
      contract,
      contracts,
      ibc: watcher,
      upstreams: proxy.upstreams,
      readyzUrl: () => (adminListening ? `${admin.url()}/readyz` : null),
      instanceId
    })
    stops.push(async () => { await coordinator.close() })
    audit = coordinator.audit
    const stopNoticing = noticeControlChanges(store, coordinator.audit, logger)
    stops.push(stopNoticing)
    admin.register(auditRoutes({ audit: coordinator.audit }))
    // The upgrade status embeds the drain routes' DrainStatus.
    admin.register(upgradeRoutes({
      coordinator: coordinator.coordinator,
      drainStatus: async () => await readDrainStatus({ store, pendingIbcPackets })
    }))
    admin.register(checkpointRoutes({ files: coordinator.files }))
    admin.register(statusRoutes({
      admin,
      clients: () => proxy.clientStatus(),
      namespace: config.redis.namespace,
      instance: instanceId,
      maxStreams: config.admin.max_event_streams,
      maxStreamsPerPeer: config.admin.max_event_streams_per_peer
    }))

    let readsDone: () => void = () => {}
    const readsFinished = new Promise<void>((resolve) => { readsDone = resolve })
    startReads = runStartReads({
      storeReady: async () => { await store.ready() },
      reads: [coordinator.reassertFlag],
      onDone: () => {
        logger.info('start-up reads done; the coordinator contends for leadership')
        coordinator.start()
        readsDone()
      },
      logger
    })
    const reads = startReads
    stops.push(() => { reads.close() })
    // A store that answers at once makes a start that is open when it says it listens; one that does not is
    // waited for this long, then the gateway listens closed (and opens by itself once the reads are done).
    // A namespace on a key layout this release cannot share ends the start (exit 2), before anything listens.
    const layoutRefused = store.ready().then(async () => await new Promise<never>(() => {}))
    const storeReady = Promise.race([readsFinished, layoutRefused])
    if (!await resolvesWithin(storeReady, STORE_READY_WAIT_MS, (err) => err instanceof LayoutMismatchError)) {
      logger.warn({ waitedMs: STORE_READY_WAIT_MS }, 'the store is not reachable yet; listening closed (503 store-unavailable, /readyz says why) until it is')
    }
    waitedForStore = true

    await proxy.listen()
    stops.push(async () => { await proxy.close() })
    await admin.listen()
    stops.push(async () => { await admin.close() })
    adminListening = true
    let probesUrl: string | null = null
    if (config.admin.probes_listen !== '') {
      const probes = createProbeListener(config.admin.probes_listen, admin)
      probesUrl = await probes.listen()
      stops.push(async () => { await probes.close() })
    }

    return {
      proxyUrl: proxy.url(),
      adminUrl: admin.url(),
      probesUrl,
      close: async () => { await stops.stopAll() },
      leave: async () => { await leave.leave() },
      hurryLeave: () => { leave.hurry() },
      destroy: async () => {
        await proxy.destroy()
        await stops.stopAll()
      }
    }
  } catch (err) {
    await stops.stopAll()
    throw err
  }
}

/** How long start-up waits for the store's first answer (and the start-up reads) before listening closed. */
const STORE_READY_WAIT_MS = 5000

/** True when `promise` resolves within `ms`; false when it rejects or takes longer; a rejection `fatal` accepts is thrown. */
async function resolvesWithin (promise: Promise<unknown>, ms: number, fatal: (err: unknown) => boolean = () => false): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([promise.then(() => true, (err: unknown) => { if (fatal(err)) throw err; return false }), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** What has started, to be stopped in reverse; stopping twice waits for the first. */
class StopStack {
  private readonly stops: Array<() => Promise<void> | void> = []
  private stopping: Promise<void> | null = null

  constructor (private readonly logger: Logger) {}

  push (stop: () => Promise<void> | void): void {
    this.stops.push(stop)
  }

  async stopAll (): Promise<void> {
    this.stopping ??= (async () => {
      for (const stop of this.stops.splice(0).reverse()) {
        try {
          await stop()
        } catch (err) {
          this.logger.error({ err }, 'error while stopping')
        }
      }
    })()
    await this.stopping
  }
}

export interface ServeOptions {
  /** Loaded and validated by the caller (`intent-gate serve`), so configuration errors need not load the gateway. */
  config: Config
  env?: Record<string, string | undefined>
  /** The catalog `intent-gate serve` loaded (with `[versions] modules`) to check the configuration's versions. */
  versions?: Catalog
}

/**
 * `intent-gate serve`: starts the gateway, prints where it listens, and resolves with the exit status once a
 * signal has stopped it (0 after a graceful stop, 1 after a second signal aborted it or shutdown failed).
 */
export async function runServe (options: ServeOptions): Promise<number> {
  const { config } = options
  const env = options.env ?? process.env
  const logger = createLogger({ level: config.log.level })
  const gateway = await startGateway({ config, env, logger, versions: options.versions })
  process.stdout.write(JSON.stringify({ proxy: gateway.proxyUrl, admin: gateway.adminUrl, ...(gateway.probesUrl === null ? {} : { probes: gateway.probesUrl }) }) + '\n')
  logger.info({ proxy: gateway.proxyUrl, admin: gateway.adminUrl }, 'intent-gate listening')

  return await new Promise<number>((resolve) => {
    let signalled = false
    let aborted = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        if (aborted) return
        aborted = true
        logger.warn({ signal }, 'second signal: aborting open exchanges')
        gateway.hurryLeave()
        gateway.destroy().then(() => resolve(1), () => resolve(1))
        return
      }
      signalled = true
      // A signal is a leave (docs/specification.md section 3, *Instances*): not ready at once, admitting through
      // proxy.leave_grace_secs, open exchanges finish, what only this process holds goes to the store.
      logger.info({ signal }, 'shutting down: leaving the fleet, letting open exchanges finish')
      gateway.leave().then(async () => { await gateway.close() }).then(() => {
        // An abort by a second signal ends the same stop: the status says it was not graceful.
        logger.info(aborted ? 'stopped (aborted)' : 'stopped')
        resolve(aborted ? 1 : 0)
      }, (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        resolve(1)
      })
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
}
