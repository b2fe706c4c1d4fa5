// deploy/systemd/intent-gate.service starts on a fresh machine: `systemd-analyze verify` accepts it, and every
// path it names that a fresh machine lacks is optional (`-`) or one systemd creates itself (StateDirectory=):
// a required ReadWritePaths= entry that does not exist stops the unit before the gateway runs.
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const UNIT = path.join(ROOT, 'deploy/systemd/intent-gate.service')
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze'

/** `Key=value` lines of the unit (comments dropped). */
function directives (): Array<[string, string]> {
  return readFileSync(UNIT, 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string])
}

t.test('systemd-analyze verify accepts the unit', { skip: existsSync(SYSTEMD_ANALYZE) ? false : `${SYSTEMD_ANALYZE} is missing (apt-get install systemd)` }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-unit-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  copyFileSync(UNIT, path.join(dir, 'intent-gate.service'))
  const { stdout, stderr } = await promisify(execFile)(SYSTEMD_ANALYZE, ['verify', path.join(dir, 'intent-gate.service')])
  t.equal(`${stdout}${stderr}`.split('\n').filter((l) => l.includes('intent-gate.service')).join('\n'), '', 'no complaint about the unit')
})

t.test('every path a fresh machine lacks is optional or created by systemd', async (t) => {
  const all = directives()
  const state = all.filter(([k]) => k === 'StateDirectory').map(([, v]) => `/var/lib/${v}`)
  t.same(state, ['/var/lib/intent-gate'])
  const created = (p: string): boolean => state.some((s) => p === s || p.startsWith(`${s}/`))
  for (const [key, value] of all.filter(([k]) => ['ReadWritePaths', 'ReadOnlyPaths', 'InaccessiblePaths', 'EnvironmentFile', 'WorkingDirectory'].includes(k))) {
    for (const entry of value.split(/\s+/)) {
      t.ok(entry.startsWith('-') || created(entry), `${key}=${entry}: optional (-) or under the StateDirectory`)
    }
  }
  const exec = all.find(([k]) => k === 'ExecStart')?.[1] ?? ''
  t.match(exec, /^\/usr\/bin\/env node \/opt\/intent-gate\/dist\/src\/cli\/main\.js serve --config \/etc\/intent-gate\/intent-gate\.toml$/, 'node found on the PATH, the package where the install notes put it')
  t.equal(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin['intent-gate'], 'dist/src/cli/main.js')
})
