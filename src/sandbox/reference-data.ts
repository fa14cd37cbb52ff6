/**
 * Reference data for the sandbox data set: currencies with their fees and processors, names (many
 * non-ASCII, some with apostrophes), descriptions, decline codes as processors return them, and
 * the wallet and BNPL providers. Changing anything here changes the generated rows: bump
 * GENERATOR_VERSION in data-generator.ts.
 */

export interface Currency {
  code: string
  /** Minor-unit digits (JPY has none). */
  digits: number
  /** Median payment in major units. */
  median: number
  countries: readonly string[]
  cardFee: {rate: number; fixed: number}
  cardConnectors: readonly string[]
  topUpStep: number
}

export const CURRENCIES: readonly Currency[] = [
  {code: 'USD', digits: 2, median: 45, countries: ['US'], cardFee: {rate: 0.029, fixed: 0.3}, cardConnectors: ['stripe', 'adyen', 'checkout'], topUpStep: 20},
  {code: 'EUR', digits: 2, median: 40, countries: ['DE', 'FR', 'ES', 'NL', 'IE'], cardFee: {rate: 0.014, fixed: 0.25}, cardConnectors: ['adyen', 'stripe'], topUpStep: 20},
  {code: 'GBP', digits: 2, median: 35, countries: ['GB'], cardFee: {rate: 0.015, fixed: 0.2}, cardConnectors: ['checkout', 'stripe'], topUpStep: 20},
  {code: 'INR', digits: 2, median: 1800, countries: ['IN'], cardFee: {rate: 0.02, fixed: 0}, cardConnectors: ['razorpay', 'payu'], topUpStep: 500},
  {code: 'JPY', digits: 0, median: 5000, countries: ['JP'], cardFee: {rate: 0.036, fixed: 0}, cardConnectors: ['stripe', 'adyen'], topUpStep: 1000},
]
export const CURRENCY_WEIGHTS: ReadonlyArray<readonly [number, number]> = [[0, 40], [1, 20], [2, 10], [3, 25], [4, 5]]

export const FIRST_NAMES = [
  'Aarav', 'Aditi', 'Ananya', 'Arjun', 'Diya', 'Ishaan', 'Kavya', 'Priya', 'Rohan', 'Saanvi', 'Vihaan', 'Zoë', 'José', 'Jürgen',
  'François', 'Søren', 'Łukasz', 'Chloé', 'Mia', 'Liam', 'Noah', 'Olivia', 'Emma', 'Sofía', 'Mateo', 'Björn', 'Ólafur', 'Hiroshi',
  'Yuki', 'Sakura', '美咲', '伟', 'Mohammed', 'Fatima', 'Siobhán', 'Renée', 'Zoltán', 'Çağla', 'Thành', 'Ngozi',
]
export const LAST_NAMES = [
  'Sharma', 'Patel', 'Iyer', 'Reddy', 'Gupta', 'Müller', 'Schröder', 'García', 'Núñez', "O'Brien", 'Smith', 'Johnson', 'Brown',
  'Jensen', 'Kowalczyk', 'Nguyễn', 'Tanaka', 'Suzuki', '小林', '王', 'Al-Farsi', 'Dubois', 'Lefèvre', 'Ångström', 'Đorđević',
  'Novák', 'Ó Súilleabháin', 'van der Berg', "D'Souza", 'Øvergaard',
]
export const EMAIL_DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'example.in', 'example.co.uk', 'example.jp']
export const SPECIAL_LETTERS: Record<string, string> = {ł: 'l', ø: 'o', đ: 'd', ß: 'ss', æ: 'ae', å: 'a'}

export function asciiName(name: string): string {
  const folded = name
    .toLowerCase()
    .replace(/[łøđßæå]/g, (c) => SPECIAL_LETTERS[c] ?? '')
    .normalize('NFKD')
    .replace(/[^a-z]/g, '')
  return folded === '' ? 'user' : folded
}
export const FIRST_ASCII = FIRST_NAMES.map(asciiName)
export const LAST_ASCII = LAST_NAMES.map(asciiName)

export const DESCRIPTIONS = [
  'Order {n}', 'Subscription renewal', 'Café crème ×2', 'Bestellung für Jürgen', 'Abonnement Premium (mensuel)', 'Recharge — forfait mobile',
  '注文番号 {n}', '订单 {n}', 'Thé vert 🍵', 'Pedido nº {n}', 'Mobile recharge ₹199', 'Flight DEL→BOM', 'Gift card', 'Groceries',
  'Ride to the airport', 'Концерт: 2 билета', 'Pizza 🍕 + soda', 'Electricity bill {n}',
]
export const CHANNELS = ['web', 'ios', 'android', 'pos']
export const SEGMENTS = ['retail', 'smb', 'vip', 'enterprise']

export interface Decline {
  code: string
  declineCode: string
  reason: string
}
export const CARD_DECLINES: readonly Decline[] = [
  {code: '51', declineCode: 'insufficient_funds', reason: 'Insufficient funds'},
  {code: '05', declineCode: 'do_not_honor', reason: 'Do not honor'},
  {code: '54', declineCode: 'expired_card', reason: 'Expired card'},
  {code: 'N7', declineCode: 'incorrect_cvc', reason: 'CVV2 value supplied is invalid'},
  {code: '91', declineCode: 'processing_error', reason: 'Issuer or switch inoperative'},
  {code: '59', declineCode: 'suspected_fraud', reason: 'Suspected fraud'},
  {code: '65', declineCode: 'card_velocity_exceeded', reason: 'Exceeds withdrawal frequency limit'},
  {code: '1A', declineCode: 'authentication_required', reason: 'Additional customer authentication required'},
]
export const UPI_DECLINES: readonly Decline[] = [
  {code: 'U30', declineCode: 'debit_failed', reason: 'Debit has failed'},
  {code: 'ZM', declineCode: 'invalid_pin', reason: 'Invalid UPI PIN'},
  {code: 'U69', declineCode: 'collect_expired', reason: 'Collect request expired'},
]
export const OTHER_DECLINES: readonly Decline[] = [
  {code: 'DECLINED', declineCode: 'payment_method_declined', reason: 'The provider declined the payment'},
  {code: 'TIMEOUT', declineCode: 'processing_error', reason: 'No answer from the provider in time'},
]


export const WALLET_PROVIDERS_IN = ['paytm', 'phonepe', 'google_pay'] as const
export const WALLET_PROVIDERS = ['apple_pay', 'google_pay'] as const
export const BNPL_PROVIDERS_IN = ['simpl', 'lazypay'] as const
export const BNPL_PROVIDERS = ['klarna', 'afterpay'] as const
export const PROVIDER_CONNECTOR: Record<string, string> = {
  paytm: 'paytm', phonepe: 'phonepe', google_pay: 'stripe', apple_pay: 'stripe', simpl: 'simpl', lazypay: 'payu', klarna: 'klarna', afterpay: 'afterpay',
  razorpay: 'razorpay', juspay: 'juspay', payctl_balance: 'payctl_wallet',
}
export const CONNECTORS = [...new Set(Object.values(PROVIDER_CONNECTOR))]
