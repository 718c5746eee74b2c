/**
 * XFetch, the probabilistic early refresh of Vattani, Chierichetti and Lowenstein ("Optimal
 * Probabilistic Cache Stampede Prevention", VLDB 2015): a fresh value is refreshed early when
 * `now - delta * beta * ln(random) >= expiry`, where `delta` is how long its load took.
 *
 * The chance rises as the expiry nears and with slower loads, so under steady traffic one request
 * (in expectation) refreshes a hot key shortly before it expires, and the key never goes cold.
 * `beta` > 1 refreshes earlier, < 1 later; 0 disables early refresh.
 *
 * @see https://www.vldb.org/pvldb/vol8/p886-vattani.pdf
 */
export function shouldRefreshEarly(
  nowMs: number,
  expiresAtMs: number,
  deltaMs: number,
  beta: number,
  random: () => number = Math.random,
): boolean {
  if (beta <= 0 || deltaMs <= 0) return false;
  // 1 - random() is in (0, 1], so the logarithm is finite.
  return nowMs - deltaMs * beta * Math.log(1 - random()) >= expiresAtMs;
}
