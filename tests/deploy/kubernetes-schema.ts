/**
 * The part of the Kubernetes API schema (v1.30 OpenAPI: apps/v1 Deployment, policy/v1
 * PodDisruptionBudget, v1 Service and ConfigMap) that deploy/kubernetes/ uses, written out by
 * hand: no package that ships the schemas could be installed here. Every object is strict, so
 * a misspelt or misplaced field fails as the API server's strict field validation would; types,
 * enums and patterns are the API's. Fields the manifests do not use are left out, not allowed.
 * The manifests were also checked once by hand against kubernetes-models 5.1.0 (the generated
 * validators of the full API schema): all valid.
 */
import { z } from 'zod';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const dnsSubdomain = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/).max(253);
const labelKey = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
const labelValue = z.string().regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/).max(63);
const labels = z.record(labelKey, labelValue);
const quantity = z.string().regex(/^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/);
const intOrString = z.union([z.number().int(), z.string().min(1)]);
const port = z.number().int().min(1).max(65535);
const int32 = z.number().int().min(-2147483648).max(2147483647);

const objectMeta = z.strictObject({ name: dnsSubdomain, namespace: dnsLabel.optional(), labels: labels.optional(), annotations: z.record(z.string(), z.string()).optional() });
const labelSelector = z.strictObject({ matchLabels: labels });

const keyRef = z.strictObject({ name: dnsSubdomain, key: z.string().regex(/^[-._a-zA-Z0-9]+$/), optional: z.boolean().optional() });
const envVar = z.strictObject({
  name: z.string().min(1),
  value: z.string().optional(),
  valueFrom: z.strictObject({ secretKeyRef: keyRef.optional(), configMapKeyRef: keyRef.optional() }).optional(),
});
const envFrom = z.strictObject({ configMapRef: z.strictObject({ name: dnsSubdomain, optional: z.boolean().optional() }).optional(), secretRef: z.strictObject({ name: dnsSubdomain, optional: z.boolean().optional() }).optional(), prefix: z.string().optional() });
const httpGet = z.strictObject({ path: z.string().startsWith('/'), port: intOrString, scheme: z.enum(['HTTP', 'HTTPS']).optional() });
const probe = z.strictObject({
  httpGet,
  initialDelaySeconds: int32.nonnegative().optional(),
  periodSeconds: int32.positive().optional(),
  timeoutSeconds: int32.positive().optional(),
  failureThreshold: int32.positive().optional(),
  successThreshold: int32.positive().optional(),
});
const containerPort = z.strictObject({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(15).optional(), containerPort: port, protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional() });
const resourceList = z.partialRecord(z.enum(['cpu', 'memory', 'ephemeral-storage']), quantity);
const resources = z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() });
const container = z.strictObject({
  name: dnsLabel,
  image: z.string().min(1),
  args: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(containerPort).optional(),
  env: z.array(envVar).optional(),
  envFrom: z.array(envFrom).optional(),
  volumeMounts: z.array(z.strictObject({ name: dnsLabel, mountPath: z.string().startsWith('/'), readOnly: z.boolean().optional() })).optional(),
  livenessProbe: probe.optional(),
  readinessProbe: probe.optional(),
  startupProbe: probe.optional(),
  lifecycle: z.strictObject({ preStop: z.strictObject({ exec: z.strictObject({ command: z.array(z.string()).min(1) }) }).optional() }).optional(),
  resources: resources.optional(),
  securityContext: z
    .strictObject({ allowPrivilegeEscalation: z.boolean().optional(), readOnlyRootFilesystem: z.boolean().optional(), capabilities: z.strictObject({ drop: z.array(z.string()).optional(), add: z.array(z.string()).optional() }).optional() })
    .optional(),
});
const volume = z.strictObject({
  name: dnsLabel,
  configMap: z.strictObject({ name: dnsSubdomain, optional: z.boolean().optional() }).optional(),
  emptyDir: z.strictObject({ medium: z.string().optional(), sizeLimit: quantity.optional() }).optional(),
});

const deployment = z.strictObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: objectMeta,
  spec: z.strictObject({
    replicas: int32.nonnegative(),
    selector: labelSelector,
    strategy: z.strictObject({ type: z.enum(['RollingUpdate', 'Recreate']), rollingUpdate: z.strictObject({ maxUnavailable: intOrString.optional(), maxSurge: intOrString.optional() }).optional() }).optional(),
    template: z.strictObject({
      metadata: z.strictObject({ labels: labels.optional(), annotations: z.record(z.string(), z.string()).optional() }),
      spec: z.strictObject({
        terminationGracePeriodSeconds: z.number().int().nonnegative().optional(),
        securityContext: z.strictObject({ runAsNonRoot: z.boolean().optional(), runAsUser: z.number().int().optional(), runAsGroup: z.number().int().optional(), fsGroup: z.number().int().optional() }).optional(),
        containers: z.array(container).min(1),
        volumes: z.array(volume).optional(),
      }),
    }),
  }),
});

const podDisruptionBudget = z.strictObject({
  apiVersion: z.literal('policy/v1'),
  kind: z.literal('PodDisruptionBudget'),
  metadata: objectMeta,
  spec: z.strictObject({ minAvailable: intOrString.optional(), maxUnavailable: intOrString.optional(), selector: labelSelector }),
});

const service = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: objectMeta,
  spec: z.strictObject({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
    selector: labels,
    ports: z.array(z.strictObject({ name: dnsLabel.optional(), port, targetPort: intOrString.optional(), protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional() })).min(1),
  }),
});

const configMap = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata: objectMeta,
  data: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/), z.string()),
});

/** The schema of a manifest by its kind; undefined for a kind deploy/kubernetes/ does not use. */
export const manifestSchemas: Readonly<Record<string, z.ZodType>> = { Deployment: deployment, PodDisruptionBudget: podDisruptionBudget, Service: service, ConfigMap: configMap };
