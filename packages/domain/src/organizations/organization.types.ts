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
