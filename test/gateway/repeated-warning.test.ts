// A Redis outage refuses every submission; the gateway's log says so once, then once per 10-second window with
// how many more it refused (`repeated`), instead of one warning line per refused request burying everything else.
// Asserted on the log lines a real gateway process writes to stderr.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const MESSAGE = 'submission refused: the store cannot be reached'
/** src/repeated-warning.ts's window for this warning. */
const WINDOW_SECS = 10
const REFUSALS = 40

interface LogLine { msg: string, time: number, level: number, repeated?: number, window_secs?: number }

t.test('a Redis outage logs the refusal once, then one line with a count', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t)
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url }) })
  const signer = makeSigner()
  const refusalLines = (): LogLine[] => gw.stderr().split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.msg.startsWith(MESSAGE))

  t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })).status, 202, 'admitted while Redis runs')
  await redis.kill()
  await waitFor('/readyz to report the store gone', async () => ((await fetch(`${gw.adminUrl}/readyz`)).status === 503 ? true : undefined))

  const statuses: number[] = []
  for (let i = 0; i < REFUSALS; i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, async () => await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })))
    for (const a of batch) {
      statuses.push(a.status)
      t.equal(a.body.type, 'urn:intent-gate:problem:store-unavailable')
    }
  }
  const lastAnswered = Date.now()
  t.same([...new Set(statuses)], [503], `all ${REFUSALS} refused with 503`)

  // The window's end writes the count even though nothing more comes; allow a busy machine's timer lag.
  const counted = await waitFor('the line with the count', async () => refusalLines().find((l) => l.repeated !== undefined), (WINDOW_SECS + 30) * 1000)
  const lines = refusalLines()
  t.comment(lines.map((l) => JSON.stringify({ msg: l.msg, repeated: l.repeated })).join('\n'))
  t.equal(lines[0]?.level, 40, 'a warning')
  t.equal(lines[0]?.msg, MESSAGE, 'the first refusal is logged at once, as is')
  t.equal(lines[0]?.repeated, undefined)
  t.equal(counted.window_secs, WINDOW_SECS)
  t.ok(counted.time - (lines[0]?.time ?? 0) >= WINDOW_SECS * 1000 - 50, 'the count comes at the window\'s end')
  const represented = lines.reduce((sum, l) => sum + (l.repeated ?? 1), 0)
  t.equal(represented, REFUSALS, 'every refusal is in the log, counted')
  if (counted.time >= lastAnswered) {
    // Every refusal fell in the first window (the usual case: 40 refusals take well under 10 s).
    t.equal(lines.length, 2, `two lines for ${REFUSALS} refusals, not ${REFUSALS}`)
    t.equal(counted.repeated, REFUSALS - 1)
    t.equal(counted.msg, `${MESSAGE} (repeated ${REFUSALS - 1} times)`)
  } else {
    // A machine so busy the refusals spanned windows: still at most two lines per window.
    const windows = Math.ceil((lastAnswered - (lines[0]?.time ?? 0)) / (WINDOW_SECS * 1000)) + 1
    t.ok(lines.length <= 2 * windows, `${lines.length} lines over ${windows} windows`)
  }

  // A refusal after the window is logged at once again: folded, never silenced.
  const before = refusalLines().length
  t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })).status, 503)
  const next = await waitFor('the next window\'s first line', async () => refusalLines()[before])
  t.equal(next.msg, MESSAGE)
  t.equal(next.repeated, undefined)
})
