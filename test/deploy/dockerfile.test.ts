// deploy/docker/Dockerfile cannot be built here (no registry for base images); this keeps it consistent with
// what is tested: it packs and installs the same tarball as test/package/install.test.ts, copies every input
// of the build, puts the package's binaries on PATH where the Kubernetes manifests call them, and runs as the
// non-root user the pod's securityContext names, under tini, with a health check on a real route.
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8')
const pkg = JSON.parse(read('package.json')) as { engines: { node: string }, bin: Record<string, string>, files: string[] }
const tsconfigBuild = JSON.parse(read('tsconfig.build.json')) as { include: string[] }

/** Instructions with continuation lines joined, comments dropped; split into stages at each FROM. */
function stages (text: string): Array<Array<{ op: string, args: string }>> {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const out: Array<Array<{ op: string, args: string }>> = []
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/)
    if (op.toUpperCase() === 'FROM') out.push([])
    out[out.length - 1]?.push({ op: op.toUpperCase(), args: rest.join(' ') })
  }
  return out
}

const [build = [], final = []] = stages(read('deploy/docker/Dockerfile'))
const deployment = parseAllDocuments(read('deploy/kubernetes/base/deployment.yaml'))[0]?.toJS()
const podSpec = deployment.spec.template.spec
const allArgs = (stage: typeof build, op: string): string[] => stage.filter((i) => i.op === op).map((i) => i.args)

t.test('two stages on the Node the package asks for', async (t) => {
  t.match(build[0]?.args, /^node:(\d+)\S* AS build$/)
  const major = Number(/>=\s*(\d+)/.exec(pkg.engines.node)?.[1])
  for (const stage of [build, final]) t.match(stage[0]?.args, new RegExp(`^node:${major}[-.]`), `FROM node:${major}`)
})

t.test('the build stage packs and installs the tarball the package test installs', async (t) => {
  const runs = allArgs(build, 'RUN').join('\n')
  t.match(runs, /npm ci\b/)
  t.match(runs, /npm run build/)
  t.match(runs, /npm pack\b/)
  t.match(runs, /tar -xzf \/tmp\/intent-gate-\*\.tgz -C \/app --strip-components=1/, 'the packed tarball is the app')
  t.match(runs, /cp package-lock\.json \/app\/package-lock\.json[\s\S]*npm ci --omit=dev/, 'its dependencies installed from the lockfile (npm ci), not resolved anew')
  t.notMatch(runs, /npm install\b/, 'no npm install: versions do not float at build time')
  const copied = allArgs(build, 'COPY').flatMap((a) => a.split(/\s+/).slice(0, -1))
  for (const input of [...tsconfigBuild.include, 'tools', 'migrations', 'package.json', 'tsconfig.build.json', 'tsconfig.json']) {
    t.ok(copied.includes(input), `COPY ${input} (an input of npm run build)`)
  }
  for (const entry of pkg.files.filter((f) => !f.startsWith('dist/') && !f.startsWith('!'))) {
    t.ok(copied.includes(entry.split('/')[0] as string), `COPY ${entry} (in the package's files)`)
  }
})

t.test('the final stage: binaries on PATH, non-root, tini, health check', async (t) => {
  const runs = allArgs(final, 'RUN').join('\n')
  for (const [name, target] of Object.entries(pkg.bin)) {
    t.ok(runs.includes(`ln -s /app/${target.replace(/^\.\//, '')} /usr/local/bin/${name}`), `${name} on PATH -> ${target}`)
  }
  t.match(runs, /apt-get install .*\btini\b/)
  const entrypoint = JSON.parse(allArgs(final, 'ENTRYPOINT')[0] ?? '[]') as string[]
  t.same(entrypoint, ['/usr/bin/tini', '--', 'intent-gate'])
  const user = allArgs(final, 'USER')[0] ?? ''
  const [uid, gid] = user.split(':').map(Number)
  t.ok(uid !== undefined && uid > 0, `USER ${user} is not root`)
  t.equal(uid, podSpec.securityContext.runAsUser, 'the pod runs as the image\'s user')
  t.equal(gid, podSpec.securityContext.runAsGroup)
  t.match(runs, new RegExp(`useradd .*--uid ${String(uid)}\\b`))

  const healthcheck = allArgs(final, 'HEALTHCHECK')[0] ?? ''
  const gateway = podSpec.containers.find((c: { name: string }) => c.name === 'intent-gate')
  // The admin port is on loopback in every shipped config; the kubelet asks the probes listener the same path.
  const adminListen = /\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"/.exec(read('config/intent-gate.toml'))?.[1]
  t.ok(healthcheck.includes(`http://127.0.0.1:${adminListen ?? '?'}${gateway.livenessProbe.httpGet.path as string}`), 'HEALTHCHECK asks the loopback admin port what the liveness probe asks')
  const probesPort = gateway.ports.find((p: { name: string }) => p.name === 'probes').containerPort as number
  t.match(allArgs(final, 'EXPOSE')[0], new RegExp(`\\b${probesPort}\\b`), 'the probes port is exposed')

  // The pods' commands exist in this image: the blue and green sample services run from it too.
  const services = parseAllDocuments(read('deploy/kubernetes/base/intent-service.yaml')).map((d) => d.toJS())
    .filter((d) => d?.kind === 'Deployment')
  t.equal(services.length, 2, 'blue and green intent services')
  for (const service of services) {
    const command = service.spec.template.spec.containers[0].command as string[]
    t.equal(command[0], entrypoint[0], `${service.metadata.name as string} runs under the same tini`)
    t.ok(Object.keys(pkg.bin).includes(command[2] as string), `${command[2] ?? ''} is a package binary`)
  }
  t.equal(gateway.lifecycle.preStop.exec.command[0], 'intent-gate')
})
