// The template form of a stored answer (src/store/redis/answer-templates.ts): an answer and its id make a
// template that gives the very answer back for that id and for any other, and one instance refers to a template
// only from the second answer of its kind, sending its text again only once its refresh interval has passed.
import t from 'tap'
import { AnswerTemplates, expandTemplate, referenceTo, templateOf } from '../../src/store/redis/answer-templates.js'

t.test('a template puts any id back where the answer had it', async (t) => {
  const answers: Array<[string, string]> = [
    ['202\nct:application/json\n\n{"id":"a-1","status":"pending"}', 'a-1'],
    ['x-9', 'x-9'],
    ['202\n\nid: Ωmega:1 ✓', 'Ωmega:1'],
    ['200\n\n{"intent_id":"42"}', '42']
  ]
  for (const [answer, id] of answers) {
    const template = templateOf(answer, id)
    if (template === null) throw new Error(`no template for ${answer}`)
    t.equal(expandTemplate(template.text, id), answer, `${JSON.stringify(answer)} back`)
    t.equal(expandTemplate(template.text, 'other:id'), answer.replace(id, 'other:id'), 'another id in its place')
    t.match(template.ref, /^[A-Za-z0-9_-]{16}$/)
  }
  const twice = (id: string): string => `202\n\n{"id":"${id}","self":"/intents/${id}"}`
  t.not(templateOf(twice('b-1'), 'b-1')?.ref, templateOf(twice('b-2'), 'b-2')?.ref, 'an id that appears twice: never the same template')
  t.equal(templateOf('202\n\n{"id":"2"}', '2')?.text, '12:202\n\n{"id":""}', 'the id\'s place in the body, not in the status')
  t.equal(templateOf('202\n\naccepted', 'c-1'), null, 'an answer without its id: none')
  t.equal(templateOf('202\n\n{}', ''), null, 'an empty id: none')
  t.equal(templateOf(referenceTo('A'.repeat(16), 'd-1'), 'd-1'), null, 'a reference is never made a template')
  t.equal(templateOf('{"id":"e-1"}', 'e-1')?.ref, templateOf('{"id":"e-2"}', 'e-2')?.ref, 'answers that differ by the id only: one template')
})

t.test('an instance refers to an answer from its second of a kind, and writes the text again once stale', async (t) => {
  const fetched: string[] = []
  const templates = new AnswerTemplates({ writes: true, fetch: async (ref) => { fetched.push(ref); return null } })
  const answer = (id: string): string => `202\n\n{"id":"${id}"}`
  const ttl = 2400 // a 24th: 100 s
  t.equal(templates.forBind(answer('n-1'), 'n-1', ttl, 0), null, 'the first is kept whole')
  const second = templates.forBind(answer('n-2'), 'n-2', ttl, 1000)
  t.ok(second !== null && second.text !== '', 'the second refers to it and carries its text')
  if (second === null) return
  t.equal(templates.forBind(answer('n-3'), 'n-3', ttl, 2000)?.text, second.text, 'still carried until a bind with it was applied')
  templates.written(second, 2000)
  t.same(templates.forBind(answer('n-4'), 'n-4', ttl, 50_000), { ref: second.ref, text: '' }, 'written: the reference alone')
  t.same(templates.forBind(answer('n-5'), 'n-5', ttl, 102_000), second, 'a 24th of the TTL later: the text again')
  t.equal(await templates.resolve(referenceTo(second.ref, 'n-77')), answer('n-77'), 'a template it made is expanded without a read')
  t.equal(await templates.resolve(answer('n-8')), answer('n-8'), 'an answer kept whole is itself')
  await t.rejects(templates.resolve(referenceTo('B'.repeat(16), '9')), { code: 'IG_ERR_STORE_UNAVAILABLE' }, 'an unknown template is read, and missing: refused')
  t.same(fetched, ['B'.repeat(16)])

  const reading = new AnswerTemplates({ writes: false, fetch: async () => null })
  t.equal(reading.forBind(answer('n-1'), 'n-1', ttl, 0), null)
  t.equal(reading.forBind(answer('n-2'), 'n-2', ttl, 1), null, 'a store that does not write layout 8 never refers')
})
