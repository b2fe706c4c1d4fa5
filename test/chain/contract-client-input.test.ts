// Bad input to the contract client: an unreachable RPC (typed error naming the URL), a missing or invalid
// mnemonic (the variable is named, its value never shown), and MigrateMsgs or checksums without the design's shape
// (the field is named) — all refused before anything is sent.
import t from 'tap'
import { createContractClient } from '../../src/chain/contract-client.js'
import { ChainUnreachableError, InvalidMigrateMsgError, SignerUnavailableError } from '../../src/chain/errors.js'
import { parseMigrateMsg } from '../../src/chain/migrate-msg.js'
import { freePort } from '../helpers/redis.js'
import { captureLog } from '../ibc/helpers.js'

const CONTRACT = 'wasm17arfrelp4kr4m5an8808u7qsp8e7uft00c69feaxxjmv0pylrq0s9n3j8g'
const CHECKSUM = 'c0693db78f35635c170a3e4ebcd2b19d8caf6d92a56a9788ad9574d1ce2c33c5'

const client = (rpcUrl: string, env: Record<string, string | undefined>): ReturnType<typeof createContractClient> => createContractClient({
  chain: { enabled: true, rpc_url: rpcUrl, chain_id: 'intent-local-1', settlement_contract: CONTRACT, signer_mnemonic_env: 'SIGNER', gas_price: '0.025ustake' },
  logger: captureLog().logger,
  env,
  requestTimeoutMs: 2000
})

t.test('an unreachable RPC is a ChainUnreachableError naming the URL', async (t) => {
  const url = `http://127.0.0.1:${await freePort()}`
  const c = client(url, {})
  t.teardown(() => c.close())
  for (const call of [() => c.inflightSettlements(), () => c.contractVersion(), () => c.codeChecksum(2)]) {
    const err = await call().catch((e: unknown) => e)
    t.ok(err instanceof ChainUnreachableError, 'ChainUnreachableError')
    t.match(err, { code: 'IG_ERR_CHAIN_UNREACHABLE', url, message: new RegExp(`^chain RPC ${url} is unreachable: `) })
  }
})

t.test('the mnemonic: a missing variable or a bad value is refused naming the variable, never showing the value', async (t) => {
  const url = `http://127.0.0.1:${await freePort()}`
  const missing = client(url, {})
  const err = await missing.signerAddress().catch((e: unknown) => e)
  t.ok(err instanceof SignerUnavailableError)
  t.match(err, { code: 'IG_ERR_SIGNER_UNAVAILABLE', envVar: 'SIGNER', message: /SIGNER: the variable is not set/ })
  const secret = 'correct horse battery staple zebra'
  const bad = client(url, { SIGNER: secret })
  const badErr = await bad.signerAddress().catch((e: unknown) => e) as Error
  t.ok(badErr instanceof SignerUnavailableError)
  t.match(badErr.message, /not a valid BIP-39 mnemonic/)
  t.notMatch(badErr.message, /horse|zebra/, 'the value is not quoted')
  t.notMatch(JSON.stringify(badErr), /horse|zebra/)
})

t.test('a MigrateMsg without the design\'s shape is refused naming the field, before any chain call', async (t) => {
  const c = client(`http://127.0.0.1:${await freePort()}`, {})
  const cases: Array<[unknown, string]> = [
    [null, '(root)'],
    [{}, 'new_version'],
    [{ new_version: '' }, 'new_version'],
    [{ new_version: '2.0', extra: 1 }, 'extra'],
    [{ new_version: '2.0', config: { stuck_settlement_action: 'preserve' } }, 'config.preserve_inflight'],
    [{ new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'refund' } }, 'config.stuck_settlement_action'],
    [{ new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: { extend_timeout: { additional_seconds: -1 } } } }, 'config.stuck_settlement_action.extend_timeout.additional_seconds'],
    [{ new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve', new_config: 'x' } }, 'config.new_config']
  ]
  for (const [msg, field] of cases) {
    const err = await c.migrate(2, CHECKSUM, msg).catch((e: unknown) => e)
    t.ok(err instanceof InvalidMigrateMsgError, `${JSON.stringify(msg)} refused`)
    t.equal((err as InvalidMigrateMsgError).field, field)
  }
  await t.rejects(c.migrate(2, 'abc', { new_version: '2.0' }), { code: 'IG_ERR_INVALID_MIGRATE_MSG', field: 'checksum' })
  await t.rejects(c.extendTimeout(['a'], -5), { code: 'IG_ERR_INVALID_MIGRATE_MSG', field: 'additional_seconds' })
})

t.test('a valid MigrateMsg keeps exactly the design\'s fields', async (t) => {
  t.same(parseMigrateMsg({ new_version: '2.0' }), { new_version: '2.0' })
  t.same(parseMigrateMsg({ new_version: '2.0', config: null }), { new_version: '2.0' })
  t.same(parseMigrateMsg({ new_version: '2.0', config: { preserve_inflight: false, stuck_settlement_action: { extend_timeout: { additional_seconds: 60 } }, new_config: { ibc_timeout_secs: 900 } } }),
    { new_version: '2.0', config: { preserve_inflight: false, stuck_settlement_action: { extend_timeout: { additional_seconds: 60 } }, new_config: { ibc_timeout_secs: 900 } } })
})
