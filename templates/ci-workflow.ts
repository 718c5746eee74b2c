import { renderWorkflow } from '../pipelines/workflow.js';
import { serviceWorkflow } from '../pipelines/service-workflow.js';
import type { ServiceAnswers } from './service-answers.js';

/**
 * The generated repo's `.github/workflows/ci.yml`.
 *
 * It comes from the same building blocks as the platform repo's own workflows
 * (`pipelines/service-workflow.ts`), so the two cannot drift: a pinned-action upgrade there reaches
 * every service at its next `aio update`.
 */
export function renderCiWorkflow(answers: ServiceAnswers): string {
  const workflow = serviceWorkflow({
    service: answers.name,
    platform: answers.platform,
    account: answers.account,
    region: answers.region,
    platformRepo: answers.platformRepo,
    postgres: answers.database === 'postgres',
    redis: answers.cache === 'redis',
    registry: answers.registry,
  });
  return renderWorkflow(workflow, { regenerate: 'aio update --write' });
}
