/**
 * A managed-Redis look-alike for tests: a redis-server that speaks only TLS (`--port 0 --tls-port <free>`), with a
 * certificate signed by a CA the test makes with openssl, and only one ACL user (the default user is off). The
 * CA file, the user and the password are what a gateway needs (`rediss://user@host:port`, `tls_ca_file`,
 * `password_env`).
 *
 *   const redis = await startTlsRedis(t)
 *   const url = `rediss://${redis.user}@127.0.0.1:${redis.port}`
 *   await redis.cli('HLEN', 'intent-gate:{default}:inflight')
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort, makeTempDir, stopProcess, type RedisProcess, type Teardown } from './redis.js'

const execFileAsync = promisify(execFile)

export interface TlsRedis {
  readonly port: number
  /** PEM file of the CA that signed the server's certificate. */
  readonly caFile: string
  readonly user: string
  readonly password: string
  /** `redis-cli --tls` as the ACL user; stdout without its trailing newline. */
  cli (...args: string[]): Promise<string>
  /** Everything the server logged. */
  log (): string
}

/** A CA and a server certificate for 127.0.0.1 (and localhost), written to `dir`. */
export async function makeCertificates (dir: string): Promise<{ ca: string, cert: string, key: string }> {
  const file = (name: string): string => path.join(dir, name)
  const openssl = async (...args: string[]): Promise<void> => { await execFileAsync('openssl', args, { cwd: dir }) }
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=intent-gate test CA',
    '-keyout', file('ca.key'), '-out', file('ca.crt'))
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'))
  await writeFile(file('server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n')
  await openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', file('server.ext'), '-out', file('server.crt'))
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') }
}

export async function startTlsRedis (t: Teardown, opts: { user?: string, password?: string } = {}): Promise<TlsRedis> {
  const dir = await makeTempDir('redis-tls')
  let proc: RedisProcess | null = null
  t.teardown(async () => {
    await stopProcess(proc, 'SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })
  const certs = await makeCertificates(dir)
  const user = opts.user ?? 'gateway'
  const password = opts.password ?? `pw-${randomBytes(12).toString('hex')}`
  const port = await freePort()
  const args = [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no',
    '--user', 'default', 'off',
    '--user', user, 'on', `>${password}`, '~*', '&*', '+@all',
    '--logfile', ''
  ]
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  proc = { child, exited: async () => { await exit }, log: () => output }
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
      if (output.includes('Ready to accept connections')) resolve()
    })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    exit.then(() => reject(new Error(`TLS redis-server exited before it was ready:\n${output}`)), reject)
  })
  const cli = async (...cmd: string[]): Promise<string> => {
    const { stdout } = await execFileAsync('redis-cli', ['--tls', '--cacert', certs.ca, '-h', '127.0.0.1', '-p', String(port),
      '--user', user, '--pass', password, '--no-auth-warning', ...cmd])
    return stdout.replace(/\n$/, '')
  }
  if (await cli('PING') !== 'PONG') throw new Error('the TLS redis-server does not answer PING')
  return { port, caFile: certs.ca, user, password, cli, log: () => output }
}
