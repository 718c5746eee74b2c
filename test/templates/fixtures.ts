import type { ServiceAnswers } from '../../templates/service-answers.js';

/** A service with everything: Postgres, Redis, a route and a peer. */
export const FULL_ANSWERS: ServiceAnswers = {
  name: 'review-digest',
  owner: 'team-growth',
  database: 'postgres',
  cache: 'redis',
  routes: ['/api/review-digests'],
  calls: ['review'],
  platform: 'allinone',
  platformRepo: 'allinone/platform',
  account: '111111111111',
  region: 'ap-northeast-2',
  registry: 'https://allinone-111111111111.d.codeartifact.ap-northeast-1.amazonaws.com/npm/npm/',
  issuer: 'https://login.example.com/',
  audience: 'allinone-shop',
  jwksUri: '',
};

/** The smallest service: no data stores, no routes, no peers, no platform. */
export const BARE_ANSWERS: ServiceAnswers = {
  name: 'notification-worker',
  owner: 'team-growth',
  database: 'none',
  cache: 'none',
  routes: [],
  calls: [],
  platform: 'allinone',
  platformRepo: 'allinone/platform',
  account: '000000000000',
  region: 'ap-northeast-2',
  registry: 'https://allinone-000000000000.d.codeartifact.ap-northeast-2.amazonaws.com/npm/npm/',
  issuer: 'cognito',
  audience: '',
  jwksUri: '',
};
