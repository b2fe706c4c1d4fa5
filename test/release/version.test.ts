// `intent-gate --version` names the release and, with --json, the key layouts it writes and reads; the release
// is package.json's version and has its entry in CHANGELOG.md.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { runCli } from '../helpers/gateway.js'

const root = new URL('../..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }

t.test('--version prints the release, --json adds the layouts', async (t) => {
  const plain = await runCli(['--version'])
  t.equal(plain.code, 0)
  t.equal(plain.stdout, `intent-gate ${pkg.version}\n`)
  t.equal((await runCli(['-V'])).stdout, plain.stdout, '-V is the same')

  const json = await runCli(['--version', '--json'])
  t.equal(json.code, 0)
  const doc = JSON.parse(json.stdout) as { name: string, version: string, layout: { writes: number, reads: number[] } }
  t.equal(doc.version, pkg.version)
  t.equal(doc.name, 'intent-gate')
  t.ok(doc.layout.reads.includes(doc.layout.writes), 'it reads the layout it writes')
  t.same(doc.layout.reads, [...doc.layout.reads].sort((a, b) => a - b), 'reads ascending')
})

t.test('--version with anything but --json is a usage error naming it', async (t) => {
  const bad = await runCli(['--version', 'serve'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--version takes only --json, not "serve"/)
})

t.test('the version is semver and CHANGELOG.md has its entry', async (t) => {
  t.match(pkg.version, /^\d+\.\d+\.\d+$/)
  const changelog = readFileSync(`${root}CHANGELOG.md`, 'utf8')
  t.match(changelog, new RegExp(`^## ${pkg.version.replaceAll('.', '\\.')} `, 'm'), 'a heading for this release')
})
