import { createHash } from 'node:crypto';

/** A message attribute as SQS's JSON protocol carries it (BinaryValue base64-encoded). */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export function md5Hex(value: string | Buffer): string {
  return createHash('md5').update(value).digest('hex');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * MD5OfMessageAttributes as SQS computes it (and the SDK checks it): attributes sorted by name,
 * each as length-prefixed name and data type, a transport byte (1 string, 2 binary) and the
 * length-prefixed value.
 */
export function md5OfMessageAttributes(attributes: Readonly<Record<string, MessageAttribute>>): string {
  const parts: Buffer[] = [];
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name] as MessageAttribute;
    const binary = attribute.DataType.startsWith('Binary');
    parts.push(lengthPrefixed(Buffer.from(name, 'utf8')), lengthPrefixed(Buffer.from(attribute.DataType, 'utf8')), Buffer.from([binary ? 2 : 1]));
    parts.push(lengthPrefixed(binary ? Buffer.from(attribute.BinaryValue ?? '', 'base64') : Buffer.from(attribute.StringValue ?? '', 'utf8')));
  }
  return md5Hex(Buffer.concat(parts));
}
