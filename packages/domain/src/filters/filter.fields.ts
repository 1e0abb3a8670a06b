import { z } from 'zod';
import { defineFields, f, nulFreeText } from '../fields/index.js';
import { AGGREGATION_OPTIONS, type AggregationOption } from '../query/query.types.js';
import { FILTER_CONTROL_TYPES, FILTER_VALUE_TYPES } from './filter.types.js';

const scalar = z.union([nulFreeText(10_000), z.number().finite(), z.boolean(), z.null()]);
const optionTexts = z.array(nulFreeText(10_000)).max(10_000);

/**
 * The `filters` resource (contract §3.8), one line per attribute: the domain type `Filter`, the row
 * mapping, the API attributes and request schemas, defaults and the backup form derive from it. The
 * kind-specific rules (which attributes a control type admits) are `checkFilter`'s.
 */
export const filterFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  displayName: f.text({ max: 500 }).nullable(),
  /** Name used in SQL (`{col=variable_name}`); unique per organization, case-sensitive. */
  variableName: f
    .text(
      z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"'),
    )
    .required(),
  controlType: f.enum(FILTER_CONTROL_TYPES).required(),
  valueType: f.enum(FILTER_VALUE_TYPES).required(),
  /** Manual drop-down option values (null for other types); read through Get Drop-Down Filter Options. */
  values: f.json(optionTexts).nullable().writeOnly({ backup: true }),
  /** Manual drop-down labels by position (a missing label falls back to the value). */
  valueNames: f.json(optionTexts).nullable().writeOnly({ backup: true }),
  /** SQL drop-downs: column 1 = value, optional column 2 = label (static with parent: column 3 = parent value). */
  sqlQuery: f.text({ max: 1_000_000 }).nullable(),
  /** SQL drop-downs only. */
  datasourceId: f.ref('datasources').nullable().optional(),
  /** Static SQL drop-downs only. */
  parentFilterId: f.ref('filters').nullable().optional(),
  /** Minutes; static: fixed re-run rate, dynamic: max age. Null = default. */
  dataRefreshRate: f.value(z.number().int().positive().max(525_600)).nullable(),
  defaultValues: f.json(z.array(scalar).max(10_000)).nullable(),
  required: f.boolean().default(false),
  dropdownValidate: f.boolean().default(false),
  relativeRangeEnabled: f.boolean().default(true),
  beforeRangeEnabled: f.boolean().default(true),
  afterRangeEnabled: f.boolean().default(true),
  fromToRangeEnabled: f.boolean().default(true),
  /** `date_time_aggregation` only. */
  allowedAggregations: f
    .json(z.array(z.enum(AGGREGATION_OPTIONS as readonly AggregationOption[] as [AggregationOption, ...AggregationOption[]])).max(10))
    .nullable(),
  /** SQL drop-downs: last successful options query / last error (set by the read path). */
  lastQuerySuccess: f.timestamp().nullable().readOnly().notInBackup(),
  lastQueryErrorMessage: f.text({ max: 100_000 }).nullable().readOnly().notInBackup(),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
  /** Snippets the filter's SQL uses (transitive closure; `filter_sql_snippets`); derived from `sql_query` unless given. */
  sqlSnippetIds: f.refs('sql_snippets'),
});
