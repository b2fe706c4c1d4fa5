// deploy/kubernetes/base: every object validates against the Kubernetes schemas (kubernetes-models, offline),
// the kustomization lists exactly the files beside it, the pod is laid out as documented (the intent service a
// native sidecar, the gateway's preStop drain, grace covering it), the ConfigMap's TOML is a valid
// configuration, and the hook and probes work against a real gateway started from that TOML.
import t from 'tap'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { DEFAULT_ADMIN_URL } from '../../src/admin/client.js'
import { loadConfig } from '../../src/config/load.js'
import { GATEWAY_BIN, request, spawnNode, startGateway, startService, TEST_TOKEN } from '../helpers/gateway.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const BASE = path.join(ROOT, 'deploy/kubernetes/base')

interface Obj { apiVersion: string, kind: string, metadata: { name: string }, [k: string]: any }
const MODELS: Record<string, new (data: any) => { validate: () => void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget
}

function readYaml (file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? ''}`)
    return doc.toJS() as Obj
  })
}

const kustomization = readYaml(path.join(BASE, 'kustomization.yaml'))[0] as unknown as { resources: string[] }
const objects = kustomization.resources.flatMap((file) => readYaml(path.join(BASE, file)).map((o) => ({ file, o })))
const find = (kind: string, name?: string): Obj => {
  const hit = objects.find(({ o }) => o.kind === kind && (name === undefined || o.metadata.name === name))
  if (hit === undefined) throw new Error(`no ${kind} ${name ?? ''} in the base`)
  return hit.o
}
const deployment = find('Deployment')
const pod = deployment.spec.template.spec
const gateway = pod.containers.find((c: { name: string }) => c.name === 'intent-gate')
const toml = find('ConfigMap', 'intent-gate-config').data['intent-gate.toml'] as string

t.test('the kustomization lists every manifest beside it, and only those', async (t) => {
  const yamls = readdirSync(BASE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()
  t.same([...kustomization.resources].sort(), yamls)
})

t.test('every object validates against the Kubernetes schemas', async (t) => {
  t.same(objects.map(({ o }) => o.kind).sort(), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Secret', 'Service'])
  for (const { file, o } of objects) {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`]
    if (Model === undefined) {
      t.fail(`${file}: no schema for ${o.apiVersion} ${o.kind}`)
      continue
    }
    t.doesNotThrow(() => new Model(o).validate(), `${file}: ${o.kind} ${o.metadata.name}`)
  }
})

t.test('the validation catches a broken object (it is not a no-op)', async (t) => {
  const broken = structuredClone(deployment)
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty'
  t.throws(() => new Deployment(broken).validate())
  t.throws(() => new Deployment({ ...structuredClone(deployment), spec: { ...deployment.spec, replicas: 'two' } }).validate())
})

t.test('the pod: intent service as native sidecar, gateway drained by its preStop within the grace period', async (t) => {
  t.equal(pod.initContainers.length, 1)
  t.match(pod.initContainers[0], { name: 'intent-service', restartPolicy: 'Always' }, 'native sidecar: started first, stopped after the gateway')
  t.ok(gateway, 'the gateway is the main container')
  const hook = gateway.lifecycle.preStop.exec.command as string[]
  t.same(hook.slice(0, 4), ['intent-gate', 'drain', 'start', '--wait'])
  const deadline = Number(hook[hook.indexOf('--deadline-secs') + 1])
  const config = loadConfigText(toml)
  t.ok(pod.terminationGracePeriodSeconds >= deadline + config.proxy.shutdown_grace_secs + 10,
    `grace ${String(pod.terminationGracePeriodSeconds)} s covers the drain (${deadline} s) and the shutdown (${config.proxy.shutdown_grace_secs} s)`)
  t.same(gateway.readinessProbe.httpGet, { path: '/readyz', port: 'probes' })
  t.same(gateway.livenessProbe.httpGet, { path: '/healthz', port: 'probes' })

  const ports = Object.fromEntries((gateway.ports as Array<{ name: string, containerPort: number }>).map((p) => [p.name, p.containerPort]))
  t.match(config.admin.listen, /^127\.0\.0\.1:/, 'the admin API listens on loopback only')
  t.notOk('admin' in ports, 'and is not a container port')
  t.equal(ports.probes, Number(config.admin.probes_listen.split(':').pop()), 'the probes port is admin.probes_listen\'s')
  t.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], String(ports.probes), 'Prometheus scrapes the probe listener')
  t.equal(ports.proxy, Number(config.proxy.listen.split(':').pop()), 'the proxy port is proxy.listen\'s')
  t.equal(find('Service').spec.ports[0].targetPort, 'proxy', 'the Service sends clients to the proxy')
  // The hook runs with the CLI's default admin URL, which must be where this configuration listens.
  t.notOk(hook.includes('--admin'))
  t.equal(new URL(DEFAULT_ADMIN_URL).port, config.admin.listen.split(':').pop(), 'the CLI\'s default --admin reaches admin.listen')

  const env = Object.fromEntries((gateway.env as Array<{ name: string, valueFrom: { secretKeyRef: { name: string, key: string } } }>).map((e) => [e.name, e.valueFrom.secretKeyRef]))
  for (const ref of Object.values(env)) {
    t.ok(find('Secret', ref.name).stringData[ref.key] !== undefined, `secret ${ref.name} has ${ref.key}`)
  }
  t.ok(env[config.admin.token_env], 'the admin token comes from a Secret')
  t.ok(env[config.chain.signer_mnemonic_env], 'the signer mnemonic comes from a Secret')
  const selector = deployment.spec.selector.matchLabels
  t.match(deployment.spec.template.metadata.labels, selector)
  t.same(find('Service').spec.selector, selector)
  t.same(find('PodDisruptionBudget').spec.selector.matchLabels, selector)
})

