import { LuaScript } from './lua-script.js';

// All scripts read the clock with TIME, so every replica of the service shares Redis's clock.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Reserves several SKUs all or nothing, once per order.
 *
 * KEYS: reservation, deadlines, sku1..skuN. ARGV: orderId, (unused), ttlMs, encodedItems, retentionSeconds,
 * qty1..qtyN, sku1..skuN (each SKU once: StockStore merges lines). Returns { status, expiresAt, rejectedSku, fresh },
 * plus the recorded encoded items on a replay (so the caller needs no second read).
 */
export const reserveScript = new LuaScript(
  'reserve',
  `${NOW}
local r = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'sku', 'items')
if r[1] then return {r[1], r[2] or '', r[3] or '', 0, r[4] or ''} end
local n = #KEYS - 2
local levels = {}
for i = 1, n do
  local l = redis.call('HMGET', KEYS[i + 2], 'available', 'reserved')
  local avail = tonumber(l[1] or '0')
  if avail < tonumber(ARGV[5 + i]) then
    local sku = ARGV[5 + n + i]
    redis.call('HSET', KEYS[1], 'status', 'REJECTED', 'reason', 'INSUFFICIENT_STOCK', 'sku', sku, 'items', ARGV[4])
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return {'REJECTED', '', sku, 1}
  end
  levels[i] = {avail, tonumber(l[2] or '0')}
end
for i = 1, n do
  local q = tonumber(ARGV[5 + i])
  redis.call('HSET', KEYS[i + 2], 'available', levels[i][1] - q, 'reserved', levels[i][2] + q)
end
local exp = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'status', 'RESERVED', 'expiresAt', exp, 'items', ARGV[4])
redis.call('ZADD', KEYS[2], exp, ARGV[1])
return {'RESERVED', tostring(exp), '', 1}`,
);

/**
 * Ends a reservation: COMMITTED (reserved → sold), RELEASED or EXPIRED (reserved → available).
 *
 * KEYS: reservation, deadlines, sku1..skuN. ARGV: orderId, encodedItems, retentionSeconds, target, qty1..qtyN.
 * A RESERVED record past its deadline is expired instead of committed. RELEASED on a missing record writes
 * a tombstone so a late reserve for that order is refused. EXPIRED only applies past the deadline.
 * Returns { status, changed }; status STALE means `encodedItems` no longer matches: read again and retry.
 */
export const finishScript = new LuaScript(
  'finish',
  `${NOW}
local target = ARGV[4]
local r = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'items')
if not r[1] then
  if target == 'RELEASED' and ARGV[2] == '' then
    redis.call('HSET', KEYS[1], 'status', 'RELEASED', 'items', '')
    redis.call('EXPIRE', KEYS[1], ARGV[3])
    return {'RELEASED', 1}
  end
  return {'NOT_FOUND', 0}
end
if r[1] ~= 'RESERVED' then return {r[1], 0} end
if r[3] ~= ARGV[2] then return {'STALE', 0} end
local expired = tonumber(r[2]) <= now
if target == 'EXPIRED' and not expired then return {'RESERVED', 0} end
if target == 'COMMITTED' and expired then target = 'EXPIRED' end
local n = #KEYS - 2
for i = 1, n do
  local q = tonumber(ARGV[4 + i])
  redis.call('HINCRBY', KEYS[i + 2], 'reserved', -q)
  if target == 'COMMITTED' then
    redis.call('HINCRBY', KEYS[i + 2], 'sold', q)
  else
    redis.call('HINCRBY', KEYS[i + 2], 'available', q)
  end
end
redis.call('HSET', KEYS[1], 'status', target)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {target, 1}`,
);

/**
 * Sets a SKU's available units. KEYS: sku. ARGV: available. Returns { previous available, reserved, sold }:
 * the previous count so the ledger records a delta that commutes with concurrent reservations, the
 * others so the caller has the levels without another round trip.
 */
export const setStockScript = new LuaScript(
  'set-stock',
  `local old = tonumber(redis.call('HGET', KEYS[1], 'available') or '0')
redis.call('HSET', KEYS[1], 'available', ARGV[1])
redis.call('HSETNX', KEYS[1], 'reserved', 0)
redis.call('HSETNX', KEYS[1], 'sold', 0)
local l = redis.call('HMGET', KEYS[1], 'reserved', 'sold')
return {old, tonumber(l[1]), tonumber(l[2])}`,
);

/** Every inventory script, for loading at start. */
export const allScripts = [reserveScript, finishScript, setStockScript];
