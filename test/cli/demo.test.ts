// `intent-gate demo` end to end (the BUILT binary, so run `npm run build` first): the whole world on this machine
// with a drain and an upgrade under live traffic, no intent failed, and nothing left running afterwards; Ctrl-C
// stops everything, and so does a SIGKILL of the demo itself; bad flags are usage errors.
import t, { type Test } from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { GATEWAY_BIN, spawnNode, waitFor, type Spawned } from '../helpers/gateway.js'
import { removeAbandonedDemoDirs } from '../../src/demo/work-dir.js'

/** Every URL the demo printed (gateway, admin API, services, chain). */
function printedUrls (out: string): string[] {
  return [...new Set(out.match(/http:\/\/127\.0\.0\.1:\d+/g) ?? [])]
}

/** The pids whose parent is `pid` (from /proc: every Linux has /proc/<pid>/stat). */
function childrenOf (pid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((p) => statOf(p)?.ppid === pid)
}

/** A process's state letter and parent, or null when it is gone. */
function statOf (pid: number): { state: string, ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: state ?? '?', ppid: Number(ppid) }
  } catch {
    return null
  }
}

/** Null once the process has ended (gone, or a zombie nobody reaped yet); else what it is, for the failure. */
function stillRunning (pid: number): string | null {
  const stat = statOf(pid)
  if (stat === null || stat.state === 'Z') return null
  let command = ''
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 300)
  } catch {}
  return `pid ${pid} (state ${stat.state}, parent ${stat.ppid}): ${command}`
}

async function refusesConnections (url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) })
    return false
  } catch (err) {
    return (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED'
  }
}

async function untilPrinted (p: Spawned, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (p.stdout().includes(text)) {
        p.child.stdout?.off('data', check)
        resolve()
      }
    }
    p.child.stdout?.on('data', check)
    p.exited.then(() => reject(new Error(`the demo exited before printing '${text}':\n${p.stdout()}\n${p.stderr()}`)), reject)
    check()
  })
}

/** QUICK's drain deadline (src/demo/timings.ts): the demo holds its drain this long, and no Retry-After exceeds it. */
const QUICK_DRAIN_SECS = 2

/**
 * The summary's slowest client during the drain, checked against itself and the drain: it waited at least every
 * Retry-After it was told (the client library never comes back early), its wait is the drain's refusal time from
 * its first refusal plus its time after `drain stop`, no Retry-After reached past the drain's deadline, and after
 * the stop it came back within its last Retry-After and jitter.
 */
function slowestClientIsTrue (t: Test, out: string): void {
  const m = /^\s*slowest client's extra wait \(drain\)\s+([\d.]+) s\s+\(refused ([\d.]+) s into the drain, told Retry-After ([\d, a-z]+) s; came back (-?[\d.]+) s and was accepted (-?[\d.]+) s after drain stop; the drain refused new intents for ([\d.]+) s\)$/m.exec(out)
  t.ok(m, 'the summary shows the slowest client\'s extra wait during the drain')
  if (m === null) return
  const [extra, into, back, accepted, refusedFor] = [m[1], m[2], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number]
  const told = (m[3] as string).split(' s, then ').map(Number)
  t.comment(`slowest client: waited ${extra} s more, told ${told.join(', ')} s, back ${back} s and accepted ${accepted} s after drain stop; the drain refused for ${refusedFor} s`)
  const sumTold = told.reduce((a, b) => a + b, 0)
  t.ok(told.every((s) => Number.isInteger(s) && s >= 1 && s <= QUICK_DRAIN_SECS), `every Retry-After between 1 s and the drain's ${QUICK_DRAIN_SECS} s deadline: ${told.join(', ')}`)
  t.ok(extra >= sumTold - 0.1, `it waited at least what it was told (${extra} s >= ${sumTold} s)`)
  // Each figure is rounded to 0.1 s on its own: they agree within that rounding.
  t.ok(Math.abs(extra - (refusedFor - into + accepted)) <= 0.15, `its wait is the drain's refusal from its first refusal plus its wait after the stop (${extra} = ${refusedFor} - ${into} + ${accepted})`)
  t.ok(accepted >= back - 0.05 && accepted >= 0, 'accepted once the drain was stopped, after it came back')
  // It came back within its last Retry-After and the library's jitter (at most max(250 ms, 20 %)) of the stop,
  // plus 1 s for a timer firing late on a machine busy with other tests.
  const last = told[told.length - 1] as number
  t.ok(back <= last + Math.max(0.25, last * 0.2) + 1, `came back within its last Retry-After and jitter after drain stop (${back} s)`)
}

