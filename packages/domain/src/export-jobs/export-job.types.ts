import type { PermissionGrant } from '../api-keys/permissions.js';
import type { InputParameters } from '../query/query.types.js';

/** The contract's export job statuses (§3.14). */
export type ExportJobStatus = 'started' | 'running' | 'success' | 'error';

/**
 * What a job produces: pictures (`pdf`, `png` and their dark variants), an Excel workbook, or the
 * unlimited CSV of a report.
 */
export const EXPORT_KINDS = ['pdf', 'png', 'dark_pdf', 'dark_png', 'excel', 'csv'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export type ExportTargetType = 'dashboard' | 'report';

/** The data one report of an export showed (reuse: "whose data is still current"). */
export interface ExportReportData {
  report_id: string;
  data_key: string | null;
  /** ISO time of the data, null when the report had none. */
  data_timestamp: string | null;
}

/** An export job (contract §3.14, plus what the worker needs). */
export interface ExportJob {
  id: string;
  organizationId: string;
  targetType: ExportTargetType;
  targetId: string;
  kind: ExportKind;
  parameters: InputParameters;
  parametersDigest: string;
  /** Render width in px (null: the dashboard's or report's default). */
  pageWidth: number | null;
  jobStatus: ExportJobStatus;
  errorMessage: string | null;
  apiKeyId: string | null;
  grants: PermissionGrant[];
  reportData: ExportReportData[];
  executionIds: string[];
  fileName: string | null;
  contentType: string | null;
  /** `gzip` when the stored chunks are a gzip stream of the file. */
  contentEncoding: 'gzip' | null;
  fileSize: number | null;
  chunkCount: number | null;
  cancelRequestedAt: Date | null;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

/** Row of `export_jobs`. */
export interface ExportJobRow {
  id: string;
  organization_id: string;
  target_type: ExportTargetType;
  target_id: string;
  kind: ExportKind;
  parameters: InputParameters;
  parameters_digest: string;
  page_width: number | null;
  job_status: ExportJobStatus;
  error_message: string | null;
  api_key_id: string | null;
  grants: PermissionGrant[];
  report_data: ExportReportData[];
  execution_ids: string[];
  file_name: string | null;
  content_type: string | null;
  content_encoding: 'gzip' | null;
  file_size: string | number | null;
  chunk_count: number | null;
  cancel_requested_at: Date | null;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  /** Liveness of a running job (refreshed by its worker). */
  heartbeat_at?: Date | null;
}

/** The job payload of the `exports.run` queue. */
export interface ExportJobMessage {
  exportJobId: string;
  organizationId: string;
}

/** Get Export Job's answer (contract row 88). */
export interface ExportJobStatusDocument {
  job_status: ExportJobStatus;
  file_url: string | null;
  error_message: string | null;
}

/** How long a job and its file are kept (the contract: files are short-lived; 24 h). */
export const EXPORT_RETENTION_HOURS = 24;
/** An unlimited CSV export starts at most once per this many minutes per report and parameters (§4.5). */
export const CSV_EXPORT_INTERVAL_MINUTES = 10;
/** Lifetime of a `file_url` in seconds (the contract: "valid for a short period of time"). */
export const EXPORT_URL_TTL_SECONDS = 15 * 60;
