/** A DNS-1123 label: lowercase letters, digits and `-`, starting and ending alphanumeric. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The longest name aio accepts for services, environments and the platform. */
export const MAX_NAME_LENGTH = 40;

/** True when `name` is a DNS-1123 label of at most 40 characters. */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && DNS_LABEL.test(name);
}

/**
 * The closest valid name to `name`, to suggest in an error: `Order_Service` → `order-service`.
 *
 * Returns `undefined` when nothing usable is left (e.g. `___`).
 */
export function suggestName(name: string): string | undefined {
  const s = name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, MAX_NAME_LENGTH)
    .replace(/^-+|-+$/g, '');
  return s && isValidName(s) ? s : undefined;
}
