// `intent-gate demo --chain wasmd --quick` end to end (the BUILT binary; tools/chain/test.sh builds it): two real
// wasmd chains and the Go relayer, signed intents settled in the real contract (each an ICS-20 packet), a drain
// and an upgrade that migrates the real contract 1.0 -> 2.0 under live traffic. Asserts what the person reads:
// intents accepted once each, 0 failed, packets relayed, the contract at 2.0 by its own cw2, the phase table,
// and every part stopped afterwards (no wasmd or relayer left listening).
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { GATEWAY_BIN, spawnNode } from '../helpers/gateway.js'

async function refusesConnections (url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) })
    return false
  } catch (err) {
    return (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED'
  }
}

const figure = (out: string, label: string): string | undefined =>
  new RegExp(`^\\s*${label.replace(/[()]/g, '\\$&')}\\s{2,}(.+)$`, 'm').exec(out)?.[1]

t.test('demo --chain wasmd --quick: the upgrade on real chains, every intent settled once, packets relayed, contract at 2.0', async (t) => {
  const started = Date.now()
  const demo = spawnNode([GATEWAY_BIN, 'demo', '--chain', 'wasmd', '--quick'])
  t.teardown(() => { demo.child.kill('SIGKILL') })
  const exit = await demo.exited
  const out = demo.stdout()
  t.same(exit, { code: 0, signal: null }, `exit 0\n${out}\n${demo.stderr()}`)
  t.comment(`the demo ran ${((Date.now() - started) / 1000).toFixed(0)} s`)

  t.match(out, /^\s*chain A\s+http:\/\/127\.0\.0\.1:\d+ \(real-a-1\), settlement contract wasm1\w+ at code 1 \(1\.0\)$/m, 'chain A and its contract')
  t.match(out, /^\s*relayer\s+rly: transfer\/channel-0 on A <-> transfer\/channel-0 on B, relaying$/m, 'the relayer links the chains')
  const sent = Number(figure(out, 'intents sent'))
  const once = /^(\d+)\s+\(the services recorded [\d +]+= (\d+), 0 twice\)$/.exec(figure(out, 'accepted, each exactly once') ?? '')
  t.ok(sent > 0, `${sent} intents sent`)
  t.equal(Number(once?.[1]), sent, 'every intent sent was accepted')
  t.equal(Number(once?.[2]), sent, 'and the services recorded each exactly once')
  t.equal(figure(out, 'settled'), String(sent), 'every accepted intent settled (its completion in a block of the real chain)')
  t.equal(figure(out, 'failed'), '0', 'the summary says 0 failed')
  t.equal(figure(out, 'left inflight in the gateway'), '0')

  for (const phase of ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming']) {
    t.match(out, new RegExp(`^\\s*${phase}\\s+[\\d.]+ s\\s+ok$`, 'm'), `phase ${phase} ok`)
  }
  t.equal(figure(out, 'result'), 'completed')
  t.equal(figure(out, 'settlement contract'), 'code 1 -> 2', 'the upgrade migrated the contract')
  t.match(figure(out, 'accepted by green (2.0)'), /^[1-9]\d* intents, all sent as 1\.0$/, '1.0 clients were served by green after the swap')

  // Read from the chains by the demo, not from the gateway: every intent's completion is one packet B received.
  const packets = /^(\d+)\s+\(received and acknowledged on real-b-1, transfer\/channel-0; 0 awaiting their acknowledgement on real-a-1\)$/.exec(figure(out, 'IBC packets relayed (real)') ?? '')
  t.ok(packets, `the packets line: ${figure(out, 'IBC packets relayed (real)') ?? 'missing'}`)
  t.equal(Number(packets?.[1]), sent, 'one packet per intent, each received and acknowledged')
  t.equal(figure(out, 'settlement contract (real)'), 'code 2, cw2 crates.io:intent-settlement 2.0', 'the contract on chain A runs 2.0 by its cw2 record')
  t.match(out, /Everything behaved/)

  const urls = [...new Set(out.match(/http:\/\/127\.0\.0\.1:\d+/g) ?? [])]
  t.ok(urls.length >= 6, `the demo printed where its parts listened (two chains, two services, proxy, admin API): ${urls.join(' ')}`)
  for (const url of urls) t.ok(await refusesConnections(url), `${url} is stopped`)
  const config = /^\s*configuration\s+(\S+)$/m.exec(out)?.[1] as string
  t.ok(config, 'the configuration file was printed')
})

t.test('without the chain binaries: exit 1 naming the command that builds them, nothing started', async (t) => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'ig-no-chain-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  const demo = spawnNode([GATEWAY_BIN, 'demo', '--chain', 'wasmd', '--quick'], { CHAIN_CACHE: empty })
  t.teardown(() => { demo.child.kill('SIGKILL') })
  const exit = await demo.exited
  const out = demo.stdout()
  t.equal(exit.code, 1, out)
  t.match(out, /not built in .*ig-no-chain-.*: wasmd v[\d.]+ rly v[\d.]+: run `npm run chain:build` first/, 'names what is missing and the command')
  t.notMatch(out, /\[2\/5\]/, 'the demo stopped at its first stage')
})
