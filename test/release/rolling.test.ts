// A rolling update of intent-gate itself, and its rollback, under signed traffic: the previous release's real
// build (release/previous, built by test/helpers/release.ts) and this checkout's share one Redis namespace.
//
// Two previous-release instances take traffic; a new one joins and a previous one leaves (the fleet is mixed);
// on the mixed fleet an operator swaps blue → green → blue, drains and resumes, and runs a coordinated upgrade to
// green; the last previous instance is replaced; then a previous-release instance joins the new ones again (the
// gateway rolled back) and a new one leaves. Throughout: every intent accepted exactly once (each service's own
// ledger), none forwarded twice, no answer but 2xx or 503/409 with Retry-After, no refused connection; at each
// quiet point every instance of either release counts the same inflight number as Redis holds; at the end
// everything settles and the count reaches 0 on both releases.
//
// The services settle nothing by themselves: the test settles every inflight intent on its owner (as a chain
// would) when a drain needs it and at the end, so the counts compared at the quiet points stand still.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, startGateway, startService, metricValue, waitFor, type ServiceProcess } from '../helpers/gateway.js'
import { previousRelease } from '../helpers/release.js'
import { Fleet, Traffic, type Member } from './rolling-fleet.js'
import {
  ANSWER_TEMPLATE_LAYOUT, BOUND_HEADER_LAYOUT, HANDLE_LAYOUT, KEY_LAYOUTS, LEAN_LAYOUT, OWNER_COUNTS_LAYOUT, OWNER_HEADER_LAYOUT,
  REPLAY_SHARDS_LAYOUT
} from '../../src/release.js'

const NS = 'intent-gate:{default}:'
const RATE_PER_SEC = 5

/** Counts `inflight`'s values that end in a newline (layout 3's bound records) and the others, as "lean whole". */
const COUNT_FORMS = `local lean, whole = 0, 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  if string.sub(v, -1) == '\\n' then lean = lean + 1 else whole = whole + 1 end
end
return lean .. ' ' .. whole`

/**
 * Counts the answered records kept by a template's reference (layout 8) and all answered ones, in keys (`i:*`) and
 * in shards (`replays:<index>`, layout 9: `<expiry, 6><fingerprint, 20><answer>`), and those in shards.
 */
const COUNT_REFERENCES = `local referenced, answered, sharded = 0, 0, 0
for _, k in ipairs(redis.call('KEYS', ARGV[1] .. 'i:*')) do
  local v = redis.call('GET', k)
  if string.sub(v, 1, 1) == 'r' then
    answered = answered + 1
    if string.sub(v, 34, 34) == '#' then referenced = referenced + 1 end
  end
end
for _, k in ipairs(redis.call('KEYS', ARGV[1] .. 'replays:*')) do
  for _, v in ipairs(redis.call('HVALS', k)) do
    answered, sharded = answered + 1, sharded + 1
    if string.sub(v, 27, 27) == '#' then referenced = referenced + 1 end
  end
end
return referenced .. ' ' .. answered .. ' ' .. sharded`

t.setTimeout(20 * 60_000) // a cold build of the previous release takes minutes on a busy machine; warm, the test takes about a minute

