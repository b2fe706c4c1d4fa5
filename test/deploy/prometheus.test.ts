// deploy/prometheus: the alert rules pass `promtool check rules`, and their unit tests (alerts.test.yml: each
// alert firing and not firing) pass `promtool test rules`. promtool comes with Debian's `prometheus` package
// (.ci/run installs it when missing).
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'

const execFileAsync = promisify(execFile)
const DIR = path.resolve(new URL('../../deploy/prometheus', import.meta.url).pathname)

async function promtool (...args: string[]): Promise<{ code: number, out: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('promtool', args, { cwd: DIR })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code: number | string, stdout?: string, stderr?: string }
    if (e.code === 'ENOENT') throw new Error('promtool is not installed: apt-get install prometheus (.ci/run does it)', { cause: err })
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

t.test('promtool check rules', async (t) => {
  const r = await promtool('check', 'rules', 'alerts.yml')
  t.equal(r.code, 0, r.out)
  t.match(r.out, /SUCCESS: \d+ rules found/)
})

t.test('promtool test rules: every alert is tested firing and not firing', async (t) => {
  const rules = parse(readFileSync(path.join(DIR, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> }
  const tests = parse(readFileSync(path.join(DIR, 'alerts.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }> }
  const cases = tests.tests.flatMap((c) => c.alert_rule_test)
  for (const name of rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a) => a !== undefined)) {
    t.ok(cases.some((c) => c.alertname === name && c.exp_alerts.length > 0), `${name} is tested firing`)
    t.ok(cases.some((c) => c.alertname === name && c.exp_alerts.length === 0), `${name} is tested not firing`)
  }
  const r = await promtool('test', 'rules', 'alerts.test.yml')
  t.equal(r.code, 0, r.out)
  t.match(r.out, /SUCCESS/)
})
