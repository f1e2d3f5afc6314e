import { detectSeparator, parseCsv } from '../../../functions/domain/files/csv';
import { DataError } from '../../../functions/domain/files/data-error';
import { detectColumnKind } from '../../../functions/domain/scoring/table';
import { tableFrom } from './datasets';

describe('parseCsv', () => {
  it('reads quoted fields with separators, doubled quotes and line breaks inside', () => {
    const csv = parseCsv('name,note,score\r\n"Smith, Jo","said ""hi""\nthen left",3\r\nLee,,4\n');
    expect(csv.header).toEqual(['name', 'note', 'score']);
    expect(csv.rows).toEqual([
      ['Smith, Jo', 'said "hi"\nthen left', '3'],
      ['Lee', '', '4'],
    ]);
    // The second row starts on line 4: the quoted line break counts.
    expect(csv.rowLines).toEqual([2, 4]);
  });

  it('uses the given separator, or detects it from the header line', () => {
    expect(parseCsv('a;b\n1;2', ';').rows).toEqual([['1', '2']]);
    expect(detectSeparator('age;job;"x,y";y\n1;2;3;4')).toBe(';');
    expect(detectSeparator('a\tb\n1\t2')).toBe('\t');
    expect(detectSeparator('single\n1')).toBe(',');
    expect(parseCsv('a;b\n1;2').header).toEqual(['a', 'b']);
  });

  it('strips a byte order mark and skips blank lines', () => {
    expect(parseCsv('\ufeffa,b\n\n1,2\n\n').rows).toEqual([['1', '2']]);
  });

  it.each([
    ['an empty file', '', /the file is empty/],
    ['whitespace only', '\n\n', /the file is empty/],
    ['a ragged row', 'a,b,c\n1,2,3\n4,5\n', /^line 3: expected 3 fields as in the header, found 2$/],
    ['a row too long', 'a,b\n1,2\n3,4\n5,6,7', /^line 4: expected 2 fields/],
    ['no header row', '1,2,3\n4,5,6\n', /^line 1: .*no header row/],
    ['a header only', 'a,b\n', /no data rows/],
    ['an unclosed quote', 'a,b\n1,"open\n2,3\n', /^line 2: a quoted field is not closed/],
    ['text after a closing quote', 'a,b\n"x"y,2\n', /^line 2: unexpected text after a closing quote/],
    ['a duplicate column', 'a,b,a\n1,2,3\n', /^line 1: .*names column "a" twice/],
    ['an unnamed column', 'a,,c\n1,2,3\n', /^line 1: column 2 of the header row has no name/],
  ])('rejects %s with a clear message', (_case, text, message) => {
    expect(() => parseCsv(text)).toThrow(DataError);
    expect(() => parseCsv(text)).toThrow(message);
  });
});

describe('labelled tables', () => {
  it('detects numeric and categorical columns, reading missing-value tokens as missing', () => {
    expect(detectColumnKind(['1', '2.5', '-3e2', '', 'NA', '?'])).toBe('numeric');
    expect(detectColumnKind(['1', 'two'])).toBe('categorical');
    expect(detectColumnKind(['TRUE', 'FALSE'])).toBe('categorical');
    expect(detectColumnKind(['', 'null', 'NaN'])).toBeUndefined();
  });

  it('splits label and features, drops columns on request and ignores empty ones with a warning', () => {
    const table = tableFrom(
      ['id', 'visits', 'plan', 'blank', 'bought'],
      [
        ['a', 3, 'gold', '', 1],
        ['b', 1, 'free', '', 0],
      ],
      '1',
      ['id'],
    );
    expect(table.featureNames).toEqual(['visits', 'plan']);
    expect(table.kinds).toEqual(['numeric', 'categorical']);
    expect(Array.from(table.labels)).toEqual([1, 0]);
    expect(table.ignoredColumns).toEqual(['id', 'blank']);
    expect(table.warnings).toEqual(['column "blank" has no value in any row: ignored']);
  });

  it('fails clearly when the label has a single class', () => {
    expect(() =>
      tableFrom(
        ['x', 'y'],
        [
          [1, 0],
          [2, 0],
        ],
      ),
    ).toThrow('the label column "y" has a single class: no row has the positive value "1" (values seen: "0")');
    expect(() =>
      tableFrom(
        ['x', 'y'],
        [
          [1, 'yes'],
          [2, 'yes'],
        ],
        'yes',
      ),
    ).toThrow(/single class: every row has the positive value "yes"/);
  });

  it('fails clearly on a missing label column, label value or dropped column', () => {
    expect(() => tableFrom(['x', 'y'], [[1, 0]], '1', ['nope'])).toThrow('cannot drop column "nope": it is not in the header');
    expect(() =>
      tableFrom(
        ['x', 'y'],
        [
          [1, 1],
          [2, ''],
        ],
      ),
    ).toThrow('line 3: the label column "y" has no value');
  });
});
