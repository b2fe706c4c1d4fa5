/**
 * Issue 5's translation properties over generated intents: 1.0 -> 2.0 -> 1.0 gives back the same canonical
 * bytes; a 2.0 intent 1.0 can express survives 2.0 -> 1.0 -> 2.0; every other 2.0 intent is refused as not
 * representable, with every reason named, never cut to fit.
 */
import t from 'tap'
import fc from 'fast-check'
import { NotRepresentableError } from '../../src/errors.js'
import { canonicalJson, createVersionCatalog } from '../../src/versions/index.js'
import { expressibleInV1, intentV1, intentV2 } from './arbitraries.js'

const catalog = createVersionCatalog()
const RUNS = 1000

function validOrFail (version: string, body: unknown): Record<string, unknown> {
  const v = catalog.validateIntent(version, body)
  if (!v.ok) throw new Error(`generated ${version} intent is invalid: ${JSON.stringify(v.errors)}`)
  return v.intent
}

t.test('every valid 1.0 intent survives 1.0 -> 2.0 -> 1.0 to the byte of its canonical form', async (t) => {
  fc.assert(fc.property(intentV1, (body) => {
    const sent = validOrFail('1.0', body)
    const before = canonicalJson(sent)
    const up = catalog.translateIntent(sent, '1.0', '2.0')
    validOrFail('2.0', up)
    const back = catalog.translateIntent(up, '2.0', '1.0')
    return canonicalJson(back) === before && canonicalJson(sent) === before
  }), { numRuns: RUNS })
  t.pass(`${RUNS} generated intents`)
})

t.test('a 1.0 intent sent without version comes back with the version it was read as, and nothing else', async (t) => {
  fc.assert(fc.property(intentV1, (body) => {
    const { version: _v, ...versionless } = body
    const sent = validOrFail('1.0', versionless)
    const back = catalog.translateIntent(catalog.translateIntent(sent, '1.0', '2.0'), '2.0', '1.0')
    return canonicalJson(back) === canonicalJson({ ...versionless, version: '1.0' })
  }), { numRuns: 200 })
  t.pass('200 generated versionless intents')
})

t.test('every 2.0 intent 1.0 can express survives 2.0 -> 1.0 -> 2.0; every other is refused naming why', async (t) => {
  let expressible = 0
  let refused = 0
  fc.assert(fc.property(intentV2, (body) => {
    const sent = validOrFail('2.0', body)
    const broken = expressibleInV1(sent)
    if (broken.length === 0) {
      expressible++
      const down = catalog.translateIntent(sent, '2.0', '1.0')
      validOrFail('1.0', down)
      const back = catalog.translateIntent(down, '1.0', '2.0')
      return canonicalJson(back) === canonicalJson(sent)
    }
    refused++
    try {
      catalog.translateIntent(sent, '2.0', '1.0')
    } catch (err) {
      if (!(err instanceof NotRepresentableError)) throw err
      return err.problem.status === 422 && broken.every((cause) => err.reason.includes(cause))
    }
    return false
  }), { numRuns: RUNS })
  // Both branches must have been exercised, or the property proved nothing about one of them.
  t.ok(expressible > 20, `${expressible} expressible intents round-tripped`)
  t.ok(refused > 20, `${refused} inexpressible intents refused`)
})