t.test('demo --quick: drain and upgrade under live traffic, every intent accepted once and settled, none failed', async (t) => {
  const demo = spawnNode([GATEWAY_BIN, 'demo', '--quick'])
  t.teardown(() => { demo.child.kill('SIGKILL') })
  const exit = await demo.exited
  const out = demo.stdout()
  t.same(exit, { code: 0, signal: null }, `exit 0\n${out}\n${demo.stderr()}`)

  t.match(out, /^\s*failed\s+0$/m, 'the summary says 0 failed')
  const sent = Number(/^\s*intents sent\s+(\d+)$/m.exec(out)?.[1])
  const once = /^\s*accepted, each exactly once\s+(\d+)\s+\(the services recorded [\d +]+= (\d+), 0 twice\)$/m.exec(out)
  t.ok(sent > 0, `${sent} intents sent`)
  t.equal(Number(once?.[1]), sent, 'every intent sent was accepted')
  t.equal(Number(once?.[2]), sent, 'and the services recorded each exactly once')
  t.match(out, new RegExp(`^\\s*settled\\s+${sent}$`, 'm'), 'every accepted intent settled')
  const retried = Number(/^\s*refused with 503, then retried\s+(\d+) intents/m.exec(out)?.[1])
  t.ok(retried > 0, `${retried} intents were refused with 503 and retried`)

  t.match(out, /mode drained\s+inflight\s+0/, 'the drain reached drained with 0 inflight')
  slowestClientIsTrue(t, out)
  t.match(out, /503 answers with Retry-After\s+[1-9]\d* .*problem type urn:intent-gate:problem:draining$/m, 'clients were refused with the draining problem')
  t.match(out, /mode active: intents are accepted again/, 'the drain was stopped')
  for (const phase of ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming']) {
    t.match(out, new RegExp(`^\\s*${phase}\\s+[\\d.]+ s\\s+ok$`, 'm'), `phase ${phase} ok`)
  }
  t.match(out, /^\s*result\s+completed$/m)
  t.match(out, /^\s*settlement contract\s+code 1 -> 2$/m, 'the contract was migrated')
  t.match(out, /^\s*accepted by green \(2\.0\)\s+[1-9]\d* intents, all sent as 1\.0$/m, '1.0 clients were served by green')
  t.match(out, /Everything behaved/)

  const urls = printedUrls(out)
  t.ok(urls.length >= 5, `the demo printed where its parts listened: ${urls.join(' ')}`)
  for (const url of urls) t.ok(await refusesConnections(url), `${url} is stopped`)
  const config = /^\s*configuration\s+(\S+)$/m.exec(out)?.[1] as string
  t.notOk(existsSync(config), 'the temporary folder is removed')
})

t.test('Ctrl-C during the traffic stops every process and exits 130', async (t) => {
  const demo = spawnNode([GATEWAY_BIN, 'demo', '--quick', '--no-upgrade'])
  t.teardown(() => { demo.child.kill('SIGKILL') })
  await untilPrinted(demo, '[2/4] Steady traffic')
  // Only the demo gets the signal (a terminal would signal the whole group): it must stop its children itself.
  demo.child.kill('SIGINT')
  const exit = await demo.exited
  const out = demo.stdout()
  t.same(exit, { code: 130, signal: null }, `${out}\n${demo.stderr()}`)
  t.match(out, /Interrupted: stopping every process/)
  t.match(out, /All processes stopped/)
  const urls = printedUrls(out)
  t.ok(urls.length >= 3, 'the service, proxy and admin API were printed')
  for (const url of urls) t.ok(await refusesConnections(url), `${url} is stopped`)
})

t.test('killed outright (SIGKILL), the demo still leaves nothing running: its children stop on their own', async (t) => {
  const demo = spawnNode([GATEWAY_BIN, 'demo', '--quick', '--no-upgrade'])
  t.teardown(() => { demo.child.kill('SIGKILL') })
  // The first figures of the traffic: the load generator runs (it is started after the stage's heading).
  await untilPrinted(demo, '   accepted ')
  const urls = printedUrls(demo.stdout())
  t.ok(urls.length >= 3, 'the service, proxy and admin API were printed')
  // The processes themselves, not their ports: a port freed is soon another test's (tests run side by side).
  const children = childrenOf(demo.child.pid as number)
  t.ok(children.length >= 3, `the demo runs its service, gateway and traffic (${children.length} children)`)
  // No handler of the demo runs: each child got SIGTERM from the kernel (parent-death signal) and stops as on Ctrl-C.
  demo.child.kill('SIGKILL')
  t.same(await demo.exited, { code: null, signal: 'SIGKILL' })
  // The gateway admits for its leave grace (5 s) and then closes within its shutdown grace (5 s): 60 s is that
  // with room for a machine busy with other tests.
  for (const pid of children) {
    await waitFor(`child ${pid} of the demo to end`, async () => {
      const running = stillRunning(pid)
      if (running !== null) throw new Error(`still running: ${running}`)
      return true
    }, 60_000)
    t.pass(`child ${pid} ended`)
  }
  // Its folder stays (no handler ran); the next demo removes it at its start, as this call does.
  const dir = /configuration\s+(\S+)\/intent-gate\.toml/.exec(demo.stdout())?.[1] ?? ''
  t.ok(dir !== '' && existsSync(dir), `the killed demo's folder stays behind (${dir})`)
  t.ok((await removeAbandonedDemoDirs()).includes(dir), 'and the next demo removes it')
  t.notOk(existsSync(dir))
})

t.test('bad flags are usage errors naming the flag (exit 2)', async (t) => {
  const demo = spawnNode([GATEWAY_BIN, 'demo', '--rate', '0'])
  const exit = await demo.exited
  t.equal(exit.code, 2)
  t.match(demo.stderr(), /--rate must be a whole number of at least 1/)
  const chain = spawnNode([GATEWAY_BIN, 'demo', '--chain', 'geth'])
  t.equal((await chain.exited).code, 2)
  t.match(chain.stderr(), /--chain must be sandbox or wasmd \(got 'geth'\)/)
  const noUpgrade = spawnNode([GATEWAY_BIN, 'demo', '--chain', 'wasmd', '--no-upgrade'])
  t.equal((await noUpgrade.exited).code, 2)
  t.match(noUpgrade.stderr(), /--chain wasmd needs the upgrade stage \(drop --no-upgrade\)/)
})
