import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateFinding } from '../../synth/synth-step.js';
import { objectId, type KubeObject } from '../apply-order.js';
import { fieldPath, finding } from './findings.js';

// ajv-formats is CommonJS: under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** A kubernetes-models class: construct from JSON, `validate()` throws with ajv-style errors. */
interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: object): { validate(): void };
}

/** The API groups whose schemas the gate knows; any other kind is an error. */
const MODEL_MODULES = [
  'kubernetes-models/v1',
  'kubernetes-models/apps/v1',
  'kubernetes-models/autoscaling/v2',
  'kubernetes-models/policy/v1',
  'kubernetes-models/batch/v1',
  'kubernetes-models/networking.k8s.io/v1',
  'kubernetes-models/rbac.authorization.k8s.io/v1',
  '@kubernetes-models/istio/networking.istio.io/v1',
  '@kubernetes-models/istio/security.istio.io/v1',
  '@kubernetes-models/istio/telemetry.istio.io/v1',
  '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
  '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1',
  '@kubernetes-models/external-secrets/external-secrets.io/v1',
];

let registry: Promise<Map<string, ModelClass>> | undefined;
let kongValidator: ValidateFunction | undefined;
let kongConsumerValidator: ValidateFunction | undefined;

/** Loads the official models once per process (they are ESM-only: dynamic import). */
function loadRegistry(): Promise<Map<string, ModelClass>> {
  registry ??= Promise.all(MODEL_MODULES.map((m) => import(m) as Promise<Record<string, unknown>>)).then(
    (mods) => {
      const map = new Map<string, ModelClass>();
      for (const mod of mods) {
        for (const v of Object.values(mod)) {
          const cls = v as Partial<ModelClass>;
          if (typeof v === 'function' && cls.apiVersion && cls.kind)
            map.set(`${cls.apiVersion}/${cls.kind}`, v as ModelClass);
        }
      }
      return map;
    },
  );
  return registry;
}

/** The KongPlugin schema kept in the repo (source tree or installed package). */
export function kongPluginSchemaFile(schema = 'kong-plugin.schema.json'): string {
  const candidates = [`../schemas/${schema}`, `../../../charts/schemas/${schema}`];
  for (const c of candidates) {
    const file = fileURLToPath(new URL(c, import.meta.url));
    if (existsSync(file)) return file;
  }
  try {
    const pkg = createRequire(import.meta.url).resolve('@aio/platform/package.json');
    const file = join(dirname(pkg), 'charts', 'schemas', schema);
    if (existsSync(file)) return file;
  } catch {
    // not installed as a package: fall through to the error
  }
  throw new Error(`${schema} not found next to ${fileURLToPath(import.meta.url)}`);
}

function kongSchemaValidator(schema: string): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(kongPluginSchemaFile(schema), 'utf8')) as object);
}

function kongPluginValidator(): ValidateFunction {
  if (!kongValidator) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    kongValidator = ajv.compile(JSON.parse(readFileSync(kongPluginSchemaFile(), 'utf8')) as object);
  }
  return kongValidator;
}

interface AjvLikeError {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

function describe(e: AjvLikeError): { field: string; message: string } {
  const parts = (e.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const extra = e.params?.additionalProperty ? ` '${String(e.params.additionalProperty)}'` : '';
  return { field: fieldPath(parts) || '(root)', message: `${e.message ?? 'is invalid'}${extra}` };
}

/**
 * The schema gate: every object must validate against the official schema of its kind
 * (`kubernetes-models`, `@kubernetes-models/istio`, `gateway-api`, `external-secrets`), and
 * KongPlugins against the repo's schema. An object of a kind the gate does not know fails.
 * Each finding names `kind/namespace/name` and the field.
 */
export async function validateSchemas(objects: readonly KubeObject[]): Promise<GateFinding[]> {
  const models = await loadRegistry();
  const findings: GateFinding[] = [];
  for (const o of objects) {
    const id = objectId(o);
    if (
      o.apiVersion === 'configuration.konghq.com/v1' &&
      (o.kind === 'KongPlugin' || o.kind === 'KongClusterPlugin')
    ) {
      const validate = kongPluginValidator();
      if (!validate(o)) {
        for (const e of validate.errors ?? []) {
          const d = describe(e);
          findings.push(finding('k8s-schema', 'schema', `${id} ${d.field}`, d.message));
        }
      }
      continue;
    }
    if (o.apiVersion === 'configuration.konghq.com/v1' && o.kind === 'KongConsumer') {
      const validate = (kongConsumerValidator ??= kongSchemaValidator('kong-consumer.schema.json'));
      if (!validate(o)) {
        for (const e of validate.errors ?? []) {
          const d = describe(e);
          findings.push(finding('k8s-schema', 'schema', `${id} ${d.field}`, d.message));
        }
      }
      continue;
    }
    const Model = models.get(`${o.apiVersion}/${o.kind}`);
    if (!Model) {
      findings.push(
        finding(
          'k8s-schema',
          'unknown-kind',
          `${id} apiVersion`,
          `no schema for ${o.apiVersion} ${o.kind}; use a kind the gate knows or add its schema to charts/validation`,
        ),
      );
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      const errors = (err as { errors?: AjvLikeError[] }).errors ?? [{ message: (err as Error).message }];
      for (const e of errors) {
        const d = describe(e);
        findings.push(finding('k8s-schema', 'schema', `${id} ${d.field}`, d.message));
      }
    }
  }
  return findings;
}
