import { LuaScript } from '../lua-script.js';

/**
 * The entry's hash fields: `ver` the value's version, `val` its JSON (absent once invalidated), `neg`
 * 1 for a cached "not found", `exp` the logical expiry (ms since the epoch), `delta` how long the
 * load took (ms, for XFetch), `floor` the lowest version an invalidation still accepts, `gen` the
 * number of version-less invalidations. The key's own TTL is the logical TTL plus the grace period:
 * past `exp` the value is stale, kept only to stand in while the source fails.
 */
export const ENTRY_FIELDS = ['ver', 'val', 'neg', 'exp', 'delta', 'gen'] as const;

/**
 * Reads an entry and, when it is missing or past its logical expiry, takes the load lease if it is
 * free, in one round trip.
 *
 * KEYS: entry, lease. ARGV: token, leaseMs, nowMs. Returns `[ver, val, neg, exp, delta, gen, leased]`,
 * absent fields as nil and `leased` 1 when this caller now holds the lease.
 */
export const readScript = new LuaScript(
  'cache-read',
  `local f = redis.call('HMGET', KEYS[1], 'ver', 'val', 'neg', 'exp', 'delta', 'gen')
local leased = 0
if (not f[2] and not f[3]) or tonumber(f[4] or '0') <= tonumber(ARGV[3]) then
  if redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then leased = 1 end
end
return {f[1] or false, f[2] or false, f[3] or false, f[4] or false, f[5] or false, f[6] or false, leased}`,
);

/**
 * Writes a loaded value unless something newer is known, then gives back the lease it held.
 *
 * The compare closes the stale-set race (a slow loader writing an old row back after a change was
 * invalidated): the write is refused when the stored version is higher, when an invalidation named a
 * higher version (`floor`), or when a version-less invalidation happened after this loader read the
 * entry (`gen` moved). An equal version is rewritten (it extends the expiry).
 *
 * KEYS: entry, lease. ARGV: version, json ('' for not found), expMs, deltaMs, genSeen, keyTtlMs, token.
 * Returns 1 when written, 0 when refused.
 */
export const writeScript = new LuaScript(
  'cache-write',
  `local f = redis.call('HMGET', KEYS[1], 'ver', 'floor', 'gen')
local v = tonumber(ARGV[1])
local written = 0
if not ((f[1] and tonumber(f[1]) > v) or (f[2] and tonumber(f[2]) > v) or (f[3] or '0') ~= ARGV[5]) then
  if ARGV[2] == '' then
    redis.call('HDEL', KEYS[1], 'val')
    redis.call('HSET', KEYS[1], 'neg', '1')
  else
    redis.call('HDEL', KEYS[1], 'neg')
    redis.call('HSET', KEYS[1], 'val', ARGV[2])
  end
  redis.call('HSET', KEYS[1], 'ver', ARGV[1], 'exp', ARGV[3], 'delta', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  written = 1
end
if redis.call('GET', KEYS[2]) == ARGV[7] then redis.call('DEL', KEYS[2]) end
return written`,
);

/**
 * Invalidates an entry: its value is dropped (the next read loads), and what the invalidation knows
 * is kept so that no older value can be written back.
 *
 * With a version (a change feed's event), `floor` rises to it, and an entry already holding that
 * version or a newer one is left alone (a replayed event purges nothing). Without one, `gen` is
 * incremented, which refuses every write by a load that read the entry before. The key's TTL is
 * raised to at least `keyTtlMs` so the record outlives any load in flight.
 *
 * KEYS: entry. ARGV: version ('' for none), keyTtlMs. Returns 1 when the value was dropped, 0 when
 * the entry was already as new as the version.
 */
export const invalidateScript = new LuaScript(
  'cache-invalidate',
  `if ARGV[1] == '' then
  redis.call('HINCRBY', KEYS[1], 'gen', 1)
else
  local v = tonumber(ARGV[1])
  local f = redis.call('HMGET', KEYS[1], 'ver', 'floor', 'val', 'neg')
  if (f[3] or f[4]) and f[1] and tonumber(f[1]) >= v then return 0 end
  if not f[2] or tonumber(f[2]) < v then redis.call('HSET', KEYS[1], 'floor', ARGV[1]) end
end
redis.call('HDEL', KEYS[1], 'val', 'neg', 'exp')
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`,
);

/**
 * Gives back a lease this caller holds (compare and delete), after a load that failed.
 *
 * KEYS: lease. ARGV: token. Returns 1 when released.
 */
export const releaseScript = new LuaScript(
  'cache-release',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);
