// Listen addresses as the proxy, the admin server and `intent-gate db migrate` read them.
import t from 'tap'
import { httpUrlOf, localUrlOf, parseListen } from '../../src/config/listen.js'

t.test('host:port and [v6]:port', async (t) => {
  t.same(parseListen('0.0.0.0:8080'), { host: '0.0.0.0', port: 8080 })
  t.same(parseListen('localhost:0'), { host: 'localhost', port: 0 })
  t.same(parseListen('[::1]:9090'), { host: '::1', port: 9090 })
  t.equal(httpUrlOf({ host: '127.0.0.1', port: 80 }), 'http://127.0.0.1:80')
  t.equal(httpUrlOf({ host: '::1', port: 9090 }), 'http://[::1]:9090', 'IPv6 in brackets')
})

t.test('a wildcard listener is reached on loopback', async (t) => {
  t.equal(localUrlOf('0.0.0.0:9090'), 'http://127.0.0.1:9090')
  t.equal(localUrlOf('[::]:9090'), 'http://[::1]:9090')
  t.equal(localUrlOf('10.0.0.5:9090'), 'http://10.0.0.5:9090')
})
