// `intent-gate demo --quick --broken-green` end to end (the BUILT binary, so run `npm run build` first): green
// fails every intent once it serves, the verifying phase rolls the upgrade back, blue takes the new intents again,
// and no client's intent failed. Its own file: one quick demo takes about 25 s here, 40 s on a loaded machine.
import t from 'tap'
import { GATEWAY_BIN, spawnNode } from '../helpers/gateway.js'

t.test('demo --broken-green: the verifying phase rolls the broken green back; blue serves again; none failed', async (t) => {
  const demo = spawnNode([GATEWAY_BIN, 'demo', '--quick', '--broken-green'])
  t.teardown(() => { demo.child.kill('SIGKILL') })
  const exit = await demo.exited
  const out = demo.stdout()
  t.same(exit, { code: 0, signal: null }, `exit 0\n${out}\n${demo.stderr()}`)

  t.match(out, /green now answers 503 to every intent/)
  for (const phase of ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming']) {
    t.match(out, new RegExp(`^\\s*${phase}\\s+[\\d.]+ s\\s+ok$`, 'm'), `phase ${phase} ok`)
  }
  t.match(out, /^\s*verifying\s+[\d.]+ s\s+failed\s+verifying: \d+ of \d+ answers of green failed .*above max_error_ratio=0\.2/m, 'the verifying phase failed on green\'s answers')
  t.match(out, /^\s*rolling_back\s+[\d.]+ s\s+ok$/m, 'and the rollback went through')
  t.match(out, /^\s*result\s+rolled_back: verifying:/m)
  t.match(out, /^\s*steps reverted\s+(\S+ reverted(, )?)+$/m, 'every applied step was reverted')
  t.match(out, /^\s*steps reverted\s+.*contract_migration reverted/m, 'the contract migration among them')
  t.match(out, /^\s*active upstream now\s+blue /m, 'the proxy sends to blue again')
  const toBlue = Number(/^\s*accepted since the rollback\s+blue (\d+), green \d+$/m.exec(out)?.[1])
  t.ok(toBlue > 0, `blue accepted ${toBlue} intents after the rollback`)

  t.match(out, /^\s*failed\s+0$/m, 'the summary says 0 failed')
  const sent = Number(/^\s*intents sent\s+(\d+)$/m.exec(out)?.[1])
  const once = /^\s*accepted, each exactly once\s+(\d+)\s+\(the services recorded [\d +]+= (\d+), 0 twice\)$/m.exec(out)
  t.equal(Number(once?.[1]), sent, 'every intent sent was accepted')
  t.equal(Number(once?.[2]), sent, 'and the services recorded each exactly once')
  t.match(out, /Everything behaved/)
})
