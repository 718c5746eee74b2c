import { App, type Chart } from 'cdk8s';
import type { PlatformModel } from '../model/platform-model.js';
import { annotateApplyOrder, type KubeObject } from './apply-order.js';
import { GatewayChart } from './gateway-chart.js';
import { MeshChart } from './mesh-chart.js';
import { NetworkPolicyChart } from './network-policy-chart.js';
import { SecretStoreChart } from './secret-store-chart.js';
import { ServiceChart } from './service-chart.js';
import { ShadowComparerChart } from './shadow-comparer.js';
import { TracingChart } from './tracing-chart.js';

/** Options of {@link buildPlatformCharts}. */
export interface PlatformChartsOptions {
  /** The app to add the charts to. @default - a new `App` */
  readonly app?: App;
  /**
   * Include the TracingChart (Jaeger). Turn it off where another layer installs Jaeger with the
   * `jaeger-collector` Service in the tracing namespace.
   *
   * @default true
   */
  readonly tracing?: boolean;
}

/** Every chart of one environment. */
export interface PlatformCharts {
  readonly app: App;
  readonly secretStore: SecretStoreChart;
  /** One chart per service, by service name. */
  readonly services: ReadonlyMap<string, ServiceChart>;
  readonly mesh: MeshChart;
  /** Default-deny NetworkPolicies per service namespace, then the declared edges. */
  readonly network: NetworkPolicyChart;
  readonly gateway: GatewayChart;
  /** The shadow comparer, when some route has `shadow` above 0. */
  readonly shadowComparer?: ShadowComparerChart;
  /** Jaeger, unless turned off. */
  readonly tracing?: TracingChart;
  /** All of the above, in construction order. */
  readonly charts: readonly Chart[];
}

/**
 * Builds every chart of `envName` from the model, with Argo CD sync-wave annotations on every
 * object.
 */
export function buildPlatformCharts(
  model: PlatformModel,
  envName: string,
  options: PlatformChartsOptions = {},
): PlatformCharts {
  const app = options.app ?? new App();
  const secretStore = new SecretStoreChart(
    app,
    'secret-store',
    SecretStoreChart.propsFromModel(model, envName),
  );
  const services = new Map(
    model.services.map((s) => [
      s.name,
      new ServiceChart(app, s.name, ServiceChart.propsFromModel(model, envName, s.name)),
    ]),
  );
  const mesh = new MeshChart(app, 'mesh', MeshChart.propsFromModel(model));
  const network = new NetworkPolicyChart(app, 'network', NetworkPolicyChart.propsFromModel(model));
  const gateway = new GatewayChart(app, 'gateway', GatewayChart.propsFromModel(model, envName));
  const shadowProps = ShadowComparerChart.propsFromModel(model, envName);
  const shadowComparer = shadowProps && new ShadowComparerChart(app, 'shadow-compare', shadowProps);
  const tracing =
    options.tracing === false
      ? undefined
      : new TracingChart(app, 'tracing', TracingChart.propsFromModel(model, envName));
  annotateApplyOrder(app);
  return {
    app,
    secretStore,
    services,
    mesh,
    network,
    gateway,
    ...(shadowComparer ? { shadowComparer } : {}),
    tracing,
    charts: [
      secretStore,
      ...services.values(),
      mesh,
      network,
      gateway,
      ...(shadowComparer ? [shadowComparer] : []),
      ...(tracing ? [tracing] : []),
    ],
  };
}

/** Every object of `envName`, as plain JSON (cdk8s validation included). */
export function platformManifests(
  model: PlatformModel,
  envName: string,
  options: PlatformChartsOptions = {},
): KubeObject[] {
  return buildPlatformCharts(model, envName, options).charts.flatMap((c) => c.toJson() as KubeObject[]);
}
