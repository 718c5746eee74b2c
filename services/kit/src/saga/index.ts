// The saga API services use. The store, the writer, the worker and the step runner stay private.
export { participantCall, type ParticipantCallOptions, type ParticipantReply } from './participant-call.js';
export type { RetryPolicy } from './retry-policy.js';
export * from './saga-definition.js';
export * from './saga-engine.js';
export type { CreatedSaga, SagaHandle, SagaResultOptions } from './saga-handle.js';
export { registerSagaRoutes, type SagaRoutesOptions } from './saga-routes.js';
export {
  SAGA_SCHEMA_SQL,
  type SagaRecord,
  type SagaState,
  type SqlStatement,
  type StepRecord,
  type StepStatus,
} from './saga-schema.js';
export { SimulatedCrash, StepFailure, type StepFailureKind } from './step-failure.js';
