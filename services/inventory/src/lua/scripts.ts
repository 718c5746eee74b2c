import { LuaScript } from '@aio/kit';

// All scripts read the clock with TIME, so every replica of the service shares Redis's clock.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Refuses to act on an empty Redis: the epoch key is written with the counters (by the rebuild from
 * Postgres), so its absence means Redis lost its data and every missing key may be a lost one.
 * Checked only where a key is missing, so the hot path pays nothing for it.
 */
const NO_EPOCH = `return redis.error_reply('NO_EPOCH redis has no stock epoch: its data was lost and is being rebuilt')`;

/**
 * Reserves several SKUs all or nothing, once per order.
 *
 * KEYS: reservation, deadlines, epoch, sku1..skuN. ARGV: orderId, ttlMs, encodedItems, retentionSeconds,
 * qty1..qtyN (each SKU once, sorted: StockStore merges lines). Returns { status, expiresAt, rejected, fresh },
 * where `rejected` is the SKU's position (1-based) on a fresh rejection and its name on a replay, plus
 * the recorded encoded items on a replay (so the caller needs no second read). A SKU key without
 * `available` while the epoch is missing is an error reply `NO_EPOCH`.
 */
export const reserveScript = new LuaScript(
  'reserve',
  `local r = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'sku', 'items')
if r[1] then return {r[1], r[2] or '', r[3] or '', 0, r[4] or ''} end
local n = #KEYS - 3
local levels = {}
for i = 1, n do
  local l = redis.call('HMGET', KEYS[i + 3], 'available', 'reserved')
  if not l[1] and redis.call('EXISTS', KEYS[3]) == 0 then ${NO_EPOCH} end
  local avail = tonumber(l[1] or '0')
  if avail < tonumber(ARGV[4 + i]) then
    local sku = string.match(ARGV[3], '^' .. string.rep('[^,]*,', i - 1) .. '([^*]*)')
    redis.call('HSET', KEYS[1], 'status', 'REJECTED', 'reason', 'INSUFFICIENT_STOCK', 'sku', sku, 'items', ARGV[3])
    redis.call('EXPIRE', KEYS[1], ARGV[4])
    return {'REJECTED', '', sku, 1}
  end
  levels[i] = {avail, tonumber(l[2] or '0')}
end
for i = 1, n do
  local q = tonumber(ARGV[4 + i])
  redis.call('HSET', KEYS[i + 3], 'available', levels[i][1] - q, 'reserved', levels[i][2] + q)
end
${NOW}
local exp = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'status', 'RESERVED', 'expiresAt', exp, 'items', ARGV[3])
redis.call('ZADD', KEYS[2], exp, ARGV[1])
return {'RESERVED', exp, '', 1}`,
);

/**
 * Ends a reservation: COMMITTED (reserved → sold), RELEASED or EXPIRED (reserved → available).
 *
 * KEYS: reservation, deadlines, epoch, sku1..skuN. ARGV: orderId, encodedItems, retentionSeconds, target,
 * qty1..qtyN. A RESERVED record past its deadline is expired instead of committed. RELEASED on a missing
 * record writes a tombstone so a late reserve for that order is refused. EXPIRED only applies past the
 * deadline. A missing record while the epoch is missing is an error reply `NO_EPOCH`.
 * Returns { status, changed }; status STALE means `encodedItems` no longer matches: read again and retry.
 */
export const finishScript = new LuaScript(
  'finish',
  `local target = ARGV[4]
local r = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'items')
if not r[1] then
  if redis.call('EXISTS', KEYS[3]) == 0 then ${NO_EPOCH} end
  if target == 'RELEASED' and ARGV[2] == '' then
    redis.call('HSET', KEYS[1], 'status', 'RELEASED', 'items', '')
    redis.call('EXPIRE', KEYS[1], ARGV[3])
    return {'RELEASED', 1}
  end
  return {'NOT_FOUND', 0}
end
if r[1] ~= 'RESERVED' then return {r[1], 0} end
if r[3] ~= ARGV[2] then return {'STALE', 0} end
${NOW}
local expired = tonumber(r[2]) <= now
if target == 'EXPIRED' and not expired then return {'RESERVED', 0} end
if target == 'COMMITTED' and expired then target = 'EXPIRED' end
local n = #KEYS - 3
for i = 1, n do
  local q = tonumber(ARGV[4 + i])
  redis.call('HINCRBY', KEYS[i + 3], 'reserved', -q)
  if target == 'COMMITTED' then
    redis.call('HINCRBY', KEYS[i + 3], 'sold', q)
  else
    redis.call('HINCRBY', KEYS[i + 3], 'available', q)
  end
end
redis.call('HSET', KEYS[1], 'status', target)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {target, 1}`,
);

/**
 * Puts back a reservation record that Redis lost but Postgres has, so that a commit, release or expiry
 * acts on its items. Does nothing when the record exists.
 *
 * KEYS: reservation, deadlines, epoch. ARGV: orderId, status, encodedItems, expiresAt ('' for none),
 * reason, sku, retentionSeconds. Returns 1 when restored. Error reply `NO_EPOCH` on an empty Redis.
 */
export const restoreScript = new LuaScript(
  'restore',
  `if redis.call('EXISTS', KEYS[3]) == 0 then ${NO_EPOCH} end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'items', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'expiresAt', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[5], 'sku', ARGV[6]) end
if ARGV[2] == 'RESERVED' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
else
  redis.call('EXPIRE', KEYS[1], ARGV[7])
end
return 1`,
);

/**
 * Takes back a reservation that this service just decided afresh although Postgres already had the
 * order (Redis had lost its record): gives a RESERVED one's units back and deletes the record, so
 * that the durable one can be restored. Acts only while the record still holds `encodedItems`.
 *
 * KEYS: reservation, deadlines, sku1..skuN. ARGV: orderId, encodedItems, qty1..qtyN. Returns 1 when done.
 */
export const forgetScript = new LuaScript(
  'forget',
  `local r = redis.call('HMGET', KEYS[1], 'status', 'items')
if r[2] ~= ARGV[2] or (r[1] ~= 'RESERVED' and r[1] ~= 'REJECTED') then return 0 end
if r[1] == 'RESERVED' then
  for i = 1, #KEYS - 2 do
    local q = tonumber(ARGV[2 + i])
    redis.call('HINCRBY', KEYS[i + 2], 'reserved', -q)
    redis.call('HINCRBY', KEYS[i + 2], 'available', q)
  end
  redis.call('ZREM', KEYS[2], ARGV[1])
end
redis.call('DEL', KEYS[1])
return 1`,
);

/**
 * Sets a SKU's available units. KEYS: sku, epoch. ARGV: available. Returns { previous available, reserved,
 * sold }: the previous count so the ledger records a delta that commutes with concurrent reservations,
 * the others so the caller has the levels without another round trip. Error reply `NO_EPOCH` on an
 * empty Redis (the counters it would start from are lost, not zero).
 */
export const setStockScript = new LuaScript(
  'set-stock',
  `if redis.call('EXISTS', KEYS[2]) == 0 then ${NO_EPOCH} end
local l = redis.call('HMGET', KEYS[1], 'available', 'reserved', 'sold')
redis.call('HSET', KEYS[1], 'available', ARGV[1], 'reserved', l[2] or 0, 'sold', l[3] or 0)
return {tonumber(l[1] or '0'), tonumber(l[2] or '0'), tonumber(l[3] or '0')}`,
);

/** Every inventory script, for loading at start. */
export const allScripts = [reserveScript, finishScript, restoreScript, forgetScript, setStockScript];
