// An intent format from outside the package, end to end as an adopter runs it: the packed package installed in an
// empty folder, the example 3.0 format (examples/intent-format-v3, translated to and from 2.0) copied beside it
// as the adopter's own file, named in `[versions] modules`. A signed 3.0 intent is validated, verified and
// translated by the gateway, verified again by the installed sample service (a 2.0 service loading the same
// file), and its answers come back in 3.0; /admin/versions lists 3.0. Needs `npm run build` first.
import t from 'tap'
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { request, TEST_TOKEN } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { makeSigner, type Signer } from '../../sandbox/client/index.js'
import { ROOT, execFileAsync, packAndInstall, startInstalled, writeGatewayConfig } from './installed.js'

/** A signed 3.0 intent of the example format; `fields` override its defaults before signing. */
function signIntentV3 (signer: Signer, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const unsigned = {
    version: '3.0',
    owner: signer.address,
    from: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000' },
    to: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '900', recipient: signer.addressFor('osmo') },
    expires_at: Math.floor(Date.now() / 1000) + 600,
    nonce: String(signer.nextNonce()),
    auth: { public_key: signer.publicKey },
    ...fields
  }
  // A field set to undefined is left out (a body without `version` is read as the default).
  for (const [key, value] of Object.entries(unsigned)) if (value === undefined) delete (unsigned as Record<string, unknown>)[key]
  return { ...unsigned, auth: { public_key: signer.publicKey, signature: signer.sign(unsigned) } }
}

// npm pack and an install from the cache take minutes on a loaded machine (well past the usual file timeout).
t.setTimeout(600_000)

t.test('a 3.0 of its own, from a file outside the package, served through a 2.0 sample service', async (t) => {
  const { app, files, gatewayBin, sandboxBin } = await packAndInstall(t)
  for (const f of ['dist/src/versions/public.js', 'dist/src/versions/public.d.ts', 'dist/src/versions/spec.d.ts']) t.ok(files.includes(f), `ships ${f}`)
  await mkdir(path.join(app, 'formats'))
  const format = path.join(app, 'formats/v3_0.mjs')
  await copyFile(path.join(ROOT, 'examples/intent-format-v3/v3_0.mjs'), format)

  // The public types resolve by the package's name for a TypeScript adopter (strict, NodeNext).
  await writeFile(path.join(app, 'typed.ts'), `
import { NotRepresentableError, Type, type TranslationStep, type VersionModule, type VersionSpec } from 'intent-gate/versions'
const spec: VersionSpec = {
  version: '9.0', intentSchema: Type.Object({}), submitResponseSchema: Type.Object({}), statusResponseSchema: Type.Object({}),
  deadlineField: '/d', identity: () => ({ owner: 'o', nonce: '1', deadline: 0 }),
  auth: () => ({ scheme: 'secp256k1', publicKey: '', signature: '', signedVersion: '9.0' }),
  unsigned: (i) => i, intentIdOf: () => null, statusOf: () => null
}
const step: TranslationStep = { from: '9.0', to: '2.0', reversible: false, migrateIntent: () => { throw new NotRepresentableError('9.0', '2.0', 'never') },
  migrateSubmitResponse: (b) => b, migrateStatusResponse: (b) => b, reverse: () => null }
export const module: VersionModule = { spec, steps: [step] }
`)
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
  await t.resolves(execFileAsync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'typed.ts'], { cwd: app }),
    'a TypeScript module typed by intent-gate/versions compiles')

  const redis = await startRedis(t)
  const service = await startInstalled(t, sandboxBin, ['service', '--listen', '127.0.0.1:0', '--versions', '2.0', '--settle-ms', '600000', '--versions-module', format], app, {})
  const config = await writeGatewayConfig(app, {
    redisUrl: redis.url,
    upstreamUrl: service.line.url as string,
    versions: ['2.0'],
    extra: '[versions]\naccepted = ["2.0", "3.0"]\ndefault = "3.0"\nmodules = ["formats/v3_0.mjs"]\n'
  })
  const gw = await startInstalled(t, gatewayBin, ['serve', '--config', config], app, { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  const proxy = gw.line.proxy as string
  const admin = gw.line.admin as string
  const auth = { authorization: `Bearer ${TEST_TOKEN}` }
  const signer = makeSigner()

  const submitted = await request(`${proxy}/intents`, { body: signIntentV3(signer) })
  t.equal(submitted.status, 202, JSON.stringify(submitted.body))
  t.match(submitted.body, { id: /^int_/, state: 'received', version: '3.0' }, "the 2.0 service's answer, translated to 3.0")
  const id = (submitted.body as { id: string }).id
  const stats = await request(`${service.line.url as string}/sandbox/stats`)
  const { accepted, refused } = stats.body as { accepted: number, refused: Record<string, number> }
  t.same([accepted, Object.values(refused).filter((n) => n > 0)], [1, []], 'the 2.0 service took it, verifying the 3.0 signature it carries')

  t.match((await request(`${proxy}/intents/${id}`)).body, { id, state: 'received' }, 'its status reads back in 3.0')
  t.equal((await request(`${service.line.url as string}/sandbox/intents/${id}`, { body: { status: 'settled' } })).status, 200, 'the service settles it')
  t.match((await request(`${proxy}/intents/${id}`)).body, { id, state: 'settled' }, 'a settled 2.0 status reads as 3.0')

  const noVersion = await request(`${proxy}/intents`, { body: signIntentV3(signer, { version: undefined }) })
  t.equal(noVersion.status, 202, `a body without version is read as the default, 3.0: ${JSON.stringify(noVersion.body)}`)

  const sameChain = await request(`${proxy}/intents`, { body: signIntentV3(signer, { to: { chain_id: 'cosmoshub-4', denom: 'uosmo', min_amount: '1', recipient: signer.address } }) })
  t.equal(sameChain.status, 400, 'the format\'s own cross-field rule refuses')
  t.match(JSON.stringify(sameChain.body), /\/to\/chain_id.*must differ from from\.chain_id/)
  const badField = await request(`${proxy}/intents`, { body: signIntentV3(signer, { expires_at: 'soon' }) })
  t.equal(badField.status, 400, 'the format\'s schema refuses')
  t.match(JSON.stringify(badField.body), /\/expires_at/)
  const forged = { ...signIntentV3(signer), from: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '999999' } }
  t.equal((await request(`${proxy}/intents`, { body: forged })).status, 401, 'a signature that does not cover the 3.0 body is refused')

  const versions = await (await fetch(`${admin}/admin/versions`, { headers: auth })).json() as { accepted: string[], default: string }
  t.same([versions.accepted, versions.default], [['2.0', '3.0'], '3.0'], '/admin/versions lists 3.0')
  const put = await fetch(`${admin}/admin/versions`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ accepted: ['4.0'], default: '3.0' }) })
  t.equal(put.status, 400)
  t.match(await put.text(), /unknown version '4\.0' \(known: 1\.0, 2\.0, 3\.0\)/, 'the known versions include the module\'s')

  gw.child.kill('SIGTERM')
  t.equal(await new Promise((resolve) => gw.child.once('exit', resolve)), 0, `serve exits 0 on SIGTERM: ${gw.stderr()}`)
})
