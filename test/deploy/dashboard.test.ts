// deploy/grafana/intent-gate.json and deploy/prometheus/alerts.yml name only metrics the gateway exports: every
// query is parsed as PromQL (the Prometheus project's own grammar) and each metric it selects must appear in a
// live /metrics scrape of a running gateway (a histogram as its _bucket, _sum and _count series).
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parser } from '@prometheus-io/lezer-promql'
import { parse } from 'yaml'
import { gatewayToml, startGateway, startService } from '../helpers/gateway.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)

interface Panel { title: string, type: string, targets?: Array<{ expr: string }>, panels?: Panel[] }

/** Grafana's own variables are not PromQL; each stands for a duration. */
const asPromql = (expr: string): string => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m')

/** The metric names an expression selects; throws on a syntax error. */
export function selectedMetrics (expr: string): string[] {
  const text = asPromql(expr)
  const names: string[] = []
  let error: number | null = null
  parser.parse(text).iterate({
    enter (node) {
      if (node.type.isError) error = node.from
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(text.slice(node.from, node.to))
    }
  })
  if (error !== null) throw new Error(`not PromQL at ${String(error)}: ${expr}`)
  return names
}

function exportedNames (scrape: string): Set<string> {
  const names = new Set<string>()
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string]
    names.add(name)
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
  }
  return names
}

t.test('the parser sees every selector, and refuses what is not PromQL', async (t) => {
  t.same(selectedMetrics('sum by (le) (rate(a_bucket{x="1"}[$__rate_interval])) / on() max(b) and c offset 5m'), ['a_bucket', 'b', 'c'])
  t.throws(() => selectedMetrics('sum(rate(a[5m])'))
})

t.test('dashboard and alert rules query only exported metrics', async (t) => {
  const service = await startService(t, { versions: '1.0' })
  const gw = await startGateway(t, { config: gatewayToml({ blue: service.url }) })
  const exported = exportedNames(await (await fetch(`${gw.adminUrl}/metrics`)).text())
  t.ok(exported.has('inflight_settlements'), 'the scrape is the gateway\'s')
  // Prometheus' own series per scrape target (the gateway-down alert), not the gateway's.
  exported.add('up')

  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/intent-gate.json'), 'utf8')) as { panels: Panel[], title: string }
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
  const queries = panels.flatMap((p) => (p.targets ?? []).map((q) => ({ where: `panel "${p.title}"`, expr: q.expr })))
  t.ok(queries.length >= 15, `${queries.length} dashboard queries`)

  const rules = parse(readFileSync(path.join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string, expr: string }> }> }
  for (const r of rules.groups.flatMap((g) => g.rules)) queries.push({ where: `alert ${r.alert}`, expr: r.expr })

  const used = new Set<string>()
  for (const q of queries) {
    const names = selectedMetrics(q.expr)
    t.ok(names.length > 0, `${q.where} selects a metric`)
    for (const name of names) {
      used.add(name)
      t.ok(exported.has(name), `${q.where}: ${name} is exported`)
    }
  }
  // What the issue asks the dashboard to show.
  for (const name of ['inflight_settlements', 'upgrade_state', 'intent_gate_refusals_total', 'intent_gate_holds_total',
    'intent_gate_upstream_latency_seconds_bucket', 'intent_gate_ibc_pending_packets', 'drain_duration_seconds_sum', 'upgrade_duration_seconds_sum']) {
    t.ok(used.has(name), `the dashboard shows ${name}`)
  }
  // Issue 28: Node's process metrics, the build, the active color and each upstream's health are exported.
  for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds_bucket',
    'intent_gate_build_info', 'intent_gate_active_color', 'intent_gate_upstream_healthy', 'intent_gate_drain_deadline_timestamp_seconds']) {
    t.ok(exported.has(name), `${name} is exported`)
  }
  const scrape = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.match(scrape, /^intent_gate_build_info\{version="\d+\.\d+\.\d+",node="\d+\.\d+\.\d+"\} 1$/m)
  t.match(scrape, /^intent_gate_active_color\{color="blue"\} 1$/m)
  t.match(scrape, /^intent_gate_active_color\{color="green"\} 0$/m)
  // Every query of the dashboard filters by its job and namespace variables.
  const vars = (dashboard as unknown as { templating: { list: Array<{ name: string }> } }).templating.list.map((v) => v.name)
  t.match(vars, ['datasource', 'job', 'namespace'])
  for (const q of queries.filter((q) => q.where.startsWith('panel'))) t.match(q.expr, /job=~"\$job",namespace=~"\$namespace"/, `${q.where} filters by job and namespace`)
})
