// What an instance tells clients is a pair, the control state and the coordinator's notice, and the pair must
// never be one that was not written: the coordinator writes the notice, then the flag, so a flag change is
// published with the notice read after it, never with the one held from before it.
import t from 'tap'
import { EmbeddedStore } from '../../src/store/index.js'
import { NoticeWatcher, type NoticeState } from '../../src/proxy/notice-watcher.js'
import { NOTICE_DOC, type UpgradeNotice } from '../../src/notice/notice.js'

const notice = (state: string): UpgradeNotice => ({ id: 'u1', state, target_version: '2.0', scheduled_at_ms: null, resume_estimate_ms: null, verifying: null })
const pair = (s: NoticeState): string => `${s.notice?.state ?? 'none'}/${s.control?.upgrade?.phase ?? 'none'}`

t.test('a flag change is heard with the notice written before it', async (t) => {
  const store = new EmbeddedStore()
  t.teardown(async () => { await store.close() })
  // A poll far longer than the test: every change below is heard through the control watch alone.
  const watcher = new NoticeWatcher(store, 60_000, (err) => { throw err })
  const heard: string[] = []
  watcher.subscribe((s) => { heard.push(pair(s)) })
  watcher.start()
  t.teardown(() => { watcher.close() })
  const until = async (what: string): Promise<void> => {
    for (let i = 0; i < 200 && heard.at(-1) !== what; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    t.equal(heard.at(-1), what)
  }
  await until('none/none')

  // The journal's order at each step: the notice, then the flag.
  await store.setDoc(NOTICE_DOC, notice('draining'))
  await store.setUpgrade({ id: 'u1', phase: 'draining' })
  await until('draining/draining')
  await store.setDoc(NOTICE_DOC, notice('resuming'))
  await store.setUpgrade({ id: 'u1', phase: 'resuming' })
  await until('resuming/resuming')
  await store.setDoc(NOTICE_DOC, null) // completed: no notice, then the flag goes
  await store.setUpgrade(null)
  await until('none/none')

  t.notOk(heard.includes('resuming/none'), `never the old notice with the new flag: ${heard.join(', ')}`)
})

// The proxy reads the control state before it listens and hands it on: a client that connects at once is told
// the mode, not `unknown`, while the watcher's first notice read is still under way (ci12, a busy machine: the
// client library's first status event read `unknown`, and its test took that for the upgrade's refusal).
t.test('the control state read before listening is known at once', async (t) => {
  const store = new EmbeddedStore()
  t.teardown(async () => { await store.close() })
  await store.setDrain({ reason: 'maintenance', deadline_secs: 60 })
  const seeded = new NoticeWatcher(store, 60_000, (err) => { throw err })
  seeded.start(await store.control())
  t.teardown(() => { seeded.close() })
  t.match(seeded.current().control?.drain, { reason: 'maintenance' }, 'known before any read of the watcher')

  const unseeded = new NoticeWatcher(store, 60_000, (err) => { throw err })
  unseeded.start()
  t.teardown(() => { unseeded.close() })
  t.equal(unseeded.current().control, null, 'without it, unknown until the first read ends')
})
