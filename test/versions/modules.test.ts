// Intent formats from outside the package (`[versions] modules`): a module's version joins the shipped ones
// (validated, translated, verified like them), and every kind of bad module is refused at start with a
// ConfigError naming the file and what is wrong; `intent-gate serve` and the sample service exit 2 on one.
// The modules here are self-contained files in a temporary folder; test/package/versions-module.test.ts runs
// the example format against the installed package.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadConfig } from '../../src/config/load.js'
import { ConfigError } from '../../src/errors.js'
import { loadVersionCatalog } from '../../src/versions/index.js'
import { makeSigner, signIntentV2 } from '../../sandbox/client/index.js'
import { GATEWAY_BIN } from '../helpers/gateway.js'

const dir = mkdtempSync(join(tmpdir(), 'ig-modules-'))
t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** A 2.5 that is 2.0 under another label: plain JSON schemas, no imports, one reversible step to 2.0. */
const SPEC = `
const any = { type: 'object' }
export const spec = {
  version: '2.5',
  intentSchema: { type: 'object', required: ['owner', 'nonce', 'until', 'inner'], properties: { version: { const: '2.5' }, owner: { type: 'string' }, nonce: { type: 'string' }, until: { type: 'integer' }, inner: any } },
  submitResponseSchema: { type: 'object', required: ['intent_id'], properties: { intent_id: { type: 'string' } } },
  statusResponseSchema: any,
  deadlineField: '/until',
  identity: (i) => ({ owner: i.owner, nonce: i.nonce, deadline: i.until }),
  auth: (i) => ({ ...i.inner.auth, signedVersion: '2.0', publicKey: i.inner.auth.public_key }),
  unsigned: (i) => i,
  intentIdOf: (b) => b.intent_id,
  statusOf: (b) => b.status
}`
const STEP = `
const down = { from: '2.5', to: '2.0', reversible: true, migrateIntent: (i) => i.inner, migrateSubmitResponse: (b) => b, migrateStatusResponse: (b) => b, reverse: () => up }
const up = { from: '2.0', to: '2.5', reversible: true, migrateIntent: (i) => ({ version: '2.5', owner: i.owner, nonce: i.nonce, until: i.fill_deadline, inner: i }), migrateSubmitResponse: (b) => b, migrateStatusResponse: (b) => b, reverse: () => down }
export const steps = [down]`

const problemsOf = async (files: string[]): Promise<string> => {
  try {
    await loadVersionCatalog(files)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n')
    throw err
  }
  throw new Error('expected a ConfigError')
}

t.test('a module\'s version is validated, translated and verified like a shipped one', async (t) => {
  const catalog = await loadVersionCatalog([file('v2_5.mjs', SPEC + STEP)])
  t.same(catalog.known, ['1.0', '2.0', '2.5'])
  const inner = signIntentV2(makeSigner())
  const intent = { version: '2.5', owner: inner.owner, nonce: inner.nonce, until: inner.fill_deadline, inner }
  const valid = catalog.validateIntent('2.5', intent)
  t.match(valid, { ok: true, identity: { owner: inner.owner, nonce: inner.nonce, deadline: inner.fill_deadline } })
  t.match(catalog.validateIntent('2.5', { ...intent, until: 'soon' }), { ok: false, errors: [{ field: '/until' }] }, 'its schema names the field')
  t.same(catalog.translateIntent(intent, '2.5', '2.0'), inner, 'translated along its step')
  t.throws(() => catalog.translateIntent(intent, '2.5', '1.0'), { code: 'IG_ERR_NOT_REPRESENTABLE', from: '2.0', to: '1.0' }, 'and on along the shipped step, which refuses a 2.0 signature for 1.0')
  t.equal(catalog.targetVersion('2.5', ['1.0']), '1.0', 'an upstream of a shipped version is reachable')
  t.same(catalog.verifySignature('2.5', intent), { ok: true }, 'the signature over the 2.0 form it carries verifies')
  t.same(catalog.translateSubmitResponse({ intent_id: 'int_1', status: 'accepted', version: '2.0' }, '2.0', '2.5'), { intent_id: 'int_1', status: 'accepted', version: '2.0' })
})

