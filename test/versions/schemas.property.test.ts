/**
 * Properties of the schemas and response translation over generated input: every valid response translates
 * to a valid response of the other version (the 2.0 fills summed exactly), and breaking any one field of a
 * valid intent is reported on exactly that field.
 */
import t from 'tap'
import fc from 'fast-check'
import { createVersionCatalog } from '../../src/versions/index.js'
import { intentV1, intentV2, statusResponseV1, statusResponseV2, submitResponseV1, submitResponseV2 } from './arbitraries.js'

const catalog = createVersionCatalog()
const RUNS = 500

t.test('every valid response of one version translates to a valid response of the other', async (t) => {
  const cases = [
    ['submit', '2.0', '1.0', submitResponseV2],
    ['submit', '1.0', '2.0', submitResponseV1],
    ['status', '2.0', '1.0', statusResponseV2],
    ['status', '1.0', '2.0', statusResponseV1]
  ] as const
  for (const [kind, from, to, arbitrary] of cases) {
    fc.assert(fc.property(arbitrary, (body: Record<string, unknown>) => {
      if (catalog.checkResponse(kind, from, body).length > 0) throw new Error(`generated ${from} ${kind} response is invalid`)
      const out = kind === 'submit' ? catalog.translateSubmitResponse(body, from, to) : catalog.translateStatusResponse(body, from, to)
      return catalog.checkResponse(kind, to, out).length === 0
    }), { numRuns: RUNS })
    t.pass(`${kind} ${from} -> ${to}`)
  }
})

t.test('a 2.0 status read as 1.0 keeps the exact sum of the fills and the last hash, and the id', async (t) => {
  fc.assert(fc.property(statusResponseV2, (body) => {
    const out = catalog.translateStatusResponse(body, '2.0', '1.0') as Record<string, unknown>
    const sum = body.fills.reduce((acc, f) => acc + BigInt(f.amount), 0n)
    const last = body.fills.at(-1)?.tx_hash
    return out['id'] === body.intent_id && out['filled_amount'] === sum.toString() && out['tx_hash'] === (last === undefined || last === '' ? null : last)
  }), { numRuns: RUNS })
  t.pass(`${RUNS} generated status responses`)
})

/** Every leaf of a JSON value with its pointer. */
function leaves (value: unknown, pointer = ''): Array<[string, unknown]> {
  if (typeof value !== 'object' || value === null) return [[pointer, value]]
  return Object.entries(value).flatMap(([k, v]) => leaves(v, `${pointer}/${k}`))
}

function withLeaf (value: unknown, path: string[], replacement: unknown): unknown {
  if (path.length === 0) return replacement
  const [head, ...rest] = path as [string, ...string[]]
  if (Array.isArray(value)) return value.map((v, i) => String(i) === head ? withLeaf(v, rest, replacement) : v)
  return { ...(value as Record<string, unknown>), [head]: withLeaf((value as Record<string, unknown>)[head], rest, replacement) }
}

t.test('breaking any one field of a valid intent is reported on that field, and only there', async (t) => {
  for (const [version, arbitrary] of [['1.0', intentV1], ['2.0', intentV2]] as const) {
    fc.assert(fc.property(arbitrary, fc.nat(), fc.constantFrom<unknown>(true, { x: 1 }, -1.5, 'not-valid ~'), (body, pick, junk) => {
      const all = leaves(body)
      // Every leaf of an intent is a patterned string, a constant or a non-negative integer: junk breaks any.
      const [pointer] = all[pick % all.length] as [string, unknown]
      const v = catalog.validateIntent(version, withLeaf(body, pointer.split('/').slice(1), junk))
      return !v.ok && v.errors.length === 1 && v.errors[0]?.field === pointer
    }), { numRuns: RUNS })
    t.pass(version)
  }
})
