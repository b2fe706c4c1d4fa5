// Telling clients, end to end with real processes (Redis, blue and green sample services, intent-gate serve, no
// chain): /.well-known/intent-gate/status and its event stream, scheduled upgrades (`at`), their survival across
// a gateway restart, and an abort cancelling one.
import t from 'tap'
import { startHoldGateway, startHoldWorld, statusOf, untilState, UPGRADE_KEY } from './helpers/hold.js'
import type { ClientStatus } from '../../src/proxy/client-status.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** A Server-Sent Events client: every `status` event parsed, in order, with its arrival time. */
async function openEvents (
  url: string
): Promise<{ events: Array<{ at: number, status: ClientStatus }>, comments: () => number, close: () => void }> {
  const controller = new AbortController()
  const res = await fetch(`${url}/.well-known/intent-gate/events`, { signal: controller.signal })
  if (res.headers.get('content-type') !== 'text/event-stream') throw new Error(`not an event stream: ${res.headers.get('content-type') ?? ''}`)
  const events: Array<{ at: number, status: ClientStatus }> = []
  let comments = 0
  const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>
  const decoder = new TextDecoder()
  let buffer = ''
  const pump = async (): Promise<void> => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let end
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (block.startsWith(':')) comments++
          const data = block.split('\n').find((l) => l.startsWith('data: '))
          if (block.includes('event: status') && data !== undefined) events.push({ at: Date.now(), status: JSON.parse(data.slice(6)) as ClientStatus })
        }
      }
    } catch {}
  }
  pump().catch(() => {})
  return { events, comments: () => comments, close: () => { controller.abort() } }
}

async function clientStatus (url: string): Promise<ClientStatus> {
  return await (await fetch(`${url}/.well-known/intent-gate/status`)).json() as ClientStatus
}

/** Collapses consecutive repeats: the sequence of distinct values. */
function sequence (values: string[]): string[] {
  return values.filter((v, i) => i === 0 || v !== values[i - 1])
}

t.test('the event stream, from before a scheduled upgrade to after it: scheduled, stopped (holding), resumed, in order', async (t) => {
  const w = await startHoldWorld(t, { blueSettleMs: 200 })
  const gw = await startHoldGateway(t, w)
  t.same(await clientStatus(gw.proxyUrl), { accepting: true, mode: 'accepting', retry_after_secs: null, upgrade: null, drain: null }, 'idle: accepting')
  const stream = await openEvents(gw.proxyUrl)
  t.teardown(stream.close)

  // 8 s ahead: the reads below must all see it scheduled, and on a busy machine each takes hundreds of ms.
  const at = new Date(Date.now() + 8000).toISOString()
  const start = await gw.admin<{ id: string, state: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', at })
  t.equal(start.status, 202, JSON.stringify(start.body))
  t.equal(start.body.state, 'scheduled')
  const scheduled = await clientStatus(gw.proxyUrl).then(async (s) => s.mode === 'scheduled' ? s : await sleep(300).then(async () => await clientStatus(gw.proxyUrl)))
  t.equal(scheduled.mode, 'scheduled', 'visible as scheduled at once')
  t.equal(scheduled.accepting, true, 'still accepting before its time')
  t.equal(scheduled.upgrade?.scheduled_at, at, 'scheduled_at is the requested time')
  t.equal(scheduled.upgrade?.state, 'scheduled')
  t.equal(scheduled.upgrade?.target_version, '2.0')
  t.equal(await w.redis.cli('EXISTS', UPGRADE_KEY), '0', 'the upgrade key is not set before its time')
  const admin = await statusOf(gw)()
  t.equal(admin.state, 'scheduled')
  t.equal(admin.scheduled_at, scheduled.upgrade?.scheduled_at)
  t.ok(Date.parse(admin.estimated_resume_at ?? '') > Date.parse(at), 'the admin status estimates the resume after the scheduled time')

  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  t.same(done.phases.map((p) => p.phase), ['scheduled', 'pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming', 'completed'])
  t.ok(done.phases[1] !== undefined && done.phases[1].started_at * 1000 >= Date.parse(at) - 50, 'pre-checks began at the scheduled time, not before')
  await sleep(500)
  stream.close()

  const modes = sequence(stream.events.map((e) => e.status.mode))
  t.comment(`modes seen: ${modes.join(' > ')}`)
  t.same(modes.filter((m) => ['accepting', 'scheduled', 'holding'].includes(m)), ['accepting', 'scheduled', 'holding', 'accepting'], 'accepting, scheduled, stopped (holding), resumed')
  const stopped = stream.events.filter((e) => e.status.mode === 'holding')
  t.ok(stopped.every((e) => !e.status.accepting && (e.status.retry_after_secs ?? 0) >= 1 && e.status.upgrade?.estimated_resume_at !== null), 'while stopped: not accepting, a Retry-After and an estimated resume time')
  t.ok(stopped.some((e) => e.status.upgrade?.state === 'draining'), 'the drain was announced')
  const last = stream.events.at(-1)?.status
  t.same(last, { accepting: true, mode: 'accepting', retry_after_secs: null, upgrade: null, drain: null }, 'resumed: accepting, no upgrade')
})

t.test('an operator drain is announced as draining, with its reason and deadline', async (t) => {
  const w = await startHoldWorld(t)
  const gw = await startHoldGateway(t, w)
  t.equal((await gw.admin('POST', '/admin/drain/start', { reason: 'maintenance', deadline_secs: 60 })).status, 200)
  let s = await clientStatus(gw.proxyUrl)
  for (let i = 0; i < 20 && s.mode !== 'draining'; i++) s = await sleep(50).then(async () => await clientStatus(gw.proxyUrl))
  t.equal(s.mode, 'draining')
  t.equal(s.accepting, false)
  t.equal(s.drain?.reason, 'maintenance')
  t.ok(Date.parse(s.drain?.deadline_at ?? '') > Date.now() + 50_000, 'deadline_at is about a minute ahead')
  // Nothing inflight: drained at once, so clients are told `drain_retry_after_secs` (5), not the minute to the deadline.
  t.equal(s.retry_after_secs, 5)
})
