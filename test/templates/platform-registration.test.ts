import { diffLines } from 'diff';
import { describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';
import { ValidationErrors } from '../../model/validation-error.js';
import { registerService, spliceService } from '../../templates/platform-registration.js';
import type { ServiceAnswers } from '../../templates/service-answers.js';
import { FULL_ANSWERS } from './fixtures.js';

const platformYaml = PLATFORM_FIXTURE_YAML;

/** The full service, without its cache. */
const answers: ServiceAnswers = { ...FULL_ANSWERS, cache: 'none' };

describe('registerService', () => {
  test('adds the service and changes no existing line, comments included', () => {
    const { text, model } = registerService(platformYaml, answers);
    const removed = diffLines(platformYaml, text).filter((part) => part.removed);
    expect(removed).toEqual([]);
    expect(text).toContain('# Everything not migrated yet, and the rest of every weighted path, goes here.');
    const svc = model.service('review-digest');
    expect(svc).toMatchObject({
      owner: 'team-growth',
      database: 'postgres',
      cache: 'none',
      calls: ['review'],
    });
    expect(svc.routes).toEqual([{ path: '/api/review-digests', weight: 0, auth: 'customer' }]);
    expect(text).toContain('- { path: /api/review-digests, weight: 0 }');
  });

  test('rejects a call to a service the platform does not have', () => {
    expect(() => registerService(platformYaml, { ...answers, calls: ['reviews'] })).toThrow(ValidationErrors);
  });

  test('rejects a route another service owns', () => {
    expect(() => registerService(platformYaml, { ...answers, routes: ['/api/orders'] })).toThrow(
      /already used by service 'order'/,
    );
  });

  test('rejects a name Kubernetes refuses for a Service, positioned at the new entry', () => {
    expect(() => registerService(platformYaml, { ...answers, name: '1abc' })).toThrow(
      /^platform\.yaml:\d+:3: services\.1abc: name must be a DNS-1035 label, .*; try 'svc-1abc', got '1abc'$/,
    );
  });

  test('rejects a service that is already defined', () => {
    expect(() => registerService(platformYaml, { ...answers, name: 'order' })).toThrow(
      /service 'order' is already defined/,
    );
  });

  test("inserts after the last service when other keys follow, with the file's own indentation", () => {
    const text = [
      'platform: p',
      'services:',
      '    a:',
      '        owner: team-a',
      '    # b is next',
      '    b:',
      '        owner: team-b # trailing',
      'environments: {}',
      '',
    ].join('\n');
    expect(spliceService(text, answers)).toBe(
      [
        'platform: p',
        'services:',
        '    a:',
        '        owner: team-a',
        '    # b is next',
        '    b:',
        '        owner: team-b # trailing',
        '',
        '    # Scaffolded by aio new service: routes start at weight 0; move traffic with aio route.',
        '    review-digest:',
        '        owner: team-growth',
        '        port: 8080',
        '        database: postgres',
        '        calls: [review]',
        '        routes:',
        '          - { path: /api/review-digests, weight: 0 }',
        'environments: {}',
        '',
      ].join('\n'),
    );
  });
});
