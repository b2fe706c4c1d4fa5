/**
 * Regenerates the golden intents' owner, recipient and signatures from a fixed test key (the rest of each file
 * is kept as it is). Run: `npx tsx test/versions/golden/regenerate.ts`; the golden tests then check the result.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { canonicalJson, createVersionCatalog } from '../../../src/versions/index.js'
import { makeSigner } from '../../../sandbox/client/index.js'

const catalog = createVersionCatalog()
const signer = makeSigner(createHash('sha256').update('intent-gate golden test key').digest())
const file = (p: string): URL => new URL(`./${p}`, import.meta.url)
const read = (p: string): any => JSON.parse(readFileSync(file(p), 'utf8'))
const write = (p: string, v: unknown): void => writeFileSync(file(p), JSON.stringify(v, null, 2) + '\n')

const v1 = read('1.0/intent.json')
v1.user = signer.address
v1.output.recipient = signer.addressFor('osmo')
v1.public_key = signer.publicKey
const { signature: _s1, ...unsigned1 } = v1
v1.signature = signer.sign(unsigned1)
write('1.0/intent.json', v1)
writeFileSync(file('1.0/intent.signed-bytes.txt'), canonicalJson(catalog.spec('1.0')!.unsigned(v1)))
write('2.0/intent-from-1.0.json', catalog.translateIntent(v1, '1.0', '2.0'))

const v2 = read('2.0/intent.json')
v2.owner = signer.address
for (const o of v2.outputs) o.recipient = signer.addressFor('osmo')
v2.auth.public_key = signer.publicKey
const { signature: _s2, ...unsignedAuth } = v2.auth
v2.auth.signature = signer.sign({ ...v2, auth: unsignedAuth })
write('2.0/intent.json', v2)
writeFileSync(file('2.0/intent.signed-bytes.txt'), canonicalJson(catalog.spec('2.0')!.unsigned(v2)))
