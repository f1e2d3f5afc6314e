import type { ComponentChildren } from 'preact';
import { TableScroll } from './common';

export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => ComponentChildren;
}

/**
 * A table of rows in a sideways-scrolling region: the first column heads each row (a screen
 * reader names a cell by it), `empty` is said when there is no row (without it, the table shows
 * its header alone). Rows carry their key (`data-row`) for tests.
 */
export function DataTable<Row>(props: {
  readonly label: string;
  readonly caption?: ComponentChildren;
  readonly rows: readonly Row[];
  readonly rowKey: (row: Row) => string;
  readonly columns: readonly [Column<Row>, ...Column<Row>[]];
  readonly empty?: string;
}) {
  const [head, ...rest] = props.columns;
  if (props.rows.length === 0 && props.empty !== undefined) return <p class="muted">{props.empty}</p>;
  return (
    <TableScroll label={props.label}>
      <table>
        {props.caption !== undefined && <caption>{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th key={column.header} scope="col">
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)} data-row={props.rowKey(row)}>
              <th scope="row">{head.cell(row)}</th>
              {rest.map((column) => (
                <td key={column.header}>{column.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
