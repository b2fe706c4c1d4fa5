// The logger never writes the admin token or a mnemonic, wherever a part puts them in a logged object; log
// lines go to the destination given (stderr in production), as JSON.
import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from '../../src/log.js'

t.test('secrets are redacted from every logged object', async (t) => {
  let out = ''
  const destination = new Writable({ write (chunk, _enc, cb) { out += String(chunk); cb() } })
  const logger = createLogger({ level: 'info', destination }).child({ component: 'test' })
  const token = 'tok-9f8e7d6c5b4a'
  const mnemonic = 'abandon ability able about above absent absorb abstract absurd abuse access accident'
  logger.info({ token, mnemonic }, 'top level')
  logger.info({ req: { headers: { authorization: `Bearer ${token}` } } }, 'request headers')
  logger.info({ headers: { authorization: `Bearer ${token}` }, admin_token: token, signer_mnemonic: mnemonic }, 'nested')
  logger.info({ chain: { mnemonic, signer_mnemonic_env: 'INTENT_GATE_SIGNER_MNEMONIC' } }, 'config-like')
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(lines.length, 4)
  t.notOk(out.includes(token), 'no token')
  t.notOk(out.includes('abandon ability'), 'no mnemonic')
  t.match(lines[0], { token: '[redacted]', mnemonic: '[redacted]', component: 'test', name: 'intent-gate' })
  t.match(lines[3], { chain: { mnemonic: '[redacted]', signer_mnemonic_env: 'INTENT_GATE_SIGNER_MNEMONIC' } }, 'the env var name stays readable')
})
