// The dApp side of intent-gate, as little as a page needs: build the order, let the wallet sign it (ADR-036
// signArbitrary: the key never leaves the wallet), and submit it with intent-gate/client, which keeps one
// Idempotency-Key across tries and waits out drains and upgrades on its own. The gateway is this page's origin
// (the gateway sends no CORS headers: serve the page from its origin or through the same reverse proxy).
import { IntentClient, ProblemError, signIntent, walletSigner } from 'intent-gate/client'

const CHAIN = 'cosmoshub-4'
const $ = (id) => document.getElementById(id)
const client = new IntentClient({ url: window.location.origin })

function log (text, kind = '') {
  const li = document.createElement('li')
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`
  if (kind !== '') li.className = kind
  $('log').append(li)
}

$('order').addEventListener('submit', async (event) => {
  event.preventDefault()
  const wallet = window.keplr
  if (wallet === undefined) {
    log('No wallet found: install Keplr (or Leap, which offers the same window.keplr).', 'error')
    return
  }
  $('submit').disabled = true
  try {
    await wallet.enable(CHAIN)
    const signer = walletSigner(wallet, CHAIN)
    const { address } = await signer.account()
    const intent = await signIntent(signer, {
      origin_chain_id: CHAIN,
      inputs: [{ chain_id: CHAIN, denom: 'uatom', amount: $('amount').value }],
      outputs: [{ chain_id: 'osmosis-1', denom: 'uosmo', min_amount: $('min_amount').value, recipient: $('recipient').value.trim() || address }],
      fill_deadline: Math.floor(Date.now() / 1000) + 60 * Number($('minutes').value),
      // A fresh nonce per order; the same order resubmitted keeps its nonce (and its Idempotency-Key).
      nonce: String(Date.now())
    })
    log(`signed by ${intent.owner} (${intent.auth.scheme})`)
    const answer = await client.submit(intent, {
      maxWaitMs: 120_000,
      onRetry: (r) => log(`the gateway answered ${r.status || 'nothing'} (${r.reason}); trying again in ${(r.waitMs / 1000).toFixed(1)} s`)
    })
    $('intent-id').textContent = answer.intentId
    $('intent-status').textContent = answer.status
    log(`accepted as ${answer.intentId} after ${answer.attempts} ${answer.attempts === 1 ? 'try' : 'tries'}`, 'ok')
    const status = await client.status(answer.intentId)
    $('intent-status').textContent = status.status
  } catch (err) {
    // A typed problem (bad signature, not representable, ...) says what the gateway refused and why.
    log(err instanceof ProblemError ? `refused: ${err.status} ${err.title}: ${err.detail}` : `failed: ${err.message}`, 'error')
  } finally {
    $('submit').disabled = false
  }
})
