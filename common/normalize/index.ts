/**
 * `normalizeAlert(document)`: recognizes the four accepted formats (DESIGN.md §3) and returns the
 * canonical alert, or throws an AlertFormatError naming the field at fault.
 */
import { z } from 'zod';
import { CanonicalAlertSchema, type AlertSource, type CanonicalAlert } from '../alert';
import { ElasticDocumentSchema, elasticFieldOrigins, fromElastic } from './elastic';
import { AlertFormatError, problemsFromCanonical, problemsFromZod, type FieldOrigins } from './errors';
import { expandDottedKeys } from './fields';
import {
  Security4688Schema,
  SysmonProcessCreateSchema,
  fromSecurity4688,
  fromSysmon,
  security4688FieldOrigins,
  sysmonFieldOrigins,
} from './winlogbeat';

export { AlertFormatError } from './errors';
export type { FieldProblem } from './errors';

type Detected = AlertSource | undefined;

function isObject(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export function detectFormat(doc: Record<string, unknown>): Detected {
  const winlog = doc.winlog;
  if (isObject(winlog)) {
    // Only a string or number is an id: an object (`{"toString": 0}`) cannot even be made a string.
    const eventId = scalarText(winlog.event_id);
    if (eventId === '4688') return 'security-4688';
    if (eventId === '1' && /sysmon/i.test(scalarText(winlog.provider_name ?? winlog.channel) || 'sysmon'))
      return 'sysmon';
  }
  if (isObject(doc.process) || isObject(doc.kibana)) return 'elastic';
  if ('parent' in doc && 'child' in doc) return 'canonical';
  return undefined;
}

function parseWith<S extends z.ZodType>(schema: S, doc: unknown, format: string): z.output<S> {
  const result = schema.safeParse(doc);
  if (!result.success) throw new AlertFormatError(format, problemsFromZod(result.error));
  return result.data;
}

const FORMAT_LABELS: Record<AlertSource, string> = {
  canonical: 'canonical alert',
  elastic: 'Elastic Security alert / ECS process event',
  sysmon: 'Sysmon event 1 (Winlogbeat)',
  'security-4688': 'Security event 4688 (Winlogbeat)',
};

export function normalizeAlert(input: unknown): CanonicalAlert {
  if (!isObject(input)) {
    throw new AlertFormatError('alert', [{ field: '', message: 'must be a JSON object' }]);
  }
  const doc = expandDottedKeys(input) as Record<string, unknown>;
  const format = detectFormat(doc);
  if (!format) {
    throw new AlertFormatError('alert', [
      {
        field: '',
        message:
          'unrecognized format: expected a canonical alert (`parent`, `child`), an Elastic alert / ECS event (`process`, `process.parent`), or a Winlogbeat Sysmon 1 / Security 4688 event (`winlog.event_id`, `winlog.event_data`)',
      },
    ]);
  }
  const label = FORMAT_LABELS[format];
  let candidate: unknown;
  let origins: FieldOrigins = {};
  switch (format) {
    case 'canonical':
      candidate = { source: 'canonical', ...doc };
      break;
    case 'elastic': {
      const ecs = parseWith(ElasticDocumentSchema, doc, label);
      const partial = fromElastic(ecs);
      candidate = { ...partial, alertId: partial.alertId ?? derivedAlertId(partial) };
      origins = elasticFieldOrigins(ecs);
      break;
    }
    case 'sysmon': {
      const event = parseWith(SysmonProcessCreateSchema, doc, label);
      candidate = withElasticAlertFields(fromSysmon(event), doc);
      origins = { ...sysmonFieldOrigins(event), ...elasticAlertOrigins(doc) };
      break;
    }
    case 'security-4688': {
      const event = parseWith(Security4688Schema, doc, label);
      candidate = withElasticAlertFields(fromSecurity4688(event), doc);
      origins = { ...security4688FieldOrigins(event), ...elasticAlertOrigins(doc) };
      break;
    }
  }
  // The canonical schema is the last word for every format, so all alerts meet the same bounds;
  // its complaints name the field as the sender spelled it.
  const result = CanonicalAlertSchema.safeParse(candidate);
  if (!result.success) throw new AlertFormatError(label, problemsFromCanonical(result.error, origins));
  return result.data;
}

/**
 * An Elastic Security alert raised on a Winlogbeat event carries the whole event (`winlog.*`) beside
 * `kibana.alert.*`. The event's own fields describe the processes best (Sysmon gives the child's
 * start time, ECS from Winlogbeat does not); the alert's id, rule and severity are kept so the
 * incident is traceable to the Elastic alert.
 */
const ElasticAlertFieldsSchema = z.object({
  kibana: z.object({
    alert: z.object({
      uuid: z.string().min(1),
      rule: z
        .object({ name: z.string().min(1) })
        .partial()
        .optional(),
      severity: z.string().optional(),
    }),
  }),
});

function withElasticAlertFields(alert: CanonicalAlert, doc: Record<string, unknown>): CanonicalAlert {
  const parsed = ElasticAlertFieldsSchema.safeParse(doc);
  if (!parsed.success) return alert;
  const { uuid, rule, severity } = parsed.data.kibana.alert;
  const knownSeverity = CanonicalAlertSchema.shape.severity.safeParse(severity?.toLowerCase());
  return {
    ...alert,
    alertId: uuid,
    ruleName: rule?.name ?? alert.ruleName,
    ...(knownSeverity.success && knownSeverity.data ? { severity: knownSeverity.data } : {}),
  };
}

function elasticAlertOrigins(doc: Record<string, unknown>): FieldOrigins {
  return ElasticAlertFieldsSchema.safeParse(doc).success
    ? { alertId: 'kibana.alert.uuid', ruleName: 'kibana.alert.rule.name' }
    : {};
}

/** ECS events without an id get a stable one from what identifies them. */
function derivedAlertId(alert: Omit<CanonicalAlert, 'alertId'>): string {
  return `ecs-${alert.host.hostname}-${alert.child.pid}-${alert.child.startTime ?? alert.detectedAt}`;
}
