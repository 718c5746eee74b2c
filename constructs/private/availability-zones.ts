import { ValidationError } from '../../model/index.js';

/**
 * Regions whose zone letters do not start at `a, b, c` in every account. Zone names are account
 * specific in a few old regions; these are the common mappings. Pass `availabilityZones` to
 * `PlatformNetwork` when your account differs.
 */
const ZONE_LETTERS: Readonly<Record<string, readonly string[]>> = {
  'ap-northeast-1': ['a', 'c', 'd'],
  'us-west-1': ['b', 'c'],
  'ca-central-1': ['a', 'b', 'd'],
};

/**
 * The availability zones of a region, resolved without a context lookup so that synthesis needs
 * no AWS credentials and never writes dummy zones into a template.
 */
export function availabilityZonesOf(region: string, count: number, where: string): string[] {
  const letters = ZONE_LETTERS[region] ?? ['a', 'b', 'c'];
  if (letters.length < count) {
    throw new ValidationError(
      `region '${region}' has only ${letters.length} availability zones; size 'ha' needs ${count}, use size 'small' or another region`,
      { path: where },
    );
  }
  return letters.slice(0, count).map((l) => `${region}${l}`);
}
