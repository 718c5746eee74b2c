import { describe, expect, test } from 'vitest';
import type { RouteRow } from '../../model/index.js';
import { PR_SUMMARY_MARKER, formatPrSummary, parseCdkDiff, routeShifts } from '../../pipelines/pr-summary.js';

const diffText = `Stack allinone-dev-network
There were no differences

Stack allinone-dev-svc-order
IAM Statement Changes
┌───┬──────────┐
│   │ Resource │
└───┴──────────┘
Resources
[+] AWS::SQS::Queue Dlq Dlq1A2B3C4D
[+] AWS::IAM::Policy Policy PolicyABCDEF
[~] AWS::RDS::DBCluster Database/Cluster DatabaseCluster5B53A178 replace
 └─ [~] DatabaseName (requires replacement)
     ├─ [-] order
     └─ [+] orders
[~] AWS::Lambda::Function Fn Fn9270CBC0
 └─ [~] MemorySize
[-] AWS::SNS::Topic Old OldTopic1234

Stack allinone-dev-cluster
Resources
[~] \u001b[36mAWS::EKS::Nodegroup\u001b[39m Nodes Nodes1234 may be replaced

✨  Number of stacks with differences: 2
`;

const row = (path: string, service: string | undefined, pct: number): RouteRow => ({
  path,
  service,
  servicePercent: pct,
  monolithPercent: 100 - pct,
});

describe('parseCdkDiff', () => {
  test('counts added, modified, removed and replaced resources per stack with differences', () => {
    expect(parseCdkDiff('dev', diffText)).toEqual([
      { env: 'dev', stack: 'allinone-dev-svc-order', added: 2, modified: 2, removed: 1, replaced: 1 },
      { env: 'dev', stack: 'allinone-dev-cluster', added: 0, modified: 1, removed: 0, replaced: 1 },
    ]);
  });

  test('returns nothing for a diff without changes', () => {
    expect(parseCdkDiff('prod', 'Stack a\nThere were no differences\n')).toEqual([]);
  });
});

describe('routeShifts', () => {
  test('lists changed, new and removed paths and ignores the catch-all', () => {
    const before = [
      row('/api/orders', 'order', 25),
      row('/api/stock', 'inventory', 100),
      row('/api/old', 'x', 10),
      row('/', undefined, 0),
    ];
    const after = [
      row('/api/orders', 'order', 50),
      row('/api/stock', 'inventory', 100),
      row('/api/reviews', 'review', 10),
      row('/', undefined, 0),
    ];
    expect(routeShifts(before, after)).toEqual([
      { path: '/api/old', service: 'x', before: 10, after: undefined },
      { path: '/api/orders', service: 'order', before: 25, after: 50 },
      { path: '/api/reviews', service: 'review', before: undefined, after: 10 },
    ]);
  });
});

describe('formatPrSummary', () => {
  test('renders one marked comment with resource and route tables', () => {
    const body = formatPrSummary(parseCdkDiff('dev', diffText), [
      { path: '/api/orders', service: 'order', before: 25, after: 50 },
    ]);
    expect(body.startsWith(PR_SUMMARY_MARKER)).toBe(true);
    expect(body).toContain('| dev | allinone-dev-svc-order | 2 | 2 | 1 | **1** ⚠️ |');
    expect(body).toContain('| /api/orders | order | 25% | 50% | 50% |');
    expect(body).toMatchInlineSnapshot(`
      "<!-- aio-pr-summary -->
      ### aio: what this pull request changes

      **Resources** (\`cdk diff\`)

      | env | stack | added | modified | removed | replaced |
      | --- | --- | --: | --: | --: | --: |
      | dev | allinone-dev-svc-order | 2 | 2 | 1 | **1** ⚠️ |
      | dev | allinone-dev-cluster | 0 | 1 | 0 | **1** ⚠️ |

      **Route weights** (\`aio routes\`, base → this branch)

      | path | service | before | after | monolith after |
      | --- | --- | --: | --: | --: |
      | /api/orders | order | 25% | 50% | 50% |
      "
    `);
  });

  test('says so when nothing changes', () => {
    const body = formatPrSummary([], []);
    expect(body).toContain('No resource changes in any environment.');
    expect(body).toContain('No route weights shifted.');
  });
});
