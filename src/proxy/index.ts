/**
 * The proxy: intent-gate's data path (docs/specification.md section 3). One listener serves three routes:
 *   POST <intent_path>       the submission handler (body limit, JSON, version, validation, idempotency, atomic
 *                            admission in the store, translation, forward to the active color, bind or release)
 *   GET  <intent_path>/<id>  the status read, routed to the upstream that owns the intent
 *   everything else          pass-through to the active color (WebSocket upgrades included)
 * plus the upstream pools with their active health checks, and the reconciler that ends inflight intents.
 *
 * API for the composition root (src/main.ts):
 *
 *   const proxy = createProxy({ config, store, versions, logger })
 *   await proxy.listen()                 // binds config.proxy.listen (port 0 allowed); reads the control state
 *                                        // first, starts health checks, the control watch and the reconciler
 *   proxy.address()                      // { host, port } once listening, else null
 *   proxy.url()                          // 'http://host:port'
 *   proxy.upstreams.states()             // UpstreamState[] per configured color (health, last check, versions)
 *   proxy.upstreams.get('blue')          // the color's Upstream (pool, config, state), or undefined
 *   proxy.activeColor()                  // the color new intents and pass-through go to right now
 *   proxy.controlState()                 // the last ControlState seen from the store (null before the first)
 *   proxy.setVersionsPolicy({ accepted, default, deprecated })   // run-time change of [versions]; throws
 *                                        // ConfigError naming the field when the policy is not usable
 *   proxy.versionsPolicy()               // the policy in force
 *   proxy.reconcileOnce()                // one reconciler round now (admin/tests); resolves to its report
 *   await proxy.close()                  // stop accepting, let open exchanges finish (shutdown_grace_secs),
 *                                        // close idle keep-alive connections, then the pools; idempotent
 *   await proxy.destroy()                // abort everything now; idempotent
 *
 * The proxy never decides drain policy: the store's `admit` does, atomically. It never imports prom-client:
 * it publishes on `src/observability/channels.ts`.
 */
export type { Proxy, ProxyAddress, ProxyOptions } from './types.js'
export type { UpstreamState, Upstream } from './upstreams.js'
export type { VersionsPolicy, VersionsPolicyInput } from './versions-policy.js'
export type { ReconcileReport } from './reconciler.js'
export { createProxy } from './proxy.js'
