/**
 * Identity headers a client might send to act as customer `bob`: the names gateways, proxies and
 * test shortcuts have used for "the caller is". A service that takes the customer from the verified
 * token ignores every one of them, with a token (the token's customer acts) and without (401). The
 * kit's auth test and the order service's e2e test send the same set.
 */
export const SPOOFED_IDENTITY_HEADERS: Readonly<Record<string, string>> = {
  'x-customer-id': 'bob',
  'x-test-customer': 'bob',
  'x-user': 'bob',
  'x-forwarded-user': 'bob',
};
