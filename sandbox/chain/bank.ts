/** Balances of the local chain's bank: whole-unit coins per denom, and the events a bank transfer emits. */
import { SDK, wrap } from './errors.js'
import { abciEvent } from './events.js'
import type { AbciEvent, AppState } from './state.js'

export interface Coin { denom: string, amount: string }

export function balanceOf (app: AppState, address: string, denom: string): bigint {
  return BigInt(app.balances[address]?.[denom] ?? '0')
}

export function formatCoins (coins: Coin[]): string {
  return coins.map(coin => `${coin.amount}${coin.denom}`).join(',')
}

/** Moves coins and returns the SDK's coin_spent, coin_received and transfer events. */
export function transfer (app: AppState, from: string, to: string, coins: Coin[], msgIndex?: number): AbciEvent[] {
  for (const coin of coins) {
    if (!/^[0-9]+$/.test(coin.amount)) throw wrap(SDK.invalidCoins, `${coin.amount}${coin.denom}`)
    const have = balanceOf(app, from, coin.denom)
    const want = BigInt(coin.amount)
    if (have < want) throw wrap(SDK.insufficientFunds, `spendable balance ${have}${coin.denom} is smaller than ${want}${coin.denom}`)
  }
  for (const coin of coins) {
    const want = BigInt(coin.amount)
    const fromBalances = app.balances[from] ??= {}
    fromBalances[coin.denom] = (balanceOf(app, from, coin.denom) - want).toString()
    const toBalances = app.balances[to] ??= {}
    toBalances[coin.denom] = (balanceOf(app, to, coin.denom) + want).toString()
  }
  const amount = formatCoins(coins)
  return [
    abciEvent('coin_spent', [['spender', from], ['amount', amount]], msgIndex),
    abciEvent('coin_received', [['receiver', to], ['amount', amount]], msgIndex),
    abciEvent('transfer', [['recipient', to], ['sender', from], ['amount', amount]], msgIndex)
  ]
}