t.test('two releases roll forward and back on one namespace under signed traffic', async (t) => {
  const previous = await previousRelease()
  t.comment(`previous release ${previous.version} (${previous.commit.slice(0, 7)}): ${previous.took.cached ? 'cached' : 'built'} in ${Math.round(previous.took.ms)} ms`)

  const began = performance.now()
  const redis = await startRedis(t)
  const [blue, green] = await Promise.all([
    startService(t, { versions: '1.0', settleMs: 600_000 }),
    startService(t, { versions: '1.0', settleMs: 600_000 })
  ])
  const services: Record<string, ServiceProcess> = { blue, green }
  // Only keys the previous release knows: both releases read this one file.
  const config = gatewayToml({
    redisUrl: redis.url,
    blue: blue.url,
    green: green.url,
    greenVersions: ['1.0'],
    reconcileIntervalMs: 100,
    extra: '[upgrade]\nmin_upgrade_interval_secs = 0\ndrain_timeout_secs = 180\n'
  })
  const fleet = new Fleet()
  const traffic = new Traffic(fleet, RATE_PER_SEC, String(process.pid))
  t.teardown(async () => { await traffic.close(); await fleet.close() })
  const start = async (name: string, release: 'previous' | 'current'): Promise<Member> =>
    await fleet.add(name, await startGateway(t, { config, bin: release === 'previous' ? previous.gatewayBin : undefined }))
  const admin = async <T>(m: Member, method: string, route: string, body?: unknown): Promise<{ status: number, body: T }> =>
    await m.gw.admin<T>(method, route, body)
  const named = (name: string): Member => {
    const m = fleet.live().find((x) => x.name === name)
    if (m === undefined) throw new Error(`no running ${name}`)
    return m
  }

  /** Settles every inflight intent on its owner (each once, eight at a time); the reconcilers then end them. */
  const forced = new Set<string>()
  const settleAll = async (via: Member): Promise<void> => {
    const list = await admin<Array<{ id: string | null, upstream: string }>>(via, 'GET', '/admin/inflight')
    const todo = list.body.filter((r) => r.id !== null && !forced.has(r.id))
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let r = todo.shift(); r !== undefined; r = todo.shift()) {
        const id = r.id as string
        const res = await fetch(`${(services[r.upstream] as ServiceProcess).url}/sandbox/intents/${encodeURIComponent(id)}`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'settled' })
        })
        await res.text()
        if (res.status === 200) forced.add(id)
      }
    }))
  }
  /** While `run` runs, every inflight intent is settled as it comes (a drain or an upgrade waits for them). */
  const settlingDuring = async <T>(via: () => Member, run: () => Promise<T>): Promise<T> => {
    const state = { on: true }
    const loop = (async () => {
      while (state.on) {
        await settleAll(via()).catch(() => {})
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    try {
      return await run()
    } finally {
      state.on = false
      await loop
    }
  }

  /** Traffic paused and answered: every running instance counts what Redis holds (admin API and /metrics). */
  const quietPoint = async (label: string): Promise<void> => {
    await traffic.pause()
    const held = Number(await redis.cli('HLEN', `${NS}inflight`))
    const counts = await Promise.all(fleet.live().map(async (m) => {
      const status = await admin<{ inflight_settlements: number }>(m, 'GET', '/admin/drain/status')
      const metrics = await (await fetch(`${m.gw.adminUrl}/metrics`)).text()
      return `${m.name}:${status.body.inflight_settlements}/${String(metricValue(metrics, 'inflight_settlements'))}`
    }))
    t.same(counts, fleet.live().map((m) => `${m.name}:${held}/${held}`),
      `${label} (${Math.round((performance.now() - began) / 1000)} s, ${traffic.count} sent): every instance counts the ${held} inflight intents Redis holds`)
    traffic.start()
  }
  /** The inflight records by form: bound ones of layout 3 (the header line alone) and whole ones. */
  const recordForms = async (): Promise<{ lean: number, whole: number }> => {
    const [lean, whole] = (await redis.cli('EVAL', COUNT_FORMS, '1', `${NS}inflight`)).split(' ').map(Number)
    return { lean: lean ?? 0, whole: whole ?? 0 }
  }
  const runFor = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
  const activeOf = async (m: Member): Promise<string> => (await admin<{ active: string }>(m, 'GET', '/admin/upstreams')).body.active

  // Two instances of the previous release, under traffic.
  await start('previous-1', 'previous')
  await start('previous-2', 'previous')
  traffic.start()
  await runFor(1500)
  await quietPoint('two previous')

  // The rolling update begins: a new instance joins, a previous one leaves.
  await start('current-1', 'current')
  t.equal(await redis.cli('GET', `${NS}layout`), String(KEY_LAYOUTS.writes), `the namespace is marked with the layout this build writes (${KEY_LAYOUTS.writes}); the previous release shares it`)
  await runFor(1000)
  t.equal(await fleet.remove('previous-1'), 0, 'previous-1 stopped gracefully')
  await runFor(1000)
  await quietPoint('mixed fleet')

  // A swap on the mixed fleet, each way through the other release.
  t.equal((await admin(named('previous-2'), 'POST', '/admin/upstreams/active', { color: 'green' })).status, 200, 'swap to green through the previous release')
  await waitFor('both releases route to green', async () => (await activeOf(named('current-1'))) === 'green' ? true : undefined)
  await runFor(1000)
  t.equal((await admin(named('current-1'), 'POST', '/admin/upstreams/active', { color: 'blue' })).status, 200, 'swap back to blue through the new release')
  await waitFor('both releases route to blue', async () => (await activeOf(named('previous-2'))) === 'blue' ? true : undefined)
  await runFor(500)
  await quietPoint('after the swaps')

  // A drain on the mixed fleet: started through the new release, seen drained by both, stopped through the previous.
  t.equal((await admin(named('current-1'), 'POST', '/admin/drain/start', { reason: 'rolling test' })).status, 200, 'drain started')
  await settlingDuring(() => named('current-1'), async () => {
    for (const name of ['current-1', 'previous-2']) {
      let last: unknown = null
      await waitFor(`${name} drained`, async () => {
        last = (await admin<{ mode: string }>(named(name), 'GET', '/admin/drain/status')).body
        return (last as { mode: string }).mode === 'drained' ? true : undefined
      }, 180_000, 100).catch((err: unknown) => {
        throw new Error(`${String(err)}; last drain status: ${JSON.stringify(last)}; HLEN and its log: ${named(name).gw.stderr().slice(-1500)}`)
      })
    }
  })
  t.pass('both releases report the namespace drained')
  t.equal((await admin(named('previous-2'), 'POST', '/admin/drain/stop')).status, 200, 'drain stopped')
  await runFor(1000)
  await quietPoint('after the drain')

  // A coordinated upgrade to green, asked of the previous release; whichever instance leads runs it.
  const started = await admin<{ id: string }>(named('previous-2'), 'POST', '/admin/upgrade/start', { target_version: '1.0', swap_to: 'green' })
  t.equal(started.status, 202, `upgrade started: ${JSON.stringify(started.body)}`)
  // Each instance keeps its own upgrade journal: the one that leads the run reports its end.
  const ended = await settlingDuring(() => named('current-1'), async () =>
    await waitFor('the upgrade to end', async () => {
      for (const m of fleet.live()) {
        const s = await admin<{ state: string, upgrade_id?: string, error?: string | null }>(m, 'GET', '/admin/upgrade/status')
        if (s.body.upgrade_id === started.body.id && ['completed', 'rolled_back', 'failed'].includes(s.body.state)) return s.body
      }
      return undefined
    }, 180_000, 100))
  t.equal(ended.state, 'completed', `the upgrade completed on the mixed fleet ${ended.error ?? ''}`)
  t.equal(await activeOf(named('previous-2')), 'green', 'the previous release routes to green after it')
  await runFor(1000)
  await quietPoint('after the upgrade')

  // The last previous instance is replaced.
  await start('current-2', 'current')
  await runFor(1000)
  t.equal(await fleet.remove('previous-2'), 0, 'previous-2 stopped gracefully')
  await runFor(1000)
  await quietPoint('two current')
  const forms = await recordForms()
  t.comment(`inflight records with two new instances: ${forms.lean} lean, ${forms.whole} whole`)
  if (KEY_LAYOUTS.writes >= LEAN_LAYOUT) t.ok(forms.lean > 0, 'this build writes lean records, and the previous release counted them above')
  // Layout 4's records are kept under handles (no `:`), layout 3's under their scopes (`o:...`).
  const fields = (await redis.cli('HKEYS', `${NS}inflight`)).split('\n').filter((f) => f !== '')
  t.comment(`inflight records under handles: ${fields.filter((f) => !f.includes(':')).length} of ${fields.length}`)
  if (KEY_LAYOUTS.writes >= HANDLE_LAYOUT) t.ok(fields.some((f) => !f.includes(':')), 'this build keeps records under handles, and the previous release counted them above')
  // Layout 6 keeps a record's owner in its header alone: the new instances make no `inflight:owner` entry.
  if (KEY_LAYOUTS.writes >= OWNER_HEADER_LAYOUT) {
    const records = Number(await redis.cli('HLEN', `${NS}inflight`))
    const entries = Number(await redis.cli('HLEN', `${NS}inflight:owner`))
    t.ok(entries < records, `records without an owner entry (${records - entries} of ${records}), which the previous release counted above`)
  }
  // Layout 7 binds a record in its header: the new instances make no `inflight:bound` entry (every id tracked in
  // `inflight:ids` is a bound record).
  if (KEY_LAYOUTS.writes >= BOUND_HEADER_LAYOUT) {
    const bound = Number(await redis.cli('HLEN', `${NS}inflight:ids`))
    const entries = Number(await redis.cli('HLEN', `${NS}inflight:bound`))
    t.ok(entries < bound, `bound records without a bound entry (${bound - entries} of ${bound}), which the previous release counted above`)
  }
  // Layout 8 keeps an answer seen before as a template's reference (`#<ref><id>` after the state and fingerprint).
  const [referenced, answered, sharded] = String(await redis.cli('EVAL', COUNT_REFERENCES, '0', NS)).split(' ').map(Number)
  if (KEY_LAYOUTS.writes >= ANSWER_TEMPLATE_LAYOUT) {
    t.ok((referenced ?? 0) > 0, `answers kept by a template's reference (${referenced} of ${answered}), which the previous release replays below`)
  }
  // Layout 9 keeps answered records and ended routes as fields of small hashes (shards).
  if (KEY_LAYOUTS.writes >= REPLAY_SHARDS_LAYOUT) {
    t.ok((sharded ?? 0) > 0, `answered records kept in shards (${sharded} of ${answered}), which the previous release replays below`)
    // Only new instances run now: the intents that end now (whichever instance's reconciler sees it first) keep
    // their routes in shards of their bucket.
    await settlingDuring(() => named('current-2'), async () => {
      await waitFor('routes kept in shards', async () => (await redis.cli('KEYS', `${NS}ended:ids:*:n`)) !== '' ? true : undefined, 60_000, 100)
    })
    const routeShards = (await redis.cli('KEYS', `${NS}ended:ids:*:n`)).split('\n').filter((k) => k !== '')
    t.ok(routeShards.length > 0, 'ended routes kept in shards of their bucket, which the previous release reads below')
  }
  // Layout 5 counts an owner's keys per time bucket (`oc:`); the step before keeps both forms, layout 5 no set (`ok:`).
  if (KEY_LAYOUTS.reads.includes(OWNER_COUNTS_LAYOUT)) {
    const setMembers = async (): Promise<number> => {
      let members = 0
      for (const key of (await redis.cli('KEYS', `${NS}ok:*`)).split('\n').filter((k) => k !== '')) members += Number(await redis.cli('ZCARD', key))
      return members
    }
    const before = await setMembers()
    await runFor(1000)
    t.ok((await redis.cli('KEYS', `${NS}oc:*`)) !== '', 'this build counts owners\' keys in buckets')
    const added = await setMembers() - before
    if (KEY_LAYOUTS.writes >= OWNER_COUNTS_LAYOUT) t.equal(added, 0, 'and adds no member to an owner\'s set')
    else t.ok(added > 0, `and still adds to the owner's set, which the previous release caps by (${added} members)`)
  }

  // Rolled back: a previous-release instance joins the new ones, and a new one leaves.
  await start('previous-3', 'previous')
  await runFor(1000)
  t.equal(await fleet.remove('current-1'), 0, 'current-1 stopped gracefully')
  await runFor(1500)
  await quietPoint('rolled back')
  t.equal(await redis.cli('GET', `${NS}layout`), String(KEY_LAYOUTS.writes), 'the rollback left the layout mark as it was')

  // Everything settles: the count reaches 0 on both releases.
  await traffic.pause()
  await settlingDuring(() => named('current-2'), async () => {
    for (const m of fleet.live()) {
      await waitFor(`${m.name} counts 0`, async () => (await admin<{ inflight_settlements: number }>(m, 'GET', '/admin/drain/status')).body.inflight_settlements === 0 ? true : undefined, 180_000, 100)
    }
  })
  t.equal(Number(await redis.cli('HLEN', `${NS}inflight`)), 0, 'nothing inflight in Redis')

  const results = traffic.answered
  t.ok(results.length > 5 * RATE_PER_SEC, `${results.length} intents sent`)
  t.same(traffic.violations, [], 'no answer but 2xx, or 503/409 with Retry-After')
  t.same(traffic.transportErrors, [], 'no refused or broken connection (instances leave the rotation before they stop)')
  t.same(results.filter((r) => !r.accepted).map((r) => r.key), [], 'every intent accepted')
  const [blueStats, greenStats] = await Promise.all([blue.stats(), green.stats()])
  t.equal(blueStats.duplicates + greenStats.duplicates, 0, 'no intent forwarded twice (the services saw no resubmission)')
  const submissions = (k: string): number => (blueStats.by_key?.[k] ?? 0) + (greenStats.by_key?.[k] ?? 0)
  t.same(results.filter((r) => submissions(r.ledgerKey) !== 1).map((r) => `${r.ledgerKey}: ${submissions(r.ledgerKey)}`), [],
    'each intent is in exactly one service ledger, once')
  t.equal(blueStats.accepted + greenStats.accepted, results.length, 'the services accepted exactly the intents sent')
  t.ok(greenStats.accepted > 0 && blueStats.accepted > 0, `both colors took intents (blue ${blueStats.accepted}, green ${greenStats.accepted})`)
  t.comment(`refusals retried: ${traffic.refusals[503]} × 503, ${traffic.refusals[409]} × 409`)
  // A retry of an answered intent is a replay on either release, whichever wrote its idempotency record: the
  // very answer, and nothing forwarded.
  for (const m of fleet.live()) {
    const differ: string[] = []
    for (const r of results.filter((x) => x.answer !== null)) {
      const res = await fetch(`${m.gw.proxyUrl}/intents`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': r.key }, body: r.request
      })
      const again = `${res.status} ${await res.text()}`
      if (again !== r.answer) differ.push(`${r.key}: ${r.answer ?? ''} then ${again}`)
    }
    t.same(differ.slice(0, 5), [], `${m.name} replays every answer as it was given (${results.length} retried)`)
  }
  // A status read of an ended intent finds its route (where it ended, and how) on either release, whichever kept it.
  const ids = results.flatMap((r) => r.answer === null ? [] : [(JSON.parse(r.answer.slice(r.answer.indexOf(' ') + 1)) as { id: string }).id])
  for (const m of fleet.live()) {
    const unread: string[] = []
    for (const id of ids) {
      const res = await fetch(`${m.gw.proxyUrl}/intents/${encodeURIComponent(id)}`)
      const text = await res.text()
      if (res.status !== 200 || !text.includes('settled')) unread.push(`${id}: ${res.status} ${text}`)
    }
    t.same(unread.slice(0, 5), [], `${m.name} reads how each of the ${ids.length} ended intents ended`)
  }
  const [blueAfter, greenAfter] = await Promise.all([blue.stats(), green.stats()])
  t.equal(blueAfter.accepted + greenAfter.accepted, results.length, 'and the replays reached no service')
  for (const m of fleet.live()) t.equal(await fleet.remove(m.name), 0, `${m.name} stopped gracefully`)
})
