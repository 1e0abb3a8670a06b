import type { CsvOptions } from '../tokens/data-token.js';

/** An organization (tenant). Nothing of one organization is ever visible to another. */
export interface Organization {
  id: string;
  name: string;
  timeZone: string;
  /** Analyst (and admin) seats; null = unlimited. */
  analystSeats: number | null;
  csvColumnSeparator: string;
  csvDecimalSeparator: string;
  csvQuoteStyle: 'necessary' | 'always';
  createdAt: Date;
  updatedAt: Date;
}

export interface OrganizationRow {
  id: string;
  name: string;
  time_zone: string;
  analyst_seats: number | null;
  csv_column_separator: string;
  csv_decimal_separator: string;
  csv_quote_style: string;
  created_at: Date;
  updated_at: Date;
}

/**
 * The organization's CSV settings as encoder options (the one place the stored text becomes the
 * contract's separator types): unlimited CSV exports and mail attachments.
 */
export function csvOptionsOf(organization: Organization): CsvOptions {
  return {
    columnSeparator: organization.csvColumnSeparator as CsvOptions['columnSeparator'],
    decimalSeparator: organization.csvDecimalSeparator as CsvOptions['decimalSeparator'],
    quoteStyle: organization.csvQuoteStyle,
  };
}
