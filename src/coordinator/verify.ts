/**
 * The verifying phase (`[analysis]`, docs/specification.md section 6): after resuming, the new version serves live traffic
 * while every instance counts the new upstream's answers to client requests (2xx-4xx answered, 5xx and
 * transport failures failed; src/proxy/answer-tally.ts) and reports its count to the store hash
 * `analysis:<upgrade id>`. The leader sums the reports:
 *
 * - at least `min_requests` answers with more than `max_error_ratio` failing: a breach, decided as soon as it is
 *   seen (a broken version should not serve a minute longer than it takes to know); the upgrade rolls back
 *   through the usual rollback (the flag is set again, steps reverted newest first, the old color active);
 * - at the end of `watch_secs`: fewer answers than `min_requests` decide nothing (`inconclusive`, the upgrade
 *   completes); otherwise it passed.
 *
 * Instances report every REPORT_MS; the leader reads once more REPORT_GRACE_MS after the window so the last
 * reports are in.
 */
import type { Config } from '../config/schema.js'
import type { Logger } from '../log.js'
import type { DocumentStore } from '../store/types.js'
import { answersHash, type AnswerReport } from '../notice/notice.js'
import { UpgradePhaseError } from './errors.js'
import type { UpgradeRun } from './run.js'

export const REPORT_MS = 250
const REPORT_GRACE_MS = 3 * REPORT_MS

/** The answer counts every instance reports for the window (./answer-tally.ts in the proxy writes them). */
type VerifyStore = Pick<DocumentStore, 'hashGetAll' | 'hashDelete'>

export interface VerifyDeps {
  store: VerifyStore
  analysis: Config['analysis']
  checkAbort: () => Promise<void>
  wait: (ms: number) => Promise<void>
  log: Logger
}

export interface Verdict { outcome: 'ok' | 'inconclusive', answers: number, failed: number, detail: string }

/** The window, written on the run before the phase begins (so a leader taking over keeps the same one). */
export function openWindow (run: UpgradeRun, analysis: Config['analysis'], now: number): void {
  run.verifying = { color: run.to_active, from_ms: now, until_ms: now + analysis.watch_secs * 1000 }
}

export async function verifyPhase (run: UpgradeRun, deps: VerifyDeps): Promise<Verdict> {
  const window = run.verifying
  if (window === undefined) throw new UpgradePhaseError('verifying', 'the verifying window was not recorded')
  const { analysis } = deps
  const ratioText = (a: number, f: number): string => `${f} of ${a} answers of ${window.color} failed (${a === 0 ? 0 : ((f / a) * 100).toFixed(1)} %)`
  for (;;) {
    await deps.checkAbort()
    const { answers, failed } = await sum(deps.store, run.id)
    if (answers >= analysis.min_requests && failed / answers > analysis.max_error_ratio) {
      run.verifying = { ...window, answers, failed }
      throw new UpgradePhaseError('verifying', `${ratioText(answers, failed)}, above max_error_ratio=${analysis.max_error_ratio} (at least min_requests=${analysis.min_requests} answers): rolling back`)
    }
    if (Date.now() >= window.until_ms + REPORT_GRACE_MS) {
      run.verifying = { ...window, answers, failed }
      await deps.store.hashDelete(answersHash(run.id), Object.keys(await deps.store.hashGetAll(answersHash(run.id)))).catch(() => {})
      if (answers < analysis.min_requests) {
        const detail = `inconclusive: ${answers} answers in ${analysis.watch_secs} s, fewer than min_requests=${analysis.min_requests}; ${ratioText(answers, failed)}`
        deps.log.warn({ answers, failed }, `verifying ${detail}`)
        return { outcome: 'inconclusive', answers, failed, detail }
      }
      return { outcome: 'ok', answers, failed, detail: `${ratioText(answers, failed)}, within max_error_ratio=${analysis.max_error_ratio}` }
    }
    await deps.wait(Math.min(REPORT_MS, Math.max(10, window.until_ms + REPORT_GRACE_MS - Date.now())))
  }
}

async function sum (store: VerifyStore, id: string): Promise<{ answers: number, failed: number }> {
  const reports = await store.hashGetAll<AnswerReport>(answersHash(id))
  let answers = 0
  let failed = 0
  for (const r of Object.values(reports)) {
    answers += r.answers
    failed += r.failed
  }
  return { answers, failed }
}
