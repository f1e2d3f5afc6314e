import type { EmailTemplate } from '../journeys/journey-config';

/**
 * A deliberately small template language: `{{name}}` inserts a value, `{{traits.plan}}` a trait of
 * the profile, `{{name|fallback}}` the fallback text when the value is missing or empty, and
 * `{{#cart}}...{{/cart}}` repeats its body per cart line (whose fields are then in scope). In HTML
 * every inserted value is escaped, so a product name or trait can never inject markup.
 */
export interface CartLineView {
  readonly name: string;
  readonly quantity: number;
  readonly price: string;
  readonly productId: string;
}

export interface TemplateValues {
  readonly [name: string]: string | number | undefined;
}

export interface RenderInput {
  readonly values: TemplateValues;
  readonly cart: readonly CartLineView[];
}

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** Subjects are one header line: line breaks (header injection) become spaces. */
function singleLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

const SECTION = /\{\{#cart\}\}([\s\S]*?)\{\{\/cart\}\}/g;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)\s*(?:\|([^}]*))?\}\}/g;
/** `{{traits.<name>}}`: a template may name any trait; a profile without it gets the fallback. */
export const TRAIT_PLACEHOLDER_PREFIX = 'traits.';

function fill(template: string, values: TemplateValues, escapeValue: (value: string) => string): string {
  return template.replace(PLACEHOLDER, (_match, name: string, fallback: string | undefined) => {
    const value = values[name];
    const text = value === undefined ? '' : String(value);
    return escapeValue(text.trim() === '' ? (fallback?.trim() ?? '') : text);
  });
}

function renderPart(template: string, input: RenderInput, escapeValue: (value: string) => string): string {
  const withSections = template.replace(SECTION, (_match, body: string) =>
    input.cart
      .map((line) => fill(body, { ...input.values, name: line.name, quantity: line.quantity, price: line.price, productId: line.productId }, escapeValue))
      .join(''),
  );
  return fill(withSections, input.values, escapeValue);
}

/**
 * Placeholders of a template that are not among `allowed` (`traits.*` in `allowed` admits every
 * trait; cart line fields count only inside a `{{#cart}}` section, and only where `cartFields` are given): a template is checked when it is
 * configured, so a misspelt variable is refused then rather than rendering empty in a send.
 */
export function unknownPlaceholders(template: EmailTemplate, allowed: readonly string[], cartFields: readonly string[] = []): string[] {
  const unknown = new Set<string>();
  const collect = (text: string, names: readonly string[]): void => {
    for (const [, name] of text.matchAll(PLACEHOLDER)) {
      if (name !== undefined && !names.includes(name) && !(allowed.includes(`${TRAIT_PLACEHOLDER_PREFIX}*`) && name.startsWith(TRAIT_PLACEHOLDER_PREFIX)))
        unknown.add(name);
    }
  };
  for (const part of [template.subject, template.html, template.text]) {
    for (const [, body] of part.matchAll(SECTION)) {
      if (cartFields.length === 0) unknown.add('#cart');
      else collect(body ?? '', [...allowed, ...cartFields]);
    }
    collect(part.replace(SECTION, ''), allowed);
  }
  return [...unknown];
}

export function renderEmail(template: EmailTemplate, input: RenderInput): RenderedEmail {
  const asIs = (value: string): string => value;
  return {
    subject: singleLine(renderPart(template.subject, input, asIs)),
    html: renderPart(template.html, input, escapeHtml),
    text: renderPart(template.text, input, asIs),
  };
}

/** One plain-text template (an SMS) rendered like an email's text part: values inserted as they are. */
export function renderText(template: string, input: RenderInput): string {
  return renderPart(template, input, (value) => value);
}

/** A price for people: two decimals and the currency code when known. */
export function formatPrice(price: number | undefined, currency: string | undefined): string {
  if (price === undefined) return '';
  return `${price.toFixed(2)}${currency ? ` ${currency}` : ''}`;
}

/** A profile's text and number traits as template values (`traits.<name>`). */
export function traitValues(traits: Readonly<Record<string, { readonly value: unknown } | undefined>>): TemplateValues {
  const values: Record<string, string | number> = {};
  for (const [name, trait] of Object.entries(traits)) {
    const value = trait?.value;
    if (typeof value === 'string' || typeof value === 'number') values[`${TRAIT_PLACEHOLDER_PREFIX}${name}`] = value;
  }
  return values;
}

/** The placeholders a template may use, as a person reads them: `{{firstName}}, {{traits.<name>}}`. */
export function describePlaceholders(allowed: readonly string[]): string {
  return allowed.map((name) => `{{${name === `${TRAIT_PLACEHOLDER_PREFIX}*` ? `${TRAIT_PLACEHOLDER_PREFIX}<name>` : name}}}`).join(', ');
}