t.test('a bad module is refused, naming the file and what is wrong', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['syntax.mjs', 'export const spec = {', /syntax\.mjs: cannot be loaded: .*Unexpected end of input/],
    ['throws.mjs', 'throw new Error("no database here")', /throws\.mjs: cannot be loaded: no database here/],
    ['nothing.mjs', 'export const version = "3.0"', /nothing\.mjs: exports neither 'spec' \(a version\) nor 'steps' \(translations\)/],
    ['label.mjs', SPEC.replace("version: '2.5'", "version: 'three'"), /label\.mjs: spec\.version must be a "major\.minor" label, got "three"/],
    ['nofn.mjs', SPEC.replace('  identity:', '  identityOf:'), /nofn\.mjs: spec\.identity must be a function/],
    ['schema.mjs', SPEC.replace('statusResponseSchema: any', "statusResponseSchema: { type: 'strin' }"), /schema\.mjs: spec\.statusResponseSchema is not a valid JSON schema: .*type/],
    ['pointer.mjs', SPEC.replace("deadlineField: '/until'", "deadlineField: 'until'"), /pointer\.mjs: spec\.deadlineField must be a JSON pointer/],
    ['twice.mjs', SPEC.replace("version: '2.5'", "version: '2.0'"), /twice\.mjs: version 2\.0 is already defined by this build/],
    ['orphan.mjs', STEP.replaceAll("'2.5'", "'7.0'"), /orphan\.mjs: steps\[0\] names version 7\.0, which no schema defines \(known: 1\.0, 2\.0\)/],
    ['claimed.mjs', STEP.replaceAll("'2.5'", "'1.0'"), /claimed\.mjs: steps\[0\] translates 1\.0 -> 2\.0, as this build already does/],
    ['noback.mjs', SPEC + STEP.replace('reverse: () => up', 'reverse: () => null'), /noback\.mjs: steps\[0\]\.reverse\(\) returned null, but the step says it is reversible/],
    ['notarray.mjs', 'export const steps = {}', /notarray\.mjs: 'steps' is not an array/]
  ]
  for (const [name, text, expected] of cases) {
    const problems = await problemsOf([file(name, text)])
    t.match(problems, expected, name)
    t.match(problems, new RegExp(`^versions\\.modules: ${join(dir, name).replaceAll('.', '\\.')}: `), `${name}: the problem starts with the key and the file`)
  }
  t.match(await problemsOf([file('a.mjs', SPEC), file('b.mjs', SPEC)]), /b\.mjs: version 2\.5 is already defined by .*a\.mjs/, 'two modules defining one version')
})

t.test('[versions] modules: files relative to the configuration file, packages resolved from its folder', async (t) => {
  const format = file('fmt.mjs', SPEC + STEP)
  const config = file('gw.toml', '[upstreams.blue]\nurl = "http://127.0.0.1:7001"\n[versions]\nmodules = ["fmt.mjs"]\n')
  t.same(loadConfig({ file: config, env: {} }).versions.modules, [format], 'made absolute against the file\'s folder')
  let problems = ''
  try {
    loadConfig({ file: file('missing.toml', '[upstreams.blue]\nurl = "http://127.0.0.1:7001"\n[versions]\nmodules = ["fmt.mjs", "nope.mjs"]\n'), env: {} })
  } catch (err) {
    problems = (err as ConfigError).problems.join('\n')
  }
  t.equal(problems, `versions.modules[1]: 'nope.mjs' is neither a file in ${dir} nor a package installed there`)
  t.same(loadConfig({ env: { INTENT_GATE_UPSTREAMS_BLUE_URL: 'http://127.0.0.1:7001' } }).versions.modules, [], 'none by default')
})

t.test('intent-gate serve and the sample service exit 2 on a bad module, naming it', async (t) => {
  const bad = file('bad.mjs', SPEC.replace('  identity:', '  identityOf:'))
  const config = file('serve.toml', '[upstreams.blue]\nurl = "http://127.0.0.1:7001"\n[chain]\nenabled = false\n[versions]\nmodules = ["bad.mjs"]\n')
  const serve = await promisify(execFile)(process.execPath, [GATEWAY_BIN, 'serve', '--config', config], { env: { ...process.env, INTENT_GATE_ADMIN_TOKEN: 'x'.repeat(32) } })
    .then(() => ({ code: 0, stderr: '' }), (err: { code: number, stderr: string }) => err)
  t.equal(serve.code, 2, 'serve: exit 2')
  t.match(serve.stderr, `versions.modules: ${bad}: spec.identity must be a function`)
  const sandboxBin = join(GATEWAY_BIN, '../../../sandbox/cli.js')
  const service = await promisify(execFile)(process.execPath, [sandboxBin, 'service', '--listen', '127.0.0.1:0', '--versions', '2.0', '--versions-module', bad])
    .then(() => ({ code: 0, stderr: '' }), (err: { code: number, stderr: string }) => err)
  t.equal(service.code, 2, 'sample service: exit 2')
  t.match(service.stderr, `--versions-module: ${bad}: spec.identity must be a function`)
})
