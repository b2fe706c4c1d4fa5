/**
 * What translation itself costs, measured in the bench's own process without any I/O: the steps a translated
 * submission takes that an untranslated one does not (1.0 intent -> 2.0, its serialisation, the 2.0 answer ->
 * 1.0, its serialisation), in microseconds of CPU per submission. Other engineers' load on the machine moves
 * this figure far less than it moves a p50 over the network, so it is the steadier answer to "what does
 * translation add"; the report sets it against the gateway's CPU per untranslated submission.
 */
import { createVersionCatalog } from '../../src/versions/index.js'
import { fillTemplate, type BodyTemplate } from '../lib/intents.js'

export interface TranslationCost {
  id: 'translation-cost'
  title: string
  iterations: number
  /** CPU microseconds per submission for the translation-only steps. */
  translateUsPerSubmission: number
  /** For scale: validating the 1.0 intent (both paths do it), per submission. */
  validateUsPerSubmission: number
  error?: string
}

function timePerOp (iterations: number, op: (i: number) => void): number {
  for (let i = 0; i < Math.min(2000, iterations); i++) op(i)
  const start = process.cpuUsage()
  for (let i = 0; i < iterations; i++) op(i)
  const used = process.cpuUsage(start)
  return (used.user + used.system) / iterations
}

export function translationCost (template: BodyTemplate, quick: boolean): TranslationCost {
  const title = 'translation 1.0 <-> 2.0, in process (no I/O)'
  const iterations = quick ? 5_000 : 20_000
  try {
    const catalog = createVersionCatalog()
    const intents = Array.from({ length: 256 }, (_, i) => JSON.parse(fillTemplate(template, 1_000_000 + i)) as Record<string, unknown>)
    // Both paths parse the upstream's answer (for the intent id); only the translation after it is timed.
    const answer = { intent_id: 'bench-1-1', status: 'accepted', version: '2.0' }
    const pick = (i: number): Record<string, unknown> => intents[i % intents.length] as Record<string, unknown>
    const validateUs = timePerOp(iterations, (i) => {
      const checked = catalog.validateIntent('1.0', pick(i))
      if (!checked.ok) throw new Error(`the bench's 1.0 intent is not valid: ${JSON.stringify(checked.errors)}`)
    })
    const translateUs = timePerOp(iterations, (i) => {
      JSON.stringify(catalog.translateIntent(pick(i), '1.0', '2.0'))
      JSON.stringify(catalog.translateSubmitResponse(answer, '2.0', '1.0'))
    })
    return { id: 'translation-cost', title, iterations, translateUsPerSubmission: translateUs, validateUsPerSubmission: validateUs }
  } catch (err) {
    return { id: 'translation-cost', title, iterations, translateUsPerSubmission: Number.NaN, validateUsPerSubmission: Number.NaN, error: (err as Error).stack ?? String(err) }
  }
}
