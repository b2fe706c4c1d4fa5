// deploy/kubernetes/base: every object validates against the Kubernetes schemas (kubernetes-models, offline),
// the kustomization lists exactly the files beside it, the fleet is laid out as documented (gateway replicas on
// one Redis namespace, blue and green intent services as upstreams, the preStop leave, grace covering it, no
// Secret in the base), the ConfigMap's TOML is a valid configuration, and the hook and probes work against a
// real gateway started from that TOML with a real Redis and a real chain. The Sentinel component
// (deploy/kubernetes/redis-sentinel, applied by deploy/kubernetes/with-sentinel) validates the same way, renders
// with `kubectl kustomize` into a gateway pointed at its Sentinels (its scripts run for real in
// kubernetes-sentinel.test.ts).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { DEFAULT_ADMIN_URL } from '../../src/admin/client.js'
import { loadConfig } from '../../src/config/load.js'
import { GATEWAY_BIN, request, spawnNode, startGateway, startService, TEST_TOKEN, waitFor } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { startChain } from '../chain/chain-process.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const BASE = path.join(ROOT, 'deploy/kubernetes/base')

interface Obj { apiVersion: string, kind: string, metadata: { name: string }, [k: string]: any }
const MODELS: Record<string, new (data: any) => { validate: () => void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
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
const deployment = find('Deployment', 'intent-gate')
const pod = deployment.spec.template.spec
const gateway = pod.containers.find((c: { name: string }) => c.name === 'intent-gate')
const toml = find('ConfigMap', 'intent-gate-config').data['intent-gate.toml'] as string

t.test('the kustomization lists every manifest beside it, and only those', async (t) => {
  const yamls = readdirSync(BASE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()
  t.same([...kustomization.resources].sort(), yamls)
})

t.test('every object validates against the Kubernetes schemas', async (t) => {
  t.same(objects.map(({ o }) => o.kind).sort(), ['ConfigMap', 'Deployment', 'Deployment', 'Deployment', 'PodDisruptionBudget', 'Service', 'Service', 'Service'])
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

t.test('the fleet: replicas on one Redis namespace, blue and green upstreams, each pod leaving by its preStop', async (t) => {
  t.ok(deployment.spec.replicas >= 2, 'several gateway replicas')
  t.notOk(pod.initContainers, 'no per-pod intent service: the upstreams are shared Deployments')
  t.ok(gateway, 'the gateway is the pod\'s container')
  const hook = gateway.lifecycle.preStop.exec.command as string[]
  t.same(hook.slice(0, 4), ['intent-gate', 'instance', 'leave', '--wait'], 'the preStop leaves this instance, never the fleet\'s drain')
  const deadline = Number(hook[hook.indexOf('--deadline-secs') + 1])
  const config = loadConfigText(toml, { INTENT_GATE_REDIS_URL: 'redis://redis:6379' })
  t.ok(deadline >= config.proxy.leave_grace_secs + config.proxy.shutdown_grace_secs, `the leave's deadline (${deadline} s) covers its grace and the open exchanges`)
  t.ok(pod.terminationGracePeriodSeconds >= deadline + 10, `grace ${String(pod.terminationGracePeriodSeconds)} s covers the leave (${deadline} s)`)
  t.same(gateway.readinessProbe.httpGet, { path: '/readyz', port: 'probes' })
  t.ok(gateway.readinessProbe.periodSeconds * gateway.readinessProbe.failureThreshold < config.proxy.leave_grace_secs,
    'the kubelet sees the leave\'s /readyz 503 within the leave grace')
  t.same(gateway.livenessProbe.httpGet, { path: '/healthz', port: 'probes' })
  t.match(deployment.spec.template.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' })

  const ports = Object.fromEntries((gateway.ports as Array<{ name: string, containerPort: number }>).map((p) => [p.name, p.containerPort]))
  t.match(config.admin.listen, /^127\.0\.0\.1:/, 'the admin API listens on loopback only')
  t.notOk('admin' in ports, 'and is not a container port')
  t.equal(ports.probes, Number(config.admin.probes_listen.split(':').pop()), 'the probes port is admin.probes_listen\'s')
  t.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], String(ports.probes), 'Prometheus scrapes the probe listener')
  t.equal(ports.proxy, Number(config.proxy.listen.split(':').pop()), 'the proxy port is proxy.listen\'s')
  t.equal(find('Service', 'intent-gate').spec.ports[0].targetPort, 'proxy', 'the Service sends clients to the proxy')
  t.notOk(hook.includes('--admin'))
  t.equal(new URL(DEFAULT_ADMIN_URL).port, config.admin.listen.split(':').pop(), 'the CLI\'s default --admin reaches admin.listen')

  // The upstreams are the two intent-service Services, on the ports their Deployments listen on.
  for (const color of ['blue', 'green'] as const) {
    const url = new URL(config.upstreams[color]?.url ?? '')
    const service = find('Service', url.hostname)
    t.equal(String(service.spec.ports[0].port), url.port, `${color}: the Service ${url.hostname} on ${url.port}`)
    const backing = find('Deployment', url.hostname)
    t.same(service.spec.selector, backing.spec.selector.matchLabels, `${color}: the Service selects its Deployment`)
    t.ok((backing.spec.template.spec.containers[0].command as string[]).includes(`0.0.0.0:${url.port}`), `${color}: the service listens on that port`)
  }
  t.equal(config.redis.url, 'redis://redis:6379', 'the Redis URL comes from the environment')
  t.equal(config.chain.enabled, true, 'the coordinator watches the chain')

  // No Secret ships (an apply would overwrite the operator's); each one the pod reads is created in deploy/README.md.
  t.same(objects.filter(({ o }) => o.kind === 'Secret'), [], 'no Secret in the base')
  const readme = readFileSync(path.join(ROOT, 'deploy/README.md'), 'utf8')
  const secretEnv = gateway.env as Array<{ name: string, valueFrom: { secretKeyRef: { name: string, key: string } } }>
  const env = Object.fromEntries(secretEnv.map((e) => [e.name, e.valueFrom.secretKeyRef]))
  for (const ref of Object.values(env)) t.match(readme, `kubectl create secret generic ${ref.name} --from-literal=${ref.key}=`, `deploy/README.md creates ${ref.name}`)
  t.ok(env[config.admin.token_env], 'the admin token comes from a Secret')
  t.ok(env.INTENT_GATE_REDIS_URL, 'the Redis URL comes from a Secret')
  t.ok(env[config.chain.signer_mnemonic_env], 'the signer mnemonic comes from a Secret')
  const selector = deployment.spec.selector.matchLabels
  t.match(deployment.spec.template.metadata.labels, selector)
  t.same(find('Service', 'intent-gate').spec.selector, selector)
  t.same(find('PodDisruptionBudget').spec.selector.matchLabels, selector)
})

/** The real loader on the ConfigMap's text: unknown keys or bad values fail here as they would at start. */
function loadConfigText (text: string, env: Record<string, string> = {}): ReturnType<typeof loadConfig> {
  const dir = path.join(os.tmpdir(), `intent-gate-k8s-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  try {
    writeFileSync(path.join(dir, 'intent-gate.toml'), text)
    return loadConfig({ file: path.join(dir, 'intent-gate.toml'), env })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

t.test('the hook and the probes work against a gateway run from the ConfigMap', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-k8s-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const [redis, chain, blue, green] = await Promise.all([
    startRedis(t), startChain(t, { blockMs: 100 }), startService(t, { versions: '1.0', settleMs: 200 }), startService(t, { versions: '2.0', settleMs: 200 })
  ])
  // The ConfigMap as it is; only what a test machine cannot have is overridden through the environment
  // (fixed ports, the pod's volume, the Services' and the chain's addresses; the Secret's Redis URL).
  const gw = await startGateway(t, {
    config: toml,
    env: {
      INTENT_GATE_PROXY_LISTEN: '127.0.0.1:0',
      INTENT_GATE_ADMIN_LISTEN: '127.0.0.1:0',
      INTENT_GATE_ADMIN_PROBES_LISTEN: '127.0.0.1:0',
      INTENT_GATE_REDIS_URL: redis.url,
      INTENT_GATE_UPSTREAMS_BLUE_URL: blue.url,
      INTENT_GATE_UPSTREAMS_GREEN_URL: green.url,
      INTENT_GATE_CHAIN_RPC_URL: chain.rpc,
      INTENT_GATE_CHAIN_CHAIN_ID: chain.info.chain_id,
      INTENT_GATE_CHAIN_SETTLEMENT_CONTRACT: chain.info.settlement_contract,
      INTENT_GATE_COORDINATOR_DATABASE: path.join(dir, 'intent-gate.sqlite'),
      INTENT_GATE_CHECKPOINT_CHECKPOINT_DIR: path.join(dir, 'checkpoints')
    }
  })
  // The kubelet probes the pod's address on the probe listener: its Host header is that address.
  const podHost = { host: '10.244.1.17:9091' }
  const probes = gw.probesUrl as string
  t.ok(probes, 'the ConfigMap starts the probe listener')
  // The chain's first reading and the coordinator's start-up reads: 20 s was short at load average 24.
  await waitFor('ready once the store and the chain answered', async () => ((await request(`${probes}/readyz`, { headers: podHost })).status === 200 ? true : undefined), 60_000)
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
  const fleet = await waitFor('registered in the namespace', async () => {
    const listed = (await gw.admin<{ instances: Array<{ state: string, self?: boolean }> }>('GET', '/admin/instances')).body.instances
    return listed.length > 0 ? listed : undefined
  })
  t.match(fleet, [{ state: 'serving', self: true }], 'registered in the namespace')

  // The kubelet's sequence: the preStop hook, then SIGTERM.
  const hook = gateway.lifecycle.preStop.exec.command as string[]
  const cli = spawnNode([GATEWAY_BIN, ...hook.slice(1), '--admin', gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  const exit = await cli.exited
  t.equal(exit.code, 0, `the preStop command exits 0 once the pod has left: ${cli.stderr()}`)
  t.match(cli.stdout(), /^state\s+left$/m)
  t.equal((await request(`${gw.adminUrl}/readyz`, { headers: podHost })).status, 503, 'not ready after the leave')
  t.equal(await redis.cli('GET', 'intent-gate:{default}:drain'), '', 'the fleet\'s drain switch untouched')
  t.equal((await gw.stop('SIGTERM')).code, 0, 'SIGTERM after the hook: exit 0')
})

// ---- the Sentinel component -------------------------------------------------------------------------------------

const SENTINEL = path.join(ROOT, 'deploy/kubernetes/redis-sentinel')
const component = readYaml(path.join(SENTINEL, 'kustomization.yaml'))[0] as unknown as { kind: string, resources: string[], patches: Array<{ path: string }> }
const sentinelObjects = component.resources.flatMap((file) => readYaml(path.join(SENTINEL, file)).map((o) => ({ file, o })))
const sentinelFind = (kind: string): Obj => {
  const hit = sentinelObjects.find(({ o }) => o.kind === kind)
  if (hit === undefined) throw new Error(`no ${kind} in the Sentinel component`)
  return hit.o
}
const statefulSet = sentinelFind('StatefulSet')
const envOf = (container: { env: Array<{ name: string, value?: string }> }): Record<string, string | undefined> =>
  Object.fromEntries(container.env.map((e) => [e.name, e.value]))

t.test('the Sentinel component: its files, valid objects, and a layout that holds together', async (t) => {
  t.equal(component.kind, 'Component')
  const yamls = readdirSync(SENTINEL).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()
  t.same([...component.resources, ...component.patches.map((p) => p.path)].sort(), yamls, 'every file beside it is a resource or a patch')
  t.same(sentinelObjects.map(({ o }) => o.kind).sort(), ['ConfigMap', 'PodDisruptionBudget', 'Service', 'StatefulSet'])
  for (const { file, o } of sentinelObjects) {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`]
    t.doesNotThrow(() => { if (Model === undefined) throw new Error('no schema'); new Model(o).validate() }, `${file}: ${o.kind} ${o.metadata.name}`)
  }
  const spec = statefulSet.spec
  const headless = sentinelFind('Service')
  t.equal(spec.serviceName, headless.metadata.name, 'the pods are named through the headless Service')
  t.equal(headless.spec.clusterIP, 'None')
  t.equal(headless.spec.publishNotReadyAddresses, true, 'a starting pod can find the others before it is ready')
  t.same(headless.spec.selector, spec.selector.matchLabels)
  t.same(sentinelFind('PodDisruptionBudget').spec, { maxUnavailable: 1, selector: spec.selector }, 'one Redis pod at a time')
  const [redis, sentinel] = spec.template.spec.containers as Array<{
    name: string
    env: Array<{ name: string, value?: string }>
    ports: Array<{ containerPort: number }>
  }>
  for (const c of [redis, sentinel]) {
    if (c === undefined) throw new Error('the StatefulSet has a redis and a sentinel container')
    const env = envOf(c)
    const pods = Array.from({ length: spec.replicas }, (_, i) => `${statefulSet.metadata.name as string}-${i}.${spec.serviceName as string}`)
    t.same(env.SENTINELS?.split(' '), pods.map((p) => `${p}:${String(sentinel?.ports[0]?.containerPort)}`), `${c.name}: every pod's Sentinel`)
    t.equal(env.FIRST, `${pods[0] ?? ''}:${String(redis?.ports[0]?.containerPort)}`, `${c.name}: pod 0 is the first primary`)
    t.equal(Number(env.QUORUM), Math.floor(spec.replicas / 2) + 1, `${c.name}: a majority decides a failover`)
    t.equal(env.SENTINEL_NAME, 'intent-gate')
  }
  const readme = readFileSync(path.join(ROOT, 'deploy/README.md'), 'utf8')
  t.match(readme, 'kubectl create secret generic intent-gate-redis --from-literal=password=', 'deploy/README.md creates its Secret')
})

t.test('with-sentinel renders the base pointed at the Sentinels', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async (t) => {
  const rendered = execFileSync('kubectl', ['kustomize', path.join(ROOT, 'deploy/kubernetes/with-sentinel')], { encoding: 'utf8' })
  const docs = parseAllDocuments(rendered).map((d) => d.toJS() as Obj)
  t.same(docs.map((o) => o.kind).sort(), [...objects.map(({ o }) => o.kind), ...sentinelObjects.map(({ o }) => o.kind)].sort(), 'the base and the component, nothing else')
  for (const o of docs) t.doesNotThrow(() => new (MODELS[`${o.apiVersion}/${o.kind}`] as new (d: any) => { validate: () => void })(o).validate(), `${o.kind} ${o.metadata.name}`)
  const gw = docs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'intent-gate')?.spec.template.spec.containers[0]
  const names = (gw.env as Array<{ name: string }>).map((e) => e.name)
  t.notOk(names.includes('INTENT_GATE_REDIS_URL'), 'the base\'s Redis URL is gone')
  const env = Object.fromEntries((gw.env as Array<{ name: string, value?: string }>)
    .filter((e) => e.value !== undefined)
    .map((e) => [e.name, e.value as string]))
  // REDIS_PASSWORD comes from the Secret in the pod.
  const config = loadConfigText(toml, { ...env, REDIS_PASSWORD: 'from-the-secret' })
  t.same(config.redis.sentinels, envOf(statefulSet.spec.template.spec.containers[0]).SENTINELS?.split(' '), 'the gateway asks every pod\'s Sentinel')
  t.equal(config.redis.sentinel_name, 'intent-gate')
  t.equal(config.redis.url, undefined)
  t.equal(config.redis.password_env, 'REDIS_PASSWORD')
  t.match(gw.env.find((e: { name: string }) => e.name === 'REDIS_PASSWORD'), { valueFrom: { secretKeyRef: { name: 'intent-gate-redis', key: 'password' } } })
})

function hasKubectl (): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
