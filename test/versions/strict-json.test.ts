// The reader that gives a body one meaning or none: what JSON.parse reads one way and another conforming parser
// another is refused with the reason and the field; plain JSON reads exactly as JSON.parse reads it.
import t from 'tap'
import { parseStrictJson, StrictJsonError } from '../../src/versions/strict-json.js'

const read = (text: string | Buffer): unknown => parseStrictJson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text)
const refusal = (text: string | Buffer): { reason: string, pointer: string } | null => {
  try {
    read(text)
    return null
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err
    return { reason: err.reason, pointer: err.pointer }
  }
}

t.test('reads what JSON.parse reads, for every body with one meaning', async (t) => {
  const bodies = [
    '{"version":"1.0","nonce":42,"a":[1,2,{"b":null}],"t":true,"f":false}',
    ' \n\t{ "a" : [ ] , "b" : { } , "c" : "x\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00" }\r\n',
    '"é😀 raw"', '0', '-12', '9007199254740991', '-9007199254740991', '[]', '{"__proto__":{"x":1}}'
  ]
  for (const body of bodies) t.same(read(body), JSON.parse(body), body)
  const proto = read('{"__proto__":{"x":1}}') as Record<string, unknown>
  t.equal(Object.getPrototypeOf(proto), Object.prototype, '"__proto__" is data, not the prototype')
  t.ok(Object.hasOwn(proto, '__proto__'))
})

t.test('refuses a body another parser could read differently, naming the field', async (t) => {
  const cases: Array<[string | Buffer, string, string]> = [
    ['{"a":1,"a":2}', 'duplicate_key', '/a'],
    ['{"outputs":[{"recipient":"x","recipient":"y"}]}', 'duplicate_key', '/outputs/0/recipient'],
    ['{"a":"\\u0061","\\u0061":1}', 'duplicate_key', '/a'],
    [Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'invalid_utf8', ''],
    [Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'invalid_utf8', ''],
    ['{"s":"\\ud800"}', 'lone_surrogate', '/s'],
    ['{"s":"\\udc00x"}', 'lone_surrogate', '/s'],
    ['{"s":"\\ud800\\u0041"}', 'lone_surrogate', '/s'],
    ['{"nonce":1e1}', 'number_form', '/nonce'],
    ['{"nonce":10.0}', 'number_form', '/nonce'],
    ['{"nonce":-0}', 'number_form', '/nonce'],
    ['{"deadline":1.796598446e9}', 'number_form', '/deadline'],
    ['{"nonce":9007199254740993}', 'number_form', '/nonce'],
    ['{"a":[0,1E2]}', 'number_form', '/a/1'],
    ['\ufeff{}', 'syntax', ''],
    ['{"a":1,}', 'syntax', ''],
    ['{"a":01}', 'syntax', '/a'],
    ['{"a":NaN}', 'syntax', '/a'],
    ['{"a":1} x', 'syntax', ''],
    ['{"a":"x\ny"}', 'syntax', '/a'],
    ['{"a":"\\x"}', 'syntax', '/a'],
    ['{"a":1', 'syntax', ''],
    ['['.repeat(40) + ']'.repeat(40), 'too_deep', '/0'.repeat(33)]
  ]
  for (const [body, reason, pointer] of cases) {
    t.same(refusal(body), { reason, pointer }, typeof body === 'string' ? body.slice(0, 40) : `bytes ${body.toString('hex')}`)
  }
})

t.test('a 64 KB body of brackets is refused, not a stack overflow', async (t) => {
  t.equal(refusal('['.repeat(65_536))?.reason, 'too_deep')
})
