import { createHash } from 'node:crypto';

/** An authorization request to the PSP. */
export interface AuthorizeRequest {
  /** Sent as the PSP's idempotency key, so a retried call never charges twice. */
  readonly orderId: string;
  /** Minor units (cents). */
  readonly amountMinor: number;
  readonly currency: string;
  /** A tokenized card, e.g. `tok_visa`. */
  readonly paymentToken: string;
}

/** The PSP's answer to an authorization. */
export type AuthorizeResult =
  | { readonly approved: true; readonly reference: string }
  | { readonly approved: false; readonly reason: string };

/**
 * What payment needs from a payment service provider (Stripe, Adyen...).
 *
 * Every call may be repeated: payment resumes an operation a crash or an error left unfinished, and
 * concurrent duplicates each make the call. Adapters must therefore be idempotent: `authorize` per
 * `orderId` on the provider side (Stripe's Idempotency-Key header: a repeat returns the same
 * authorization), `capture` and `void` per reference (a repeat of a done capture or void succeeds).
 */
export interface PaymentProvider {
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  capture(reference: string, amountMinor: number): Promise<void>;
  void(reference: string): Promise<void>;
}

/** Stripe-style test tokens and the decline each produces. */
const DECLINES: Record<string, string> = {
  tok_chargeDeclined: 'card_declined',
  tok_insufficientFunds: 'insufficient_funds',
};

/**
 * A built-in PSP that needs no network: `tok_visa` (and `tok_mastercard`) approve,
 * `tok_chargeDeclined` declines with `card_declined`, `tok_insufficientFunds` with `insufficient_funds`,
 * any other token with `invalid_token`. Idempotent like a real one: the reference is derived from the
 * orderId, so a repeated authorization returns the same one.
 *
 * @see https://docs.stripe.com/testing#cards
 */
export class SimulatorPsp implements PaymentProvider {
  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const decline = DECLINES[request.paymentToken];
    if (decline) return { approved: false, reason: decline };
    if (request.paymentToken === 'tok_visa' || request.paymentToken === 'tok_mastercard') {
      const digest = createHash('sha256').update(request.orderId).digest('hex');
      return { approved: true, reference: `sim_auth_${digest.slice(0, 24)}` };
    }
    return { approved: false, reason: 'invalid_token' };
  }

  async capture(): Promise<void> {}

  async void(): Promise<void> {}
}
