// What the server hands the shared page (JSON in `<script type="application/json" id="sl-config">`).
// Types only: the server (src/shared-page) and the browser code both import this file.

/** One report box on the page. */
export interface ViewerReport {
  id: string;
  name: string;
  /** Show the name above the report. */
  showTitle: boolean;
  noDataMessage: string | null;
  /** The report's opaque chart settings (what the spec builder reads). */
  chartConfiguration: Record<string, unknown>;
}

/** Initial configuration of the page. No API key, no SQL, nothing of other dashboards. */
export interface ViewerConfig {
  dashboardId: string;
  /** Poll Dashboard Status for this page (`Authorization: Viewer <token>`). */
  statusUrl: string;
  /** Public base URL of the data server (result data with the data access tokens of the status). */
  dataBaseUrl: string;
  viewerToken: string;
  /** Keep polling (with `status_check_delay`) once everything is loaded. */
  automaticUpdate: boolean;
  colorScheme: string;
  /** Apply a changed control at once (otherwise on "Apply"). */
  applyImmediately: boolean;
  reports: ViewerReport[];
}

/** Response header carrying a renewed viewer token. */
export const VIEWER_TOKEN_HEADER = 'Sightline-Viewer-Token';

/** Rows of a result the page reads for one report (tables show fewer; charts draw these). */
export const REPORT_ROW_LIMIT = 5000;
/** Rows read for a SQL drop-down's options. */
export const OPTION_ROW_LIMIT = 10000;
