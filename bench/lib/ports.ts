/** Free loopback ports, for the servers whose listen address goes into a config file. */
export { freePort } from '../../sandbox/free-port.js'