/** The real loader on the ConfigMap's text: unknown keys or bad values fail here as they would at start. */
function loadConfigText (text: string): ReturnType<typeof loadConfig> {
  const dir = path.join(os.tmpdir(), `intent-gate-k8s-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  try {
    writeFileSync(path.join(dir, 'intent-gate.toml'), text)
    return loadConfig({ file: path.join(dir, 'intent-gate.toml'), env: {} })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

t.test('the hook and the probes work against a gateway run from the ConfigMap', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-k8s-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const service = await startService(t, { versions: '1.0', settleMs: 200 })
  // The ConfigMap as it is; only what a test machine cannot have is overridden through the environment
  // (fixed ports, the pod's volume, the sidecar's address).
  const gw = await startGateway(t, {
    config: toml,
    env: {
      INTENT_GATE_PROXY_LISTEN: '127.0.0.1:0',
      INTENT_GATE_ADMIN_LISTEN: '127.0.0.1:0',
      INTENT_GATE_ADMIN_PROBES_LISTEN: '127.0.0.1:0',
      INTENT_GATE_UPSTREAMS_BLUE_URL: service.url,
      INTENT_GATE_COORDINATOR_DATABASE: path.join(dir, 'intent-gate.sqlite'),
      INTENT_GATE_CHECKPOINT_CHECKPOINT_DIR: path.join(dir, 'checkpoints')
    }
  })
  // The kubelet probes the pod's address on the probe listener: its Host header is that address.
  const podHost = { host: '10.244.1.17:9091' }
  const probes = gw.probesUrl as string
  t.ok(probes, 'the ConfigMap starts the probe listener')
  for (const probe of [gateway.startupProbe, gateway.readinessProbe, gateway.livenessProbe]) {
    const r = await request(`${probes}${probe.httpGet.path as string}`, { headers: podHost })
    t.equal(r.status, 200, `${probe.httpGet.path as string} answers the kubelet`)
  }
  const metrics = await fetch(`${probes}/metrics`, { headers: podHost })
  t.equal(metrics.status, 200, 'Prometheus scrapes /metrics there')
  t.match(await metrics.text(), /^inflight_settlements /m)
  for (const path of ['/status', '/status/events', '/admin/drain/status', '/admin/openapi.json']) {
    t.equal((await request(`${probes}${path}`, { headers: { ...podHost, authorization: `Bearer ${TEST_TOKEN}` } })).status, 404, `${path} is not on the probe listener`)
  }
  const hook = gateway.lifecycle.preStop.exec.command as string[]
  const cli = spawnNode([GATEWAY_BIN, ...hook.slice(1), '--admin', gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  const exit = await cli.exited
  t.equal(exit.code, 0, `the preStop command exits 0 on an idle gateway: ${cli.stderr()}`)
  t.match(cli.stdout(), /^mode\s+drained$/m)
  t.match(cli.stdout(), /^reason\s+pod terminating$/m)
})
