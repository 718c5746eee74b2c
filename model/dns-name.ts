/** A DNS-1123 label: lowercase letters, digits and `-`, starting and ending alphanumeric. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A DNS-1035 label: like {@link DNS_LABEL}, but starting with a letter. Kubernetes requires it of
 * Service names, and every service becomes a Service (and a namespace, a Deployment, stacks).
 *
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#rfc-1035-label-names
 */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The longest name aio accepts for services, environments and the platform. */
export const MAX_NAME_LENGTH = 40;

/** Why a name is not a DNS-1123 label, in the field's terms. */
export const DNS_LABEL_MESSAGE =
  'must be a DNS-1123 label: lowercase letters, digits and -, starting and ending alphanumeric';

/** Why a name is not a service name, in the field's terms. */
export const SERVICE_NAME_MESSAGE =
  'must be a DNS-1035 label, as Kubernetes requires of a Service name: a lowercase letter first, then lowercase letters, digits and -, ending alphanumeric';

/** True when `name` is a DNS-1123 label of at most 40 characters. */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && DNS_LABEL.test(name);
}

/** True when `name` can name a service: a DNS-1035 label of at most 40 characters. */
export function isValidServiceName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && DNS_1035_LABEL.test(name);
}

/**
 * The closest valid name to `name`, to suggest in an error: `Order_Service` → `order-service`.
 * Accents are dropped (`café` → `cafe`).
 *
 * Returns `undefined` when nothing usable is left (e.g. `___`).
 */
export function suggestName(name: string): string | undefined {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_NAME_LENGTH)
    .replace(/-+$/, '');
  return s && isValidName(s) ? s : undefined;
}

/**
 * The closest valid service name to `name`: {@link suggestName}, and a name that starts with a
 * digit gets the prefix `svc-` (`1abc` → `svc-1abc`, `3d-viewer` → `svc-3d-viewer`), which keeps
 * the name's meaning where dropping the digits would not.
 */
export function suggestServiceName(name: string): string | undefined {
  const s = suggestName(name);
  if (s === undefined || DNS_1035_LABEL.test(s)) return s;
  const prefixed = `svc-${s}`.slice(0, MAX_NAME_LENGTH).replace(/-+$/, '');
  return isValidServiceName(prefixed) ? prefixed : undefined;
}
