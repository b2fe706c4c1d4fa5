/**
 * Starts intent-gate (`node dist/src/cli/main.js serve --config FILE`) as its own process, with a config file
 * written for the case: loopback ports, the bench's Redis under a namespace of its own, the case's upstreams,
 * no chain, log level `warn` (a log line per request would be measured too).
 */
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { configHasKey } from './config-keys.js'
import { freePort } from './ports.js'
import { ChildFailedError, type Child, type Resources } from './resources.js'
import type { Runtime } from './runtimes.js'

export const GATEWAY_MAIN = path.resolve('dist/src/cli/main.js')

export interface UpstreamSpec { url: string, versions: string[] }

export interface GatewaySpec {
  name: string
  /** The bench's Redis; absent: the embedded store. */
  redisUrl?: string
  namespace: string
  blue: UpstreamSpec
  green?: UpstreamSpec
  /** Keep-alive connections per upstream pool (the same count the bare proxies get). */
  connections: number
  /** Write a V8 CPU profile (`--cpu-prof`) into this dir when the gateway exits. */
  profileDir?: string
  /** Run with `--perf-basic-prof`, so Linux perf can name JavaScript frames. */
  perfMap?: boolean
  /** `[proxy] verify_signatures` (written only when the gateway knows the key); off unless asked for. */
  verifySignatures?: boolean
  /** `[redis] wait_replicas` (the caller checks the gateway knows the key). */
  waitReplicas?: number
  /**
   * `[proxy] max_keys_per_owner`. Default 1,000,000,000: every template intent of the bench has one owner, and the
   * gateway's default cap (100,000 keys held for the retention) would refuse (429) every submission of a row after
   * its 100,000th, which a row reaches in its third round. The cap is still checked on every admission.
   */
  maxKeysPerOwner?: number
  /** Lines added to `[proxy]` and `[admin]` (the attack measurements' bounds and caps). */
  proxyExtra?: string
  adminExtra?: string
  /** Default 600000: no reconciler round during a case (see below). */
  reconcileIntervalMs?: number
  /** Another Node than the bench's own (--runtimes); this checkout's build under process.execPath otherwise. */
  runtime?: Runtime
}

export interface Gateway {
  url: string
  adminUrl: string
  adminToken: string
  child: Child
}

/** True when the gateway's entry point has been built (the cases that need it are skipped otherwise). */
export function gatewayBuilt (): boolean {
  return existsSync(GATEWAY_MAIN)
}

function tomlString (s: string): string { return JSON.stringify(s) }
function tomlList (items: string[]): string { return `[${items.map(tomlString).join(', ')}]` }

function upstreamToml (color: string, up: UpstreamSpec, connections: number): string {
  return `[upstreams.${color}]
url = ${tomlString(up.url)}
versions = ${tomlList(up.versions)}
health_path = "/healthz"
connections = ${connections}
`
}

export function gatewayToml (spec: GatewaySpec, dir: string, proxyPort: number, adminPort: number): string {
  return `# written by bench/lib/gateway.ts for the case "${spec.name}"
[proxy]
listen = "127.0.0.1:${proxyPort}"
# Longer than any case: the reconciler's polling of every inflight intent is not part of the submission path.
reconcile_interval_ms = ${spec.reconcileIntervalMs ?? 600000}
${configHasKey('proxy', 'verify_signatures') ? `# The bench's template intents sign nothing; the verifying row sends really signed ones.\nverify_signatures = ${String(spec.verifySignatures === true)}\n` : ''}# The bench stops the gateway with SIGTERM once the load has ended (and a CPU profile is written on exit).
shutdown_grace_secs = 2
# No load balancer to tell: the default 5 s of admitting after SIGTERM would outlast the stop's 3 s (a SIGKILL).
leave_grace_secs = 0
max_keys_per_owner = ${spec.maxKeysPerOwner ?? 1_000_000_000}
${spec.proxyExtra ?? ''}
[admin]
listen = "127.0.0.1:${adminPort}"
${spec.adminExtra ?? ''}
${spec.redisUrl === undefined ? '' : `[redis]\nurl = ${tomlString(spec.redisUrl)}\nnamespace = ${tomlString(spec.namespace)}\n`}${spec.waitReplicas === undefined ? '' : `wait_replicas = ${spec.waitReplicas}\n`}
${upstreamToml('blue', spec.blue, spec.connections)}
${spec.green === undefined ? '' : upstreamToml('green', spec.green, spec.connections)}
[versions]
accepted = ["1.0", "2.0"]
default = "1.0"

[chain]
enabled = false

[coordinator]
database = ${tomlString(path.join(dir, 'intent-gate.sqlite'))}

[checkpoint]
checkpoint_dir = ${tomlString(path.join(dir, 'checkpoints'))}

[log]
level = "warn"
`
}

/** The caller's environment minus `INTENT_GATE_*`: an override left in a shell must not change the case. */
function environmentWithoutOverrides (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INTENT_GATE_')))
}

async function waitReady (child: Child, adminUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (!child.running()) throw new ChildFailedError(child.name, 'exited before it was ready', child.output())
    try {
      const res = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) return
      last = `/readyz answered ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    // Polling is the only readiness signal a config-file-driven process offers here; 50 ms keeps start-up short.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new ChildFailedError(child.name, `not ready after ${timeoutMs} ms (${last})`, child.output())
}

export async function startGateway (resources: Resources, spec: GatewaySpec): Promise<Gateway> {
  const dir = await resources.tempDir('gateway')
  const proxyPort = await freePort()
  const adminPort = await freePort()
  const configFile = path.join(dir, 'intent-gate.toml')
  await writeFile(configFile, gatewayToml(spec, dir, proxyPort, adminPort))
  const adminToken = `bench-${process.pid}-${Date.now()}`
  const profile = [...(spec.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', spec.profileDir]), ...(spec.perfMap === true ? ['--perf-basic-prof'] : [])]
  const { child } = await resources.start(spec.name, spec.runtime?.node ?? process.execPath, [...profile, spec.runtime?.main ?? GATEWAY_MAIN, 'serve', '--config', configFile], {
    env: { ...environmentWithoutOverrides(), INTENT_GATE_ADMIN_TOKEN: adminToken, NODE_ENV: 'production' },
    cwd: dir
  })
  const adminUrl = `http://127.0.0.1:${adminPort}`
  // Generous: on a 2-core machine at a load average of 30 a gateway took more than 20 s to start.
  await waitReady(child, adminUrl, 60_000)
  return { url: `http://127.0.0.1:${proxyPort}`, adminUrl, adminToken, child }
}
