// GET /admin/inflight in pages (issue 9): ?limit and ?cursor walk every record once, oldest admission first, each
// with its phase; without them the answer is the oldest page as an array (Next-Cursor when there are more); a bad
// limit or cursor is a 400 naming it; `intent-gate inflight list` follows the pages to the end.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, runCli, startGateway, startService, TEST_TOKEN } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

interface View { id: string | null, key: string, phase: string, created_at: number }
interface Page { records: View[], next_cursor: string | null }

t.test('inflight records in pages', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 }) })
  const signer = makeSigner()
  // One at a time, so admission order is the order sent.
  const ids: string[] = []
  for (let i = 0; i < 25; i++) {
    const answer = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
    t.equal(answer.status, 202)
    ids.push(answer.body.id as string)
  }

  const seen: View[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const path: string = `/admin/inflight?limit=10${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const page: { status: number, body: Page } = await gw.admin<Page>('GET', path)
    t.equal(page.status, 200)
    t.ok(page.body.records.length <= 10)
    seen.push(...page.body.records)
    cursor = page.body.next_cursor
    pages++
  } while (cursor !== null && pages < 10)
  t.equal(pages, 3, '25 records in pages of 10')
  t.same(seen.map((r) => r.id), ids, 'each record once, oldest admission first')
  t.ok(seen.every((r) => r.phase === 'accepted' || r.phase === 'pending'), `each with its phase (${seen[0]?.phase ?? ''})`)

  const plain = await gw.admin<View[]>('GET', '/admin/inflight')
  t.equal(plain.body.length, 25, 'without limit: an array of the oldest page')
  t.equal(plain.headers.get('next-cursor'), null, 'no Next-Cursor: nothing more')

  const badLimit = await gw.admin<{ type: string, detail: string }>('GET', '/admin/inflight?limit=0')
  t.equal(badLimit.status, 400)
  t.match(JSON.stringify(badLimit.body), /limit/)
  const badCursor = await gw.admin<{ type: string }>('GET', '/admin/inflight?limit=5&cursor=not-ours')
  t.equal(badCursor.status, 400)
  t.equal(badCursor.body.type, 'urn:intent-gate:problem:invalid-cursor')

  const cli = await runCli(['inflight', 'list', '--json', '--page-size', '7', '--admin', gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  t.equal(cli.code, 0, cli.stderr)
  t.same((JSON.parse(cli.stdout) as View[]).map((r) => r.id), ids, 'the CLI followed the pages (4 of 7) to the end')
  const badFlag = await runCli(['inflight', 'list', '--page-size', 'x', '--admin', gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  t.equal(badFlag.code, 2)
  t.match(badFlag.stderr, /--page-size/)
})
