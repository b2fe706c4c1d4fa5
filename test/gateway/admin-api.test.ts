// The admin API of a running gateway: inflight completion (terminal statuses only, 404 unknown), the blue-green
// swap (409 naming why for an unhealthy target, 400 for an unknown color, force), the versions policy changed at
// run time, and /readyz.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'

interface Upstreams {
  active: string
  active_key: string | null
  upstreams: Array<{
    color: string
    healthy: boolean
    health: string
    inflight: number
    versions: string[]
    active: boolean
    last_error: string | null
  }>
}

t.test('admin API against a running gateway', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const green = await startService(t, { versions: '2.0', settleMs: 600_000 })
  const gw = await startGateway(t, {
    config: gatewayToml({ redisUrl: redis.url, blue: blue.url, green: green.url, reconcileIntervalMs: 600_000 })
  })
  const signer = makeSigner()

  t.test('inflight completion', async (t) => {
    const a = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
    t.equal(a.status, 202)
    const id = a.body.id as string
    const list = await gw.admin<Array<{ id: string, upstream: string, version: string, phase: string, created_at: number, deadline: number }>>('GET', '/admin/inflight')
    const row = list.body.find((r) => r.id === id)
    t.match(row, { id, upstream: 'blue', version: '1.0' })
    t.type(row?.created_at, 'number')
    t.type(row?.deadline, 'number')

    const notTerminal = await gw.admin<{ errors: Array<{ field: string }> }>('POST', `/admin/inflight/${id}/complete`, { status: 'matched' })
    t.equal(notTerminal.status, 400)
    t.same(notTerminal.body.errors.map((e) => e.field), ['/status'])
    t.equal((await gw.admin('POST', `/admin/inflight/${id}/complete`, {})).status, 400, 'status is required')
    t.equal((await gw.admin('POST', '/admin/inflight/no-such-id/complete', { status: 'settled' })).status, 404)
    const done = await gw.admin('POST', `/admin/inflight/${id}/complete`, { status: 'cancelled' })
    t.equal(done.status, 200)
    t.same(done.body, { id, status: 'cancelled', ended: true })
    t.equal((await gw.admin('POST', `/admin/inflight/${id}/complete`, { status: 'cancelled' })).status, 404, 'already ended')
  })

  t.test('blue-green swap', async (t) => {
    const view = await waitFor('both upstreams checked', async () => {
      const v = (await gw.admin<Upstreams>('GET', '/admin/upstreams')).body
      return v.upstreams.every((u) => u.health === 'healthy') ? v : undefined
    })
    t.equal(view.active, 'blue')
    t.equal(view.active_key, null)
    t.same(view.upstreams.map((u) => [u.color, u.versions, u.active]), [['blue', ['1.0'], true], ['green', ['2.0'], false]])

    t.equal((await gw.admin('POST', '/admin/upstreams/active', { color: 'purple' })).status, 400)
    t.equal((await gw.admin('POST', '/admin/upstreams/active', {})).status, 400)

    await request(`${green.url}/sandbox/health`, { body: { healthy: false } })
    await waitFor('green unhealthy', async () => ((await gw.admin<Upstreams>('GET', '/admin/upstreams')).body.upstreams.find((u) => u.color === 'green')?.healthy === false ? true : undefined))
    const refused = await gw.admin<{ detail: string, type: string }>('POST', '/admin/upstreams/active', { color: 'green' })
    t.equal(refused.status, 409)
    t.equal(refused.body.type, 'urn:intent-gate:problem:conflict')
    t.match(refused.body.detail, /green is unhealthy/)
    t.equal(await redis.cli('GET', 'intent-gate:{default}:active'), '', 'nothing written')

    await request(`${green.url}/sandbox/health`, { body: { healthy: true } })
    await waitFor('green healthy', async () => ((await gw.admin<Upstreams>('GET', '/admin/upstreams')).body.upstreams.find((u) => u.color === 'green')?.healthy === true ? true : undefined))
    const swapped = await gw.admin('POST', '/admin/upstreams/active', { color: 'green' })
    t.equal(swapped.status, 200)
    t.same(swapped.body, { active: 'green', previous: 'blue', forced: false })
    t.equal(await redis.cli('GET', 'intent-gate:{default}:active'), 'green', 'the same key operators SET')
    await waitFor('the swap to be seen', async () => ((await gw.admin<Upstreams>('GET', '/admin/upstreams')).body.active === 'green' ? true : undefined))
    const v2 = await request(`${gw.proxyUrl}/intents`, { body: signIntentV2(signer) })
    t.equal(v2.status, 202)
    t.equal((await green.stats()).accepted, 1, 'new intents go to green')
    const counts = (await gw.admin<Upstreams>('GET', '/admin/upstreams')).body.upstreams.map((u) => [u.color, u.inflight])
    t.same(counts, [['blue', 0], ['green', 1]])

    await request(`${blue.url}/sandbox/health`, { body: { healthy: false } })
    await waitFor('blue unhealthy', async () => ((await gw.admin<Upstreams>('GET', '/admin/upstreams')).body.upstreams.find((u) => u.color === 'blue')?.healthy === false ? true : undefined))
    const forced = await gw.admin('POST', '/admin/upstreams/active', { color: 'blue', force: true })
    t.equal(forced.status, 200)
    t.same(forced.body, { active: 'blue', previous: 'green', forced: true })
  })

  t.test('versions policy at run time', async (t) => {
    const before = await gw.admin<{ accepted: string[], default: string }>('GET', '/admin/versions')
    t.same(before.body, { accepted: ['1.0', '2.0'], default: '1.0', deprecated: {} })
    const bad = await gw.admin<{ errors: Array<{ field: string }> }>('PUT', '/admin/versions', { accepted: ['1.0', '9.9'], default: '1.0' })
    t.equal(bad.status, 400)
    t.same(bad.body.errors.map((e) => e.field), ['/accepted'])
    const badDates = await gw.admin<{ errors: Array<{ field: string }> }>('PUT', '/admin/versions', {
      accepted: ['1.0', '2.0'],
      default: '1.0',
      deprecated: { '1.0': { since: '2027-01-01T00:00:00Z', sunset: '2026-01-01T00:00:00Z', link: 'https://example.org/m' } }
    })
    t.equal(badDates.status, 400)
    t.same(badDates.body.errors.map((e) => e.field), ['/deprecated/1.0/sunset'])

    const put = await gw.admin('PUT', '/admin/versions', {
      accepted: ['2.0'],
      default: '2.0',
      deprecated: {}
    })
    t.equal(put.status, 200)
    const v1 = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
    t.equal(v1.status, 400)
    t.equal(v1.body.type, 'urn:intent-gate:problem:version-unsupported', '1.0 refused at once, no restart')
    t.equal((await gw.admin('PUT', '/admin/versions', before.body)).status, 200)
    await request(`${blue.url}/sandbox/health`, { body: { healthy: true } })
  })
})
