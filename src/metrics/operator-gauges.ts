/**
 * What an SRE expects on a dashboard before anything else: Node's own process metrics (prom-client's defaults:
 * CPU, memory, heap, event-loop lag, GC, handles), the build that runs, the active color, each upstream's health
 * and the drain's deadline (the "drain left on" alert). The last three are read on scrape from callbacks the
 * composition root passes in.
 */
import { readFileSync } from 'node:fs'
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client'
import { COLORS, type Color } from '../config/schema.js'

export interface OperatorSources {
  /** The color new intents go to. */
  activeColor?: () => Color
  /** Each configured upstream's health as the active checks see it. */
  upstreamHealth?: () => Array<{ color: Color, healthy: boolean }>
  /** The operator's drain deadline (ms), null without a drain or a deadline. */
  drainDeadlineMs?: () => Promise<number | null> | number | null
}

export function registerOperatorGauges (registry: Registry, sources: OperatorSources): void {
  const registers = [registry]
  collectDefaultMetrics({ register: registry })
  const build = new Gauge({ name: 'intent_gate_build_info', help: 'Always 1; the labels say which build runs', labelNames: ['version', 'node'], registers })
  build.set({ version: packageVersion(), node: process.versions.node }, 1)
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'intent_gate_active_color',
    help: '1 for the color new intents go to, 0 for the other',
    labelNames: ['color'],
    registers,
    collect () {
      if (sources.activeColor === undefined) return
      const active = sources.activeColor()
      for (const color of COLORS) this.set({ color }, color === active ? 1 : 0)
    }
  })
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'intent_gate_upstream_healthy',
    help: '1 while the upstream passes its active health check, 0 otherwise (unknown before its first check)',
    labelNames: ['color'],
    registers,
    collect () {
      for (const u of sources.upstreamHealth?.() ?? []) this.set({ color: u.color }, u.healthy ? 1 : 0)
    }
  })
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'intent_gate_drain_deadline_timestamp_seconds',
    help: 'Unix time of the operator drain\'s deadline; 0 without a drain or without a deadline',
    registers,
    async collect () {
      if (sources.drainDeadlineMs === undefined) return
      try {
        const ms = await sources.drainDeadlineMs()
        this.set(ms === null ? 0 : ms / 1000)
      } catch {
        // The store did not answer: keep the last value (a scrape must not fail because Redis is down).
      }
    }
  })
}

/** The package's version, from its package.json (one level above src/ in the sources, two in dist/). */
function packageVersion (): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'intent-gate' && typeof pkg.version === 'string') return pkg.version
    } catch {}
  }
  return 'unknown'
}
