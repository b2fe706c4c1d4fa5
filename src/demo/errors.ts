/** How the demo ends badly: a part did not start or did not behave (exit status 1, the message says which). */
import { IntentGateError } from '../errors.js'

export class DemoError extends IntentGateError {
  override readonly code = 'IG_ERR_DEMO'
}
